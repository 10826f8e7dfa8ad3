using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Core.Tests.Text;

public sealed class ProductUnitsTests
{
    [Theory]
    [InlineData("28cm", "28cm")]
    [InlineData("28 cm", "28cm")]
    [InlineData("28厘米", "28cm")]
    [InlineData("28 CM", "28cm")]
    [InlineData("1.6 cu.ft.", "1.6cuft")]
    [InlineData("1.6 cu ft", "1.6cuft")]
    [InlineData("1.6 cubic feet", "1.6cuft")]
    [InlineData("500GB", "500gb")]
    [InlineData("500 GB", "500gb")]
    [InlineData("2TB", "2tb")]
    [InlineData("1/2\"", "0.5in")]
    [InlineData("0.5 in", "0.5in")]
    [InlineData("0.50 inch", "0.5in")]
    [InlineData("500毫升", "500ml")]
    [InlineData("500 ml", "500ml")]
    [InlineData("100克", "100g")]
    [InlineData("55寸", "55in")]
    [InlineData("55英寸", "55in")]
    [InlineData("5公斤", "5kg")]
    [InlineData("1.5升", "1.5l")]
    [InlineData("20000mAh", "20000mah")]
    public void Normalize_Quantity_OneCanonicalToken(string text, string expected)
    {
        Assert.Equal(expected, ProductUnits.Normalize(text));
    }

    [Theory]
    [InlineData("2 in 1 charger")]
    [InlineData("WH-1000XM4")]
    [InlineData("X1000mAh")]
    [InlineData("iPhone 15 Pro")]
    [InlineData("Windows 7 Home")]
    public void Normalize_NotAQuantity_Unchanged(string text)
    {
        Assert.Equal(text, ProductUnits.Normalize(text));
    }

    [Fact]
    public void Normalize_InSentence_OnlyQuantitiesRewritten()
    {
        Assert.Equal("苏泊尔 炒锅 28cm 不粘锅", ProductUnits.Normalize("苏泊尔 炒锅 28厘米 不粘锅"));
        Assert.Equal("seagate 500gb drive, 7200rpm", ProductUnits.Normalize("seagate 500 GB drive, 7200rpm"));
    }

    [Theory]
    [InlineData("500gb", true)]
    [InlineData("16cuft", true)]
    [InlineData("1080p", true)]
    [InlineData("wh1000xm4", false)]
    [InlineData("mate60", false)]
    public void IsQuantity_NormalisedToken_MeasureNotCode(string token, bool expected)
    {
        Assert.Equal(expected, ProductUnits.IsQuantity(token));
    }
}
