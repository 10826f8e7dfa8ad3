using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Core.Tests.Text;

public sealed class ProductCodesTests
{
    [Theory]
    [InlineData("WH-1000XM4", "wh1000xm4")]
    [InlineData("wh1000xm4", "wh1000xm4")]
    [InlineData("ｗｈ－１０００ｘｍ４", "wh1000xm4")]
    [InlineData("KX-TG9332S", "kxtg9332s")]
    [InlineData("SRSA212/BLK", "srsa212blk")]
    [InlineData("  ", "")]
    [InlineData(null, "")]
    public void Normalize_WrittenDifferently_OneForm(string? code, string expected)
    {
        Assert.Equal(expected, ProductCodes.Normalize(code));
    }

    [Fact]
    public void Extract_Title_CodesOnlyNotQuantitiesYearsOrWords()
    {
        var codes = ProductCodes.Extract("Sony WH-1000XM4 Wireless Headphones 2020 edition 500GB 28cm 1080p (Black), HD 450BT");
        Assert.Equal(["wh1000xm4", "450bt"], codes);
    }

    [Fact]
    public void Extract_ChineseAroundCode_CodeFound()
    {
        Assert.Equal(["wh1000xm5"], ProductCodes.Extract("索尼WH-1000XM5头戴式降噪耳机 黑色"));
        Assert.Equal(["mate60"], ProductCodes.Extract("华为Mate60 12GB+512GB 雅川青"));
    }

    [Fact]
    public void Extract_Max_StopsThere()
    {
        Assert.Equal(["abc123"], ProductCodes.Extract("ABC123 DEF456", max: 1));
    }

    [Theory]
    [InlineData("srsa212blk", "srsa212")]
    [InlineData("srsa212bk", "srsa212")]
    [InlineData("kxtg9332s", "kxtg9332")]
    [InlineData("kxtg9332", "kxtg9332")]
    [InlineData("wh1000xm4", "wh1000xm4")]
    [InlineData("ps4", "ps4")]
    [InlineData("x1c", "x1c")]
    [InlineData("dcp7065dnxy", "dcp7065dnxy")]
    public void BaseForm_ShortSuffixAfterDigits_Dropped(string code, string expected)
    {
        Assert.Equal(expected, ProductCodes.BaseForm(code));
    }

    [Theory]
    [InlineData("Sony WH-1000XM4 black", "SONY wh1000xm4 headphones", CodeMatch.Exact, "wh1000xm4")]
    [InlineData("Sony SRSA212/BLK speaker", "Sony SRSA212BK speaker", CodeMatch.Near, "srsa212")]
    [InlineData("Panasonic KX-TG9332S phone", "Panasonic KX-TG9332 phone", CodeMatch.Near, "kxtg9332")]
    [InlineData("Sony WH-1000XM4", "Sony WH-1000XM5", CodeMatch.None, null)]
    [InlineData("no code here", "WH-1000XM4", CodeMatch.None, null)]
    public void Compare_TwoTitles_ExactAboveNearAboveNone(string a, string b, CodeMatch expected, string? shared)
    {
        Assert.Equal(expected, ProductCodes.Compare(a, b, out var code));
        Assert.Equal(shared, code);
    }
}
