using System.Runtime.CompilerServices;

namespace ProductSimilarity.Core.Catalog;

/// <summary>
/// Reads a CSV catalog in one pass: <see cref="CsvRecordScanner"/> finds the records and their field boundaries (line
/// numbers, broken quotes, limits), each field is unescaped once straight into the row, and
/// <see cref="ProductRowBuilder"/> validates it.
/// </summary>
/// <remarks>Stateless; thread-safe. Each read holds one record at a time.</remarks>
internal static class CsvCatalogParser
{
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
        var raw = new RawRow();
        while (await scanner.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return scanner.Problem != CsvProblem.None || scanner.ColumnCount != header.Count
                ? header.Describe(scanner, builder)
                : builder.Build(scanner.StartLine, header.Map(scanner, raw));
        }
    }

    /// <summary>The unescaped fields of a well-formed record (the header).</summary>
    internal static string[] SplitRecord(CsvRecordScanner scanner)
    {
        var fields = new string[scanner.ColumnCount];
        for (var i = 0; i < fields.Length; i++)
        {
            fields[i] = CsvRecordScanner.Unescape(scanner.RawField(i));
        }

        return fields;
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

            var names = SplitRecord(scanner);
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

        /// <summary>Unescapes the fields of a well-formed record into <paramref name="raw"/> (reused from row to row).</summary>
        public RawRow Map(CsvRecordScanner scanner, RawRow raw)
        {
            raw.Clear();
            for (var i = 0; i < names.Length; i++)
            {
                var field = scanner.RawField(i);
                if (roles[i] is { } role)
                {
                    raw.Values[(int)role] = field.IsWhiteSpace() ? null : CsvRecordScanner.Unescape(field);
                }
                else if (!field.IsWhiteSpace())
                {
                    var value = CsvRecordScanner.Unescape(field);
                    if (!string.IsNullOrWhiteSpace(value))
                    {
                        raw.Attributes.Add(new(names[i], value));
                    }
                }
            }

            return raw;
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
}
