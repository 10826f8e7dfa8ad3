using System.Text;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Configuration;
using static ProductSimilarity.Core.Tests.Catalog.CatalogTestData;

namespace ProductSimilarity.Core.Tests.Catalog;

/// <summary>The configurable catalog limits of <c>ProductSimilarity:Ingestion</c>: file size, rows and field length.</summary>
public sealed class CatalogLimitsTests
{
    private static readonly byte[] Catalog = Encoding.UTF8.GetBytes("id,title,price\nA1,Kettle,10\nA2,Teapot,12\nA3,Mug,4\n");

    [Fact]
    public async Task ReadAsync_FileAboveMaxFileBytes_RefusedBeforeAnyRowNamingTheKey()
    {
        var options = CatalogReadOptions.Default with { MaxFileBytes = Catalog.Length - 1 };

        var ex = await Assert.ThrowsAsync<CatalogFormatException>(() => ReadAsync(Catalog, "shop.csv", options));

        Assert.Equal("shop.csv", ex.File);
        Assert.Contains("ProductSimilarity:Ingestion:MaxFileBytes", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"{Catalog.Length:N0} bytes", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, (await ReadAsync(Catalog, "shop.csv", options with { MaxFileBytes = Catalog.Length })).Products().Count);
    }

    [Fact]
    public async Task ReadAsync_UnseekableStreamAboveMaxFileBytes_RefusedWhenItDeliversMore()
    {
        var options = CatalogReadOptions.Default with { MaxFileBytes = Catalog.Length - 1 };
        using var stream = new ForwardOnlyStream(Catalog);

        var ex = await Assert.ThrowsAsync<CatalogFormatException>(() => ReadAsync(stream, "shop.csv", default, options));

        Assert.Contains("larger than", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MaxFileBytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_MoreRowsThanMaxRows_ReadsTheFirstThenFailsNamingTheKey()
    {
        var options = CatalogReadOptions.Default with { MaxRows = 2 };
        var rows = new List<CatalogRow>();

        var ex = await Assert.ThrowsAsync<CatalogFormatException>(async () =>
        {
            using var stream = new MemoryStream(Catalog);
            await foreach (var row in new CatalogReader().ReadAsync(stream, "shop.csv", options))
            {
                rows.Add(row);
            }
        });

        Assert.Equal(["A1", "A2"], rows.Ids());
        Assert.Contains("more than 2 rows (ProductSimilarity:Ingestion:MaxRows)", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, (await ReadAsync(Catalog, "shop.csv", options with { MaxRows = 3 })).Products().Count);
    }

    [Theory]
    [InlineData("shop.csv", "id,title,description\nA1,Kettle,short\nA2,Teapot,{0}\nA3,Mug,ok\n")]
    [InlineData("shop.jsonl", "{{\"id\":\"A1\",\"title\":\"Kettle\",\"description\":\"short\"}}\n{{\"id\":\"A2\",\"title\":\"Teapot\",\"description\":\"{0}\"}}\n{{\"id\":\"A3\",\"title\":\"Mug\"}}\n")]
    public async Task ReadAsync_FieldAboveMaxFieldLength_RejectsOnlyThatRowNamingTheLimit(string file, string template)
    {
        var content = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, new string('x', 101));
        var options = CatalogReadOptions.Default with { MaxFieldLength = 100 };

        var rows = await ReadAsync(Encoding.UTF8.GetBytes(content), file, options);

        Assert.Equal(["A1", "A3"], rows.Ids());
        var error = rows.SingleError();
        Assert.Equal(file.EndsWith(".csv", StringComparison.Ordinal) ? 3 : 2, error.Line); // the header is line 1 of the CSV
        Assert.Equal("description", error.Field);
        Assert.Contains("the limit is 100", error.Reason, StringComparison.Ordinal);
        Assert.Equal(3, (await ReadAsync(Encoding.UTF8.GetBytes(content), file, options with { MaxFieldLength = 101 })).Products().Count);
    }

    [Fact]
    public void ToReadOptions_IngestionLimits_CarryOver()
    {
        var options = new IngestionOptions { MaxFileBytes = 1234, MaxRows = 56, MaxFieldLength = 789, MaxDecompressedBytes = 999 }.ToReadOptions();

        Assert.Equal((1234L, 56L, 789, 999L), (options.MaxFileBytes, options.MaxRows, options.MaxFieldLength, options.MaxDecompressedBytes));
    }

    /// <summary>A stream that cannot say its length, as a network download.</summary>
    private sealed class ForwardOnlyStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();
    }
}
