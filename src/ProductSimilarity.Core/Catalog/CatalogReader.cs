using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text;
using ProductSimilarity.Core.Ingestion;

namespace ProductSimilarity.Core.Catalog;

/// <summary>Catalog file formats.</summary>
public enum CatalogFormat
{
    /// <summary>Delimited text with a header row: <c>.csv</c>, <c>.tsv</c>, <c>.txt</c> (delimiter detected).</summary>
    Csv,

    /// <summary>One JSON object per line.</summary>
    JsonLines,

    /// <summary>A Google Merchant Center RSS 2.0 or Atom feed (<c>.xml</c>), streamed.</summary>
    Xml,

    /// <summary>An Excel workbook (<c>.xlsx</c>), streamed row by row.</summary>
    Xlsx,
}

/// <summary>
/// Streams products out of a CSV or JSON Lines catalog (optionally gzip-compressed), rejecting bad rows with
/// their line and field while keeping every good row.
/// </summary>
/// <remarks>
/// <para>Stateless between calls; thread-safe. Each <see cref="ReadAsync(Stream, string, CatalogReadOptions, CancellationToken)"/> keeps only the set of ids seen so far.</para>
/// <para>
/// Input is decoded as UTF-8 (or the encoding a byte order mark names: UTF-16 LE/BE, UTF-32) with replacement: a row
/// with an invalid byte sequence in a field is rejected naming that field ("invalid UTF-8"); the other rows are kept.
/// A file without a byte order mark that is clearly GBK/GB18030 is refused as a whole with one message, unless
/// <see cref="CatalogReadOptions.Encoding"/> names its encoding; gzip input is bounded by
/// <see cref="CatalogReadOptions.MaxDecompressedBytes"/> and refused when truncated.
/// </para>
/// <para>
/// Fields: <c>id</c> and <c>title</c> are required (title may be blank on a row marked <c>deleted</c>, since it only
/// removes the product); <c>description</c>, <c>brand</c>, <c>category</c>, <c>price</c>, <c>currency</c>,
/// <c>in_stock</c>, <c>group_id</c>, <c>image_url</c>, <c>source</c> and <c>deleted</c> are optional; names match
/// ignoring case, with <c>-</c> or a space for <c>_</c>, and a few aliases (<c>name</c>, <c>product_name</c>,
/// <c>product_id</c>, <c>manufacturer</c>, <c>instock</c>, <c>item_group_id</c>, <c>image</c>, <c>image_link</c>,
/// <c>is_deleted</c>). Every other column or property becomes an attribute (blank values left out). Prices use the
/// invariant culture and may start with <c>$ € £ ¥ ￥</c>; negative prices are rejected. Booleans accept
/// true/false, yes/no, y/n and 1/0 in any case. Ids are unique within a file: a repeated id is rejected naming the
/// line of the first one.
/// </para>
/// <para>
/// CSV: see <see cref="CsvRecordScanner"/> for how broken quotes are detected and how reading re-synchronises at the
/// next physical line, so that the good rows after a broken quote are kept. Well-formed records are unescaped field
/// by field straight from the scanner's buffer, in the same pass.
/// </para>
/// </remarks>
public sealed class CatalogReader
{
    /// <summary>Longest raw field accepted by default, in characters (<see cref="CatalogReadOptions.MaxFieldLength"/>); longer fields reject their row without being kept in memory.</summary>
    public const int MaxRawFieldLength = CatalogReadOptions.DefaultMaxFieldLength;

    /// <summary>Longest raw row (CSV record or JSON line) accepted, in characters.</summary>
    public const int MaxRawRowLength = 4_000_000;

    private const int StreamBufferSize = 64 * 1024;

    /// <summary>
    /// Detects the format (and compression) from a file or blob name: <c>.csv</c>/<c>.tsv</c>/<c>.txt</c>,
    /// <c>.jsonl</c>/<c>.ndjson</c>/<c>.json</c> and <c>.xml</c>, each optionally <c>.gz</c>; <c>.xlsx</c>.
    /// </summary>
    /// <exception cref="CatalogFormatException">The extension is not recognised.</exception>
    public static (CatalogFormat Format, bool Gzip) DetectFormat(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        var name = Path.GetFileName(fileName.AsSpan().Trim());
        var gzip = name.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
        if (gzip)
        {
            name = name[..^3];
        }

        var extension = Path.GetExtension(name);
        if (extension.Equals(".csv", StringComparison.OrdinalIgnoreCase)
            || extension.Equals(".tsv", StringComparison.OrdinalIgnoreCase)
            || extension.Equals(".txt", StringComparison.OrdinalIgnoreCase))
        {
            return (CatalogFormat.Csv, gzip);
        }

        if (extension.Equals(".xml", StringComparison.OrdinalIgnoreCase))
        {
            return (CatalogFormat.Xml, gzip);
        }

        if (extension.Equals(".xlsx", StringComparison.OrdinalIgnoreCase) && !gzip)
        {
            return (CatalogFormat.Xlsx, false);
        }

        if (extension.Equals(".jsonl", StringComparison.OrdinalIgnoreCase)
            || extension.Equals(".ndjson", StringComparison.OrdinalIgnoreCase)
            || extension.Equals(".json", StringComparison.OrdinalIgnoreCase))
        {
            return (CatalogFormat.JsonLines, gzip);
        }

        throw new CatalogFormatException(fileName, 0,
            "unrecognised catalog format; expected a .csv, .tsv, .txt, .jsonl, .ndjson, .json or .xml file, optionally gzip-compressed (.gz), or an .xlsx workbook");
    }

