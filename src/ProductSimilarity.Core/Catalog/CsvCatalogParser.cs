using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using nietras.SeparatedValues;

namespace ProductSimilarity.Core.Catalog;

/// <summary>
/// Reads a CSV catalog: <see cref="CsvRecordScanner"/> finds the records (line numbers, broken quotes, limits), Sep
/// splits and unescapes the well-formed ones in chunks, and <see cref="ProductRowBuilder"/> validates them.
/// </summary>
/// <remarks>Stateless; thread-safe. Each read holds one chunk of at most 512 records or about 1 M characters.</remarks>
internal static class CsvCatalogParser
{
    private static readonly SepReaderOptions SepOptions = Sep.New(',').Reader(o => o with
    {
        HasHeader = false,
        Unescape = true,
        Trim = SepTrim.Outer,
        DisableColCountCheck = true,
        CultureInfo = CultureInfo.InvariantCulture,
    });

    public static async IAsyncEnumerable<CatalogRow> ReadAsync(
        CatalogCharSource source, string file, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var scanner = new CsvRecordScanner(source, CatalogReader.MaxRawFieldLength, CatalogReader.MaxRawRowLength);
        if (!await scanner.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new CatalogFormatException(file, 0, "file is empty");
        }

        var header = CsvHeader.Parse(scanner, file);
        scanner.ExpectedColumns = header.Count;
        scanner.IdColumn = header.IdColumn;
        var builder = new ProductRowBuilder(file);
        var chunk = new CsvChunk(header, builder);
        while (await scanner.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (scanner.Problem != CsvProblem.None || scanner.ColumnCount != header.Count)
            {
                // Rows come out in file order: what is queued goes first.
                foreach (var row in chunk.Flush())
                {
                    yield return row;
                }

                yield return header.Describe(scanner, builder);
                continue;
            }

            chunk.Add(scanner.StartLine, scanner.Content);
            if (chunk.IsFull)
            {
                foreach (var row in chunk.Flush())
                {
                    yield return row;
                }
            }
        }

        foreach (var row in chunk.Flush())
        {
            yield return row;
        }
    }

    /// <summary>Splits one well-formed record (the header) with Sep.</summary>
    internal static string[] SplitRecord(ReadOnlySpan<char> content)
    {
        using var reader = SepOptions.FromText(string.Concat(content, "\n"));
        foreach (var row in reader)
        {
            var cols = new string[row.ColCount];
            for (var i = 0; i < cols.Length; i++)
            {
                cols[i] = row[i].ToString();
            }

            return cols;
        }

        return [];
    }

    /// <summary>The header row: column names and what each maps to.</summary>
    private sealed class CsvHeader
    {
        private readonly string[] names;
        private readonly CatalogField?[] roles;

        private CsvHeader(string[] names, CatalogField?[] roles)
        {
            this.names = names;
            this.roles = roles;
            IdColumn = Array.IndexOf(roles, CatalogField.Id);
        }

        public int Count => names.Length;

        public int IdColumn { get; }

        public CatalogField? RoleAt(int column) => roles[column];

        /// <summary>The name used in errors and as the attribute key: the canonical name for known fields, else the header text.</summary>
        public string NameAt(int column) =>
            column >= names.Length ? FormattableString.Invariant($"column {column + 1}")
            : roles[column] is { } field ? CatalogFields.NameOf(field)
            : names[column];

        public static CsvHeader Parse(CsvRecordScanner scanner, string file)
        {
            var line = scanner.StartLine;
            if (scanner.Problem != CsvProblem.None)
            {
                throw new CatalogFormatException(file, line, "the header row is malformed: " + scanner.Problem switch
                {
                    CsvProblem.FieldTooLong or CsvProblem.RowTooLong => "it is too long",
                    _ => "it has an unterminated or stray quote",
                });
            }

            var names = SplitRecord(scanner.Content);
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < names.Length; i++)
            {
                var name = names[i].Trim();
                if (name.Contains('\uFFFD', StringComparison.Ordinal))
                {
                    throw new CatalogFormatException(file, line, FormattableString.Invariant($"the header row has invalid UTF-8 in column {i + 1}"));
                }

                if (name.Length == 0)
                {
                    name = FormattableString.Invariant($"column {i + 1}");
                }

                if (!seen.Add(name))
                {
                    throw new CatalogFormatException(file, line, $"the header row has the column '{name}' twice");
                }

                names[i] = name;
            }

