using ProductSimilarity.Search.Local;

namespace ProductSimilarity.Search.Tests.Local;

public sealed class ProductTextAnalyzerTests
{
    [Fact]
    public void Terms_Chinese_OverlappingBigrams()
    {
        using var analyzer = new ProductTextAnalyzer();

        Assert.Equal(["小米", "无线", "线蓝", "蓝牙", "牙耳", "耳机"], analyzer.Terms("小米 无线蓝牙耳机", 100));
    }

    [Fact]
    public void Terms_LoneChineseCharacter_StaysUnigram()
    {
        using var analyzer = new ProductTextAnalyzer();

        Assert.Equal(["大", "size"], analyzer.Terms("大 size", 100));
    }

    [Fact]
    public void Terms_English_LowerCasedPossessiveDroppedAndStemmed()
    {
        using var analyzer = new ProductTextAnalyzer();

        // Porter turns "sony" into "soni"; index and query go through the same analyser, so they still meet.
        Assert.Equal(["soni", "headphon", "cancel"], analyzer.Terms("Sony's Headphones CANCELLING headphone", 100));
    }

    [Fact]
    public void Terms_TokensWithDigits_NotStemmed()
    {
        using var analyzer = new ProductTextAnalyzer();

        Assert.Equal(["wh", "1000xm4", "ps4", "2007s"], analyzer.Terms("WH-1000XM4 PS4 2007s", 100));
    }

    [Fact]
    public void Terms_FullWidthLatin_FoldedToHalfWidth()
    {
        using var analyzer = new ProductTextAnalyzer();

        Assert.Equal(["ps4"], analyzer.Terms("ＰＳ４", 100));
    }

    [Fact]
    public void Terms_MoreThanMax_Truncated()
    {
        using var analyzer = new ProductTextAnalyzer();

        Assert.Equal(["a", "b"], analyzer.Terms("a b c d a", 2));
    }
}
