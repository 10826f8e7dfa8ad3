using System.Diagnostics;
using System.Globalization;
using System.Text;
using ExcelDataReader;
using MiniExcelLibs;
using ProductSimilarity.Core.Catalog;

namespace ProductSimilarity.Benchmarks;

/// <summary>
/// Peak memory of reading a large spreadsheet or XML feed, one kind per process (so each peak is its own): writes the
/// file to a temporary folder, then reads it and prints the process's peak working set and managed bytes allocated
/// during the read. Used to pick the .xlsx library (MiniExcel against ExcelDataReader).
/// </summary>
internal static class CatalogMemory
{
    public static async Task<int> RunAsync(string kind, int rows)
    {
        var folder = Directory.CreateTempSubdirectory("psim-mem-");
        try
        {
            var path = Path.Combine(folder.FullName, kind == "xml" ? "feed.xml" : "catalog.xlsx");
            if (kind == "xml")
            {
                await WriteFeedAsync(path, rows);
            }
            else
            {
                await MiniExcel.SaveAsAsync(path, Rows(rows));
            }

            // Let the writer's garbage go before measuring the read.
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            using var process = Process.GetCurrentProcess();
            process.Refresh();
            var before = process.WorkingSet64;
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var clock = Stopwatch.StartNew();
            var read = kind switch
            {
                "xlsx" or "xml" => await ReadWithCatalogReaderAsync(path),
                "xlsx-exceldatareader" => ReadWithExcelDataReader(path),
                "xlsx-miniexcel" => ReadWithMiniExcel(path),
                _ => throw new ArgumentException($"unknown kind '{kind}'"),
            };
            clock.Stop();
            process.Refresh();
            var size = new FileInfo(path).Length;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{kind}: {read:N0} rows from a {size / 1048576.0:0.0} MiB file in {clock.Elapsed.TotalSeconds:0.0} s; " +
                $"working set before read {before / 1048576.0:0} MiB, peak working set {process.PeakWorkingSet64 / 1048576.0:0} MiB; " +
                $"managed allocations during read {(GC.GetTotalAllocatedBytes(precise: true) - allocated) / 1048576.0:0} MiB"));
            return 0;
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static IEnumerable<Dictionary<string, object>> Rows(int count)
    {
        for (var i = 0; i < count; i++)
        {
            yield return new Dictionary<string, object>
            {
                ["id"] = $"SKU-{i:D7}",
                ["title"] = $"Stainless steel kettle {i % 613} litre",
                ["description"] = "A sturdy everyday product with a two-year warranty and a long description of it.",
                ["brand"] = "Acme",
                ["category"] = "Home > Kitchen",
                ["price"] = 10 + ((i % 5000) / 100.0),
                ["gtin"] = 4006381333931d,
            };
        }
    }

    private static async Task WriteFeedAsync(string path, int count)
    {
        await using var writer = new StreamWriter(path, false, new UTF8Encoding(false));
        await writer.WriteAsync("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:g=\"http://base.google.com/ns/1.0\"><channel>\n");
        for (var i = 0; i < count; i++)
        {
            await writer.WriteAsync(string.Create(CultureInfo.InvariantCulture,
                $"<item><g:id>SKU-{i:D7}</g:id><title>Stainless steel kettle {i % 613} litre</title><description>A sturdy everyday product with a two-year warranty.</description><g:price>{10 + ((i % 5000) / 100.0):0.00} EUR</g:price><g:availability>in stock</g:availability><g:brand>Acme</g:brand><g:gtin>4006381333931</g:gtin><g:product_type>Home &gt; Kitchen</g:product_type></item>\n"));
        }

        await writer.WriteAsync("</channel></rss>\n");
    }

    private static async Task<long> ReadWithCatalogReaderAsync(string path)
    {
        long products = 0;
        await using var stream = File.OpenRead(path);
        await foreach (var row in new CatalogReader().ReadAsync(stream, Path.GetFileName(path)))
        {
            if (row.Product is null)
            {
                throw new InvalidOperationException(row.Error!.ToString());
            }

            products++;
        }

        return products;
    }

    private static long ReadWithMiniExcel(string path)
    {
        using var stream = File.OpenRead(path);
        long rows = 0;
        var cells = new string?[16];
        foreach (IDictionary<string, object?> row in MiniExcel.Query(stream, useHeaderRow: false))
        {
            var i = 0;
            foreach (var value in row.Values)
            {
                cells[i++ % cells.Length] = Convert.ToString(value, CultureInfo.InvariantCulture);
            }

            rows++;
        }

        return rows - 1; // the header row
    }

    private static long ReadWithExcelDataReader(string path)
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance); // ExcelDataReader asks for code page 1252
        using var stream = File.OpenRead(path);
        using var reader = ExcelReaderFactory.CreateOpenXmlReader(stream);
        long rows = 0;
        var cells = new string?[reader.FieldCount];
        while (reader.Read())
        {
            for (var i = 0; i < reader.FieldCount && i < cells.Length; i++)
            {
                cells[i] = Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture);
            }

            rows++;
        }

        return rows - 1; // the header row
    }
}