    /// <summary>Reads rows from <paramref name="stream"/>; the name is used for format detection and in errors.</summary>
    /// <remarks>
    /// The stream is read forward once, never buffered whole, and left open. The format is checked when this method is
    /// called; everything else when the rows are enumerated.
    /// </remarks>
    /// <exception cref="CatalogFormatException">The file as a whole cannot be read (empty, no header, no id/title column).</exception>
    public IAsyncEnumerable<CatalogRow> ReadAsync(Stream stream, string fileName, CancellationToken cancellationToken = default) =>
        ReadAsync(stream, fileName, CatalogReadOptions.Default, cancellationToken);

    /// <summary>Reads rows from <paramref name="stream"/> with <paramref name="options"/> (platform, column map, delimiter, culture, sheet).</summary>
    /// <remarks>
    /// As <see cref="ReadAsync(Stream, string, CancellationToken)"/>. An <c>.xlsx</c> workbook is a zip archive: a
    /// stream that cannot seek is first copied to a temporary file.
    /// </remarks>
    /// <exception cref="CatalogFormatException">The file as a whole cannot be read (empty, no header, no id/title column).</exception>
    public IAsyncEnumerable<CatalogRow> ReadAsync(Stream stream, string fileName, CatalogReadOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(options);
        var (format, gzip) = DetectFormat(fileName);
        if (options.Encoding is { Length: > 0 } encoding)
        {
            _ = CatalogTextDecoding.Resolve(encoding, fileName); // an unknown name fails here, before any row
        }

        // The size limit: a file that says its length is refused before any row; one that does not (a network stream)
        // is refused when it has delivered more.
        if (stream.CanSeek && stream.Length - stream.Position > options.MaxFileBytes)
        {
            throw TooLarge(fileName, stream.Length - stream.Position, options.MaxFileBytes);
        }

        var input = stream.CanSeek ? stream : new CountingStream(stream, options.MaxFileBytes, () => TooLarge(fileName, null, options.MaxFileBytes));
        return LimitRowsAsync(ReadCoreAsync(input, fileName, format, gzip, options, cancellationToken), fileName, options.MaxRows, cancellationToken);
    }

    private static CatalogFormatException TooLarge(string fileName, long? size, long limit) => new(
        fileName,
        0,
        size is { } bytes
            ? FormattableString.Invariant($"the file is {bytes:N0} bytes; the limit is {limit:N0} (ProductSimilarity:Ingestion:MaxFileBytes); the file was refused")
            : FormattableString.Invariant($"the file is larger than {limit:N0} bytes (ProductSimilarity:Ingestion:MaxFileBytes); the file was refused"));

    /// <summary>Stops a catalog at <paramref name="maxRows"/> rows: the rows before stay read, and the error says where it stopped.</summary>
    private static async IAsyncEnumerable<CatalogRow> LimitRowsAsync(
        IAsyncEnumerable<CatalogRow> rows, string fileName, long maxRows, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long count = 0;
        await foreach (var row in rows.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (++count > maxRows)
            {
                throw new CatalogFormatException(fileName, 0, FormattableString.Invariant(
                    $"the catalog has more than {maxRows:N0} rows (ProductSimilarity:Ingestion:MaxRows); the first {maxRows:N0} were read and the rest were not"));
            }

            yield return row;
        }
    }

    private static async IAsyncEnumerable<CatalogRow> ReadCoreAsync(
        Stream stream, string fileName, CatalogFormat format, bool gzip, CatalogReadOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (format == CatalogFormat.Xlsx)
        {
            await foreach (var row in XlsxCatalogParser.ReadAsync(stream, fileName, options, cancellationToken).ConfigureAwait(false))
            {
                yield return row;
            }

            yield break;
        }

        var gzipStream = gzip ? CatalogTextDecoding.OpenGzip(stream, options.MaxDecompressedBytes, fileName) : null;
        var input = gzipStream ?? stream;
        try
        {
            if (format == CatalogFormat.Xml)
            {
                await foreach (var row in XmlFeedParser.ReadAsync(input, fileName, options, cancellationToken).ConfigureAwait(false))
                {
                    yield return row;
                }

                yield break;
            }

            var (decoded, encoding) = await CatalogTextDecoding.PrepareAsync(input, fileName, options, cancellationToken).ConfigureAwait(false);
            using var text = new StreamReader(
                decoded,
                encoding,
                detectEncodingFromByteOrderMarks: true,
                bufferSize: StreamBufferSize,
                leaveOpen: true);
            var source = new CatalogCharSource(text, fileName);
            var name = fileName.Trim();
            var tsv = (gzip ? name[..^3] : name).EndsWith(".tsv", StringComparison.OrdinalIgnoreCase);
            var rows = format == CatalogFormat.Csv
                ? CsvCatalogParser.ReadAsync(source, fileName, options, tsv ? '\t' : null, cancellationToken)
                : JsonLinesCatalogParser.ReadAsync(source, fileName, options, cancellationToken);
            await foreach (var row in rows.ConfigureAwait(false))
            {
                yield return row;
            }
        }
        finally
        {
            if (gzipStream is not null)
            {
                await gzipStream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
