namespace ProductSimilarity.Core.Catalog;

/// <summary>Catalog file formats.</summary>
public enum CatalogFormat
{
    /// <summary>Comma-separated values with a header row.</summary>
    Csv,

    /// <summary>One JSON object per line.</summary>
    JsonLines,
}

/// <summary>
/// Streams products out of a CSV or JSON Lines catalog (optionally gzip-compressed), rejecting bad rows with
/// their line and field while keeping every good row.
/// </summary>
/// <remarks>Stateless between calls; thread-safe. Each <see cref="ReadAsync"/> keeps only the set of ids seen so far.</remarks>
public sealed class CatalogReader
{
    /// <summary>Detects the format (and compression) from a file or blob name: <c>.csv</c>, <c>.jsonl</c>/<c>.ndjson</c>/<c>.json</c>, each optionally <c>.gz</c>.</summary>
    /// <exception cref="CatalogFormatException">The extension is not recognised.</exception>
    public static (CatalogFormat Format, bool Gzip) DetectFormat(string fileName) => throw new NotImplementedException();

    /// <summary>Reads rows from <paramref name="stream"/>; the name is used for format detection and in errors.</summary>
    /// <exception cref="CatalogFormatException">The file as a whole cannot be read (empty, no header, no id/title column).</exception>
    public IAsyncEnumerable<CatalogRow> ReadAsync(Stream stream, string fileName, CancellationToken cancellationToken = default)
        => throw new NotImplementedException();
}
