using System.Text;
using ProductSimilarity.Core.Catalog;
using static ProductSimilarity.Core.Tests.Catalog.CatalogTestData;

namespace ProductSimilarity.Core.Tests.Catalog;

public sealed class CatalogReaderFormatTests
{
    [Theory]
    [InlineData("catalog.csv", CatalogFormat.Csv, false)]
    [InlineData("CATALOG.CSV", CatalogFormat.Csv, false)]
    [InlineData("exports/2024/catalog.csv.gz", CatalogFormat.Csv, true)]
    [InlineData("feed.jsonl", CatalogFormat.JsonLines, false)]
    [InlineData("feed.ndjson", CatalogFormat.JsonLines, false)]
    [InlineData("feed.json", CatalogFormat.JsonLines, false)]
    [InlineData("feed.JSONL.GZ", CatalogFormat.JsonLines, true)]
    [InlineData("my.products.ndjson.gz", CatalogFormat.JsonLines, true)]
    [InlineData("catalog.txt", CatalogFormat.Csv, false)]
    [InlineData("catalog.tsv.gz", CatalogFormat.Csv, true)]
    [InlineData("feed.xml", CatalogFormat.Xml, false)]
    [InlineData("feed.xml.gz", CatalogFormat.Xml, true)]
    [InlineData("Catalog.XLSX", CatalogFormat.Xlsx, false)]
    public void DetectFormat_KnownExtension_ReturnsFormatAndCompression(string name, CatalogFormat format, bool gzip)
    {
        Assert.Equal((format, gzip), CatalogReader.DetectFormat(name));
    }

    [Theory]
    [InlineData("catalog.xls")]
    [InlineData("catalog.gz")]
    [InlineData("catalog")]
    [InlineData("catalog.csv.zip")]
    [InlineData("catalog.xlsx.gz")]
    public void DetectFormat_UnknownExtension_ThrowsNamingTheFile(string name)
    {
        var ex = Assert.Throws<CatalogFormatException>(() => CatalogReader.DetectFormat(name));

        Assert.Equal(name, ex.File);
        Assert.StartsWith(name + ":", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadAsync_UnknownExtension_ThrowsBeforeEnumerating()
    {
        using var stream = new MemoryStream();

        Assert.Throws<CatalogFormatException>(() => new CatalogReader().ReadAsync(stream, "catalog.xls"));
    }

    [Fact]
    public async Task ReadAsync_GzipCsv_IsDecompressed()
    {
        var bytes = Gzip(Encoding.UTF8.GetBytes("id,title,price\nA,Kettle,9.5\nB,\"Mug, blue\",3\nB,Dup,1\n"));

        var rows = await ReadAsync(bytes, "catalog.csv.gz");

        Assert.Equal(["A", "B"], rows.Ids());
        Assert.Equal("Mug, blue", rows.Products()[1].Title);
        Assert.Equal((4L, "id"), (rows.SingleError().Line, rows.SingleError().Field));
    }

    [Fact]
    public async Task ReadAsync_GzipJsonLines_IsDecompressed()
    {
        var bytes = Gzip(Encoding.UTF8.GetBytes("{\"id\":\"A\",\"title\":\"降噪耳机\",\"price\":99}\nnot json\n{\"id\":\"B\",\"title\":\"Cable\"}\n"));

        var rows = await ReadAsync(bytes, "catalog.jsonl.gz");

        Assert.Equal(["A", "B"], rows.Ids());
        Assert.Equal("降噪耳机", rows.Products()[0].Title);
        Assert.Equal(2, rows.SingleError().Line);
    }

    [Fact]
    public async Task ReadAsync_GzipNameButPlainBytes_ThrowsCatalogFormatException()
    {
        var ex = await ThrowsFormatAsync(Encoding.UTF8.GetBytes("id,title\nA,B\n"), "catalog.csv.gz");

        Assert.Equal("catalog.csv.gz", ex.File);
        Assert.Contains("compressed data is corrupt", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_EmptyGzip_ThrowsFileIsEmpty()
    {
        var ex = await ThrowsFormatAsync(Gzip([]), "catalog.csv.gz");

        Assert.Contains("file is empty", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_LeavesTheCallersStreamOpen()
    {
        using var stream = new MemoryStream(Gzip(Encoding.UTF8.GetBytes("id,title\nA,B\n")));

        var rows = await ReadAsync(stream, "catalog.csv.gz");

        Assert.Single(rows);
        Assert.True(stream.CanRead);
    }
}
