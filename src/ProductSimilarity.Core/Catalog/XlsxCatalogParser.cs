using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using ExcelDataReader;

namespace ProductSimilarity.Core.Catalog;

/// <summary>
/// Reads an Excel workbook (<c>.xlsx</c>) row by row with ExcelDataReader's streaming reader: the first sheet, or the one
/// named by <see cref="CatalogReadOptions.Sheet"/>. The first non-empty row is the header; rows then map exactly as
/// CSV rows do (<see cref="CatalogTable"/>), and errors name the row as <c>Sheet1!row 42</c>.
/// </summary>
/// <remarks>
/// ExcelDataReader was picked over MiniExcel by measured memory on a 100,000-row sheet (both stream the sheet XML;
/// ExcelDataReader allocated 374 MiB against 1,380 MiB and peaked 6 MiB above the baseline against 9 MiB; see
/// docs/catalog-formats.md). ClosedXML loads the whole workbook. Numbers are written back in the invariant culture (a
/// GTIN stored as a number keeps its digits), dates as ISO 8601. Stateless; thread-safe.
/// </remarks>
internal static class XlsxCatalogParser
{
    static XlsxCatalogParser() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance); // ExcelDataReader asks for code page 1252

    public static async IAsyncEnumerable<CatalogRow> ReadAsync(
        Stream stream, string file, CatalogReadOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        FileStream? temporary = null;
        if (!stream.CanSeek)
        {
            // A zip archive needs its central directory at the end: copy a forward-only stream (a blob) to disk first.
            temporary = new FileStream(Path.GetTempFileName(), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16,
                FileOptions.DeleteOnClose | FileOptions.Asynchronous);
            await stream.CopyToAsync(temporary, cancellationToken).ConfigureAwait(false);
            temporary.Position = 0;
            stream = temporary;
        }

        try
        {
            IExcelDataReader excel;
            try
            {
                excel = ExcelReaderFactory.CreateOpenXmlReader(stream, new ExcelReaderConfiguration { LeaveOpen = true });
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or ExcelDataReader.Exceptions.ExcelReaderException or System.Xml.XmlException)
            {
                throw new CatalogFormatException(file, 0, "not a readable .xlsx workbook: " + ex.Message, ex);
            }

            using (excel)
            {
                var sheets = new List<string>();
                do
                {
                    sheets.Add(excel.Name);
                    if (options.Sheet is null || string.Equals(excel.Name, options.Sheet, StringComparison.OrdinalIgnoreCase))
                    {
                        break;
                    }
                }
                while (excel.NextResult());

                var sheet = sheets[^1];
                if (options.Sheet is not null && !string.Equals(sheet, options.Sheet, StringComparison.OrdinalIgnoreCase))
                {
                    throw new CatalogFormatException(file, 0, $"the workbook has no sheet '{options.Sheet}' (sheets: {string.Join(", ", sheets)})");
                }

                var builder = new ProductRowBuilder(file, options.PriceCulture, sheet);
                var raw = new RawRow();
                CatalogTable? table = null;
                var values = new List<string?>();
                long rowNumber = 0;
                while (excel.Read())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    rowNumber++;
                    values.Clear();
                    for (var i = 0; i < excel.FieldCount; i++)
                    {
                        values.Add(Format(excel.GetValue(i)));
                    }

                    if (values.TrueForAll(string.IsNullOrWhiteSpace))
                    {
                        continue;
                    }

                    if (table is null)
                    {
                        // Trailing blank header cells are not columns.
                        var count = values.FindLastIndex(v => !string.IsNullOrWhiteSpace(v)) + 1;
                        table = CatalogTable.Create([.. values.Take(count).Select(v => v ?? string.Empty)], $"{file}:{sheet}", rowNumber, options);
                        continue;
                    }

                    if (table.Map(values, raw))
                    {
                        yield return builder.Build(rowNumber, raw);
                    }
                }

                if (table is null)
                {
                    throw new CatalogFormatException(file, 0, $"sheet '{sheet}' is empty");
                }
            }
        }
        finally
        {
            if (temporary is not null)
            {
                await temporary.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static string? Format(object? cell) => cell switch
    {
        null => null,
        string text => text,
        double number => number.ToString("R", CultureInfo.InvariantCulture),
        decimal number => number.ToString(CultureInfo.InvariantCulture),
        DateTime date => date.TimeOfDay == TimeSpan.Zero ? date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : date.ToString("s", CultureInfo.InvariantCulture),
        bool flag => flag ? "true" : "false",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => cell.ToString(),
    };
}
