using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Core.Tests.Text;

public sealed class CleaningRulesTests
{
    private static readonly TextNormalizer Normalizer = TextNormalizer.Default;

    [Theory]
    [InlineData("【包邮】小米 Redmi Buds 4 正品", "小米 Redmi Buds 4")]
    [InlineData("Apple官方旗舰店 AirPods Pro", "Apple AirPods Pro")]
    [InlineData("FREE SHIPPING Sony headphones - New Arrival", "Sony headphones -")]
    [InlineData("Hot Salespresso machine", "Hot Salespresso machine")]
    public void Normalize_Boilerplate_RemovedFromTitle(string title, string expected)
    {
        var product = Normalizer.Normalize(new Product { Id = "p", Title = title });
        Assert.Equal(expected, product.Title);
    }

    [Fact]
    public void Normalize_TitleOnlyBoilerplate_Kept()
    {
        Assert.Equal("包邮 正品", Normalizer.Normalize(new Product { Id = "p", Title = "包邮 正品" }).Title);
    }

    [Fact]
    public void Normalize_BoilerplateConfigured_ListReplacesDefaults()
    {
        var normalizer = new TextNormalizer(PiiScrubber.Default, new TextCleaningOptions { Boilerplate = ["clearance"] });
        Assert.Equal("包邮 lamp", normalizer.Normalize(new Product { Id = "p", Title = "Clearance 包邮 lamp" }).Title);
    }

    [Fact]
    public void Normalize_BoilerplateRemovalOff_TitleKeepsIt()
    {
        var normalizer = new TextNormalizer(PiiScrubber.Default, new TextCleaningOptions { RemoveBoilerplate = false });
        Assert.Equal("包邮 lamp", normalizer.Normalize(new Product { Id = "p", Title = "包邮 lamp" }).Title);
        Assert.Equal("lamp", normalizer.ForKeywords("包邮 lamp"));
    }

    [Theory]
    [InlineData("🔥热卖🔥 耳机", "热卖 耳机")]
    [InlineData("Great gift 🎁👍🏽 for dad", "Great gift for dad")]
    [InlineData("❤️ love ✨", "love")]
    [InlineData("Price 5€ and 3 × 4", "Price 5€ and 3 × 4")]
    public void Clean_Emoji_Removed(string text, string expected)
    {
        Assert.Equal(expected, Normalizer.Clean(text, 100));
    }

    [Theory]
    [InlineData("Amazing!!!", "Amazing!")]
    [InlineData("限时~~~特价。。。", "限时~特价。")]
    [InlineData("1.6 cu.ft. model A-100", "1.6 cu.ft. model A-100")]
    public void Clean_RepeatedPunctuation_Collapsed(string text, string expected)
    {
        Assert.Equal(expected, Normalizer.Clean(text, 100));
    }

    [Fact]
    public void ForKeywords_PunctuationAndStopCharacters_KeywordSideOnly()
    {
        const string title = "【正品】Sony WH-1000XM4 (Black) - 28 cm, 無線耳機!";
        Assert.Equal("sony wh-1000xm4 black 28cm 无线耳机", Normalizer.ForKeywords(title));

        // The embedded text keeps the words and punctuation the model was trained on.
        var product = Normalizer.Normalize(new Product { Id = "p", Title = "The case for the iPhone 15, black" });
        Assert.Equal("The case for the iPhone 15, black", ProductText.ForEmbedding(product));
    }
}
