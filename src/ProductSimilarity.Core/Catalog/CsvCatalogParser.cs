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
    private static readonly char[] Delimiters = [',', ';', '\t', '|'];

    public static async IAsyncEnumerable<CatalogRow> ReadAsync(
        CatalogCharSource source, string file, CatalogReadOptions options, char? defaultDelimiter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var delimiter = options.Delimiter;
        if (delimiter is null)
        {
            await source.FillAsync(cancellationToken).ConfigureAwait(false);
            delimiter = DetectDelimiter(source.Available) ?? defaultDelimiter ?? ',';
        }

        var scanner = new CsvRecordScanner(source, options.MaxFieldLength, options.MaxRowLength, delimiter.Value);
        if (!await scanner.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new CatalogFormatException(file, 0, "file is empty");
        }

        var header = CsvHeader.Parse(scanner, file, options);
        scanner.ExpectedColumns = header.Count;
        scanner.IdColumn = header.IdColumn;
        var builder = new ProductRowBuilder(file, options.PriceCulture);
        var raw = new RawRow();
        while (await scanner.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (scanner.Problem != CsvProblem.None || scanner.ColumnCount != header.Count)
            {
                yield return header.Describe(scanner, builder);
            }
            else if (header.Layout is null)
            {
                yield return builder.Build(scanner.StartLine, header.Map(scanner, raw));
            }
            else if (header.MapPlatform(scanner, raw))
            {
                yield return builder.Build(scanner.StartLine, raw);
            }
        }
    }

    /// <summary>
    /// Picks the delimiter (<c>,</c> <c>;</c> tab <c>|</c>) that splits the header into the most columns and the next
    /// lines into as many; <c>null</c> when none occurs in the header.
    /// </summary>
    internal static char? DetectDelimiter(ReadOnlySpan<char> sample)
    {
        Span<int> header = stackalloc int[Delimiters.Length];
        Span<int> consistent = stackalloc int[Delimiters.Length];
        Span<int> counts = stackalloc int[Delimiters.Length];
        var line = 0;
        var inQuotes = false;
        for (var i = 0; i <= sample.Length && line < 20; i++)
        {
            var c = i < sample.Length ? sample[i] : '\n';
            if (c == '"')
            {
                inQuotes = !inQuotes;
            }
            else if (!inQuotes && c is '\n' or '\r')
            {
                if (i == sample.Length && line > 0)
                {
                    break; // a cut-off last line says nothing
                }

                for (var d = 0; d < Delimiters.Length; d++)
                {
                    if (line == 0)
                    {
                        header[d] = counts[d];
                    }
                    else if (counts[d] == header[d])
                    {
                        consistent[d]++;
                    }
                }

                counts.Clear();
                line++;
                if (c == '\r' && i + 1 < sample.Length && sample[i + 1] == '\n')
                {
                    i++;
                }
            }
            else if (!inQuotes && Delimiters.AsSpan().IndexOf(c) is var d and >= 0)
            {
                counts[d]++;
            }
        }

        var best = -1;
        for (var d = 0; d < Delimiters.Length; d++)
        {
            if (header[d] == 0)
            {
                continue;
            }

            if (best < 0 || consistent[d] > consistent[best] || (consistent[d] == consistent[best] && header[d] > header[best]))
            {
                best = d;
            }
        }

        return best < 0 ? null : Delimiters[best];
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
        private readonly CatalogTable _table;
        private readonly string?[] _values;

        private CsvHeader(CatalogTable table)
        {
            this._table = table;
            _values = new string?[table.Names.Length];
        }

        /// <summary>The platform layout, or <c>null</c> for the generic one.</summary>
        public PlatformLayout? Layout => _table.Layout;

        public int Count => _table.Names.Length;

        public int IdColumn => _table.IdColumn;

        public string NameAt(int column) => _table.NameAt(column);

        public static CsvHeader Parse(CsvRecordScanner scanner, string file, CatalogReadOptions options)
        {
            var line = scanner.StartLine;
            if (scanner.Problem != CsvProblem.None)
            {
                throw new CatalogFormatException(file, line, "the header row is malformed: " + scanner.Problem switch
                {
                    CsvProblem.FieldTooLong or CsvProblem.RowTooLong => "it is too long",
                    _ => "it has an unterminated quote",
                });
            }

            return new CsvHeader(CatalogTable.Create(SplitRecord(scanner), file, line, options));
        }

        /// <summary>Unescapes the fields of a well-formed record into <paramref name="raw"/> (reused from row to row).</summary>
        public RawRow Map(CsvRecordScanner scanner, RawRow raw)
        {
            raw.Clear();
            var names = _table.Names;
            var roles = _table.Roles;
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

        /// <summary>Maps a well-formed record through the platform layout; <c>false</c> when the layout skips it.</summary>
        public bool MapPlatform(CsvRecordScanner scanner, RawRow raw)
        {
            for (var i = 0; i < _values.Length; i++)
            {
                _values[i] = CsvRecordScanner.Unescape(scanner.RawField(i));
            }

            return _table.Map(_values, raw);
        }

        /// <summary>Turns a record the scanner rejected into a row error.</summary>
        public CatalogRow Describe(CsvRecordScanner scanner, ProductRowBuilder builder)
        {
            var line = scanner.StartLine;
            var id = scanner.TryGetId();
            var column = scanner.ProblemColumn;
            var field = column >= 0 ? NameAt(column) : null;
            var max = scanner.MaxFieldLength;
            return scanner.Problem switch
            {
                CsvProblem.TextAfterQuote => builder.Error(line, field, "unexpected text after the closing quote of a quoted field", id),
                CsvProblem.UnterminatedQuote => builder.Error(line, field, "quoted field is not closed before the end of the file", id),
                CsvProblem.BrokenQuote => builder.Error(line, field, FormattableString.Invariant(
                    $"quoted field starting on this line is not closed properly (unterminated or stray quote); the row was skipped and reading resumed at line {line + 1}"), id),
                CsvProblem.FieldTooLong => builder.Error(line, field, scanner.ProblemQuoteLeftOpen
                    ? FormattableString.Invariant($"field is at least {scanner.ProblemLength:N0} characters long and its quote is not closed on this line; the limit is {max:N0}")
                    : FormattableString.Invariant($"field is {scanner.ProblemLength:N0} characters long; the limit is {max:N0}"), id),
                CsvProblem.RowTooLong => builder.Error(line, null, FormattableString.Invariant(
                    $"row is {scanner.ProblemLength:N0} characters long; the limit is {scanner.MaxRowLength:N0}"), id),
                _ => builder.Error(line, scanner.ColumnCount < Count ? NameAt(scanner.ColumnCount) : null, FormattableString.Invariant(
                    $"row has {scanner.ColumnCount} columns but the header has {Count}"), id),
            };
        }
    }
}
