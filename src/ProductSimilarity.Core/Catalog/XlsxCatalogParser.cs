using System.Globalization;
using System.Runtime.CompilerServices;
using MiniExcelLibs;

namespace ProductSimilarity.Core.Catalog;

/// <summary>
/// Reads an Excel workbook (<c>.xlsx</c>) row by row with MiniExcel's streaming reader: the first sheet, or the one
/// named by <see cref="CatalogReadOptions.Sheet"/>. The first non-empty row is the header; rows then map exactly as
/// CSV rows do (<see cref="CatalogTable"/>), and errors name the row as <c>Sheet1!row 42</c>.
/// </summary>
/// <remarks>
/// MiniExcel was picked over ExcelDataReader and ClosedXML for its memory use on large sheets (it streams the sheet XML
/// and holds one row); see docs/catalog-formats.md. Numbers are written back in the invariant culture (a GTIN stored
/// as a number keeps its digits), dates as ISO 8601. Stateless; thread-safe.
/// </remarks>
internal static class XlsxCatalogParser
{
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
            string sheet;
            IEnumerable<IDictionary<string, object?>> rows;
            try
            {
                var sheets = MiniExcel.GetSheetNames(stream);
                stream.Position = 0;
                sheet = options.Sheet ?? (sheets.Count > 0 ? sheets[0] : throw new CatalogFormatException(file, 0, "the workbook has no sheet"));
                if (!sheets.Contains(sheet))
                {
                    throw new CatalogFormatException(file, 0, $"the workbook has no sheet '{sheet}' (sheets: {string.Join(", ", sheets)})");
                }

                rows = MiniExcel.Query(stream, useHeaderRow: false, sheetName: sheet, excelType: ExcelType.XLSX)
                    .Cast<IDictionary<string, object?>>();
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or InvalidOperationException or System.Xml.XmlException)
            {
                throw new CatalogFormatException(file, 0, "not a readable .xlsx workbook: " + ex.Message, ex);
            }

            var builder = new ProductRowBuilder(file, options.PriceCulture, sheet);
            var raw = new RawRow();
            CatalogTable? table = null;
            var values = new List<string?>();
            long rowNumber = 0;
            foreach (var row in rows)
            {
                cancellationToken.ThrowIfCancellationRequested();
                rowNumber++;
                values.Clear();
                foreach (var cell in row.Values)
                {
                    values.Add(Format(cell));
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
