using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text;
using ProductSimilarity.Core.Catalog;

namespace ProductSimilarity.Core.Tests.Catalog;

/// <summary>Helpers that feed catalogs to <see cref="CatalogReader"/> and collect what comes out.</summary>
internal static class CatalogTestData
{
    public static Task<List<CatalogRow>> ReadAsync(string content, string fileName = "catalog.csv") =>
        ReadAsync(Encoding.UTF8.GetBytes(content), fileName);

    public static async Task<List<CatalogRow>> ReadAsync(byte[] bytes, string fileName, CancellationToken cancellationToken = default)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        return await ReadAsync(stream, fileName, cancellationToken);
    }

    public static async Task<List<CatalogRow>> ReadAsync(byte[] bytes, string fileName, CatalogReadOptions options)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        return await ReadAsync(stream, fileName, default, options);
    }

    public static async Task<List<CatalogRow>> ReadAsync(Stream stream, string fileName, CancellationToken cancellationToken = default, CatalogReadOptions? options = null)
    {
        var rows = new List<CatalogRow>();
        await foreach (var row in new CatalogReader().ReadAsync(stream, fileName, options ?? CatalogReadOptions.Default, cancellationToken))
        {
            rows.Add(row);
        }

        return rows;
    }

    public static List<Product> Products(this IEnumerable<CatalogRow> rows) =>
        [.. rows.Where(r => !r.IsError).Select(r => r.Product!)];

    public static List<RowError> Errors(this IEnumerable<CatalogRow> rows) =>
        [.. rows.Where(r => r.IsError).Select(r => r.Error!)];

    public static string[] Ids(this IEnumerable<CatalogRow> rows) => [.. rows.Products().Select(p => p.Id)];

    public static RowError SingleError(this IEnumerable<CatalogRow> rows) => Assert.Single(rows.Errors());

    public static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    /// <summary>A file under tests/ProductSimilarity.Core.Tests/TestData, located from this source file.</summary>
    public static string TestDataPath(string name, [CallerFilePath] string callerPath = "") =>
        Path.Combine(Path.GetDirectoryName(callerPath)!, "..", "TestData", name);

    /// <summary>A file under the repository's samples folder.</summary>
    public static string SamplePath(string name, [CallerFilePath] string callerPath = "") =>
        Path.Combine(Path.GetDirectoryName(callerPath)!, "..", "..", "..", "samples", name);

    public static Task<CatalogFormatException> ThrowsFormatAsync(string content, string fileName = "catalog.csv") =>
        Assert.ThrowsAsync<CatalogFormatException>(() => ReadAsync(content, fileName));

    public static Task<CatalogFormatException> ThrowsFormatAsync(byte[] content, string fileName) =>
        Assert.ThrowsAsync<CatalogFormatException>(() => ReadAsync(content, fileName));
}