            var roles = CatalogFields.Resolve(names);
            var hasId = Array.IndexOf(roles, CatalogField.Id) >= 0;
            var hasTitle = Array.IndexOf(roles, CatalogField.Title) >= 0;
            if (!hasId || !hasTitle)
            {
                var missing = !hasId && !hasTitle ? "'id' or 'title'" : !hasId ? "'id'" : "'title'";
                var found = ProductRowBuilder.Shorten(string.Join(", ", names));
                throw new CatalogFormatException(file, line, $"the header row has no {missing} column (found: {found})");
            }

            return new CsvHeader(names, roles);
        }

        /// <summary>Turns a record the scanner rejected into a row error.</summary>
        public CatalogRow Describe(CsvRecordScanner scanner, ProductRowBuilder builder)
        {
            var line = scanner.StartLine;
            var id = scanner.TryGetId();
            var column = scanner.ProblemColumn;
            var field = column >= 0 ? NameAt(column) : null;
            var max = CatalogReader.MaxRawFieldLength;
            return scanner.Problem switch
            {
                CsvProblem.StrayQuote => builder.Error(line, field,
                    "unexpected '\"' inside an unquoted field; quote the whole field and double the quotes inside it", id),
                CsvProblem.TextAfterQuote => builder.Error(line, field, "unexpected text after the closing quote of a quoted field", id),
                CsvProblem.UnterminatedQuote => builder.Error(line, field, "quoted field is not closed before the end of the file", id),
                CsvProblem.BrokenQuote => builder.Error(line, field, FormattableString.Invariant(
                    $"quoted field starting on this line is not closed properly (unterminated or stray quote); the row was skipped and reading resumed at line {line + 1}"), id),
                CsvProblem.FieldTooLong => builder.Error(line, field, scanner.ProblemQuoteLeftOpen
                    ? FormattableString.Invariant($"field is at least {scanner.ProblemLength:N0} characters long and its quote is not closed on this line; the limit is {max:N0}")
                    : FormattableString.Invariant($"field is {scanner.ProblemLength:N0} characters long; the limit is {max:N0}"), id),
                CsvProblem.RowTooLong => builder.Error(line, null, FormattableString.Invariant(
                    $"row is {scanner.ProblemLength:N0} characters long; the limit is {CatalogReader.MaxRawRowLength:N0}"), id),
                _ => builder.Error(line, scanner.ColumnCount < Count ? NameAt(scanner.ColumnCount) : null, FormattableString.Invariant(
                    $"row has {scanner.ColumnCount} columns but the header has {Count}"), id),
            };
        }
    }

    /// <summary>Well-formed records waiting to be split by Sep, with their line numbers.</summary>
    private sealed class CsvChunk(CsvHeader header, ProductRowBuilder builder)
    {
        private const int MaxRows = 512;
        private const int MaxChars = 1 << 20;

        private readonly StringBuilder text = new();
        private readonly List<long> lines = [];
        private readonly List<CatalogRow> output = [];
        private readonly RawRow raw = new();

        public bool IsFull => lines.Count >= MaxRows || text.Length >= MaxChars;

        public void Add(long line, ReadOnlySpan<char> content)
        {
            text.Append(content).Append('\n');
            lines.Add(line);
        }

        /// <summary>Parses the queued records. The list returned is reused by the next call.</summary>
        public List<CatalogRow> Flush()
        {
            output.Clear();
            if (lines.Count == 0)
            {
                return output;
            }

            using (var reader = SepOptions.FromText(text.ToString()))
            {
                var index = 0;
                foreach (var row in reader)
                {
                    if (index >= lines.Count)
                    {
                        throw new InvalidOperationException("Sep returned more rows than the scanner found.");
                    }

                    output.Add(Map(row, lines[index++]));
                }

                if (index != lines.Count)
                {
                    throw new InvalidOperationException("Sep returned fewer rows than the scanner found.");
                }
            }

            text.Clear();
            lines.Clear();
            return output;
        }

        private CatalogRow Map(SepReader.Row row, long line)
        {
            raw.Clear();
            for (var i = 0; i < row.ColCount; i++)
            {
                var span = row[i].Span;
                if (header.RoleAt(i) is { } field)
                {
                    raw.Values[(int)field] = span.IsEmpty ? null : span.ToString();
                }
                else if (!span.IsWhiteSpace())
                {
                    raw.Attributes.Add(new(header.NameAt(i), span.ToString()));
                }
            }

            return builder.Build(line, raw);
        }
    }
}
