using ProductSimilarity.Core.Catalog;
using static ProductSimilarity.Core.Tests.Catalog.CatalogTestData;

namespace ProductSimilarity.Core.Tests.Catalog;

public sealed class CatalogPopularityTests
{
    [Fact]
    public async Task ReadAsync_PopularityAlias_KeptUnderOneNameInInvariantForm()
    {
        var rows = await ReadAsync("id,title,Units Sold\nA,Chef knife,1200\nB,Bread knife,\n");

        var products = rows.Products();
        Assert.Equal("1200", products[0].Attributes[CatalogPopularity.AttributeName]);
        Assert.False(products[0].Attributes.ContainsKey("Units Sold"));
        Assert.Equal(1200, CatalogPopularity.Of(products[0]));
        Assert.Null(CatalogPopularity.Of(products[1]));
    }

    [Fact]
    public async Task ReadAsync_JsonLinesPopularity_Read()
    {
        var rows = await ReadAsync("{\"id\":\"A\",\"title\":\"Chef knife\",\"popularity\":0.75}\n", "catalog.jsonl");

        Assert.Equal(0.75, CatalogPopularity.Of(Assert.Single(rows.Products())));
    }

    [Theory]
    [InlineData("many")]
    [InlineData("-3")]
    [InlineData("NaN")]
    public async Task ReadAsync_BadPopularity_KeepsTheRowAndWarnsNamingLineAndField(string value)
    {
        var rows = await ReadAsync($"id,title,sales_count\nA,Chef knife,{value}\n");

        var row = Assert.Single(rows);
        Assert.NotNull(row.Product);
        Assert.Null(CatalogPopularity.Of(row.Product));
        var warning = Assert.Single(row.Warnings);
        Assert.Equal((2L, "sales_count", "A"), (warning.Line, warning.Field, warning.Id));
        Assert.Contains("not a popularity", warning.Reason, StringComparison.Ordinal);
    }
}
