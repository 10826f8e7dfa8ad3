using Microsoft.Extensions.Configuration;
using ProductSimilarity.Cli.Commands;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Cli.Tests;

/// <summary><c>psim eval --rules-off</c>: each switch reaches the configured rules that documents and queries use.</summary>
public sealed class TextRulesTests
{
    [Theory]
    [InlineData("none", "free shipping steel kettle!! 🔥", "steel kettle!")]
    [InlineData("boilerplate", "free shipping steel kettle!! 🔥", "free shipping steel kettle!")]
    [InlineData("boilerplate-embedded", "free shipping steel kettle!! 🔥", "free shipping steel kettle!")]
    [InlineData("punctuation", "free shipping steel kettle!! 🔥", "steel kettle!!")]
    [InlineData("emoji", "free shipping steel kettle!! 🔥", "steel kettle! 🔥")]
    public void SwitchOff_Rule_BoundOptionsKeepIt(string rule, string title, string expectedTitle)
    {
        var overrides = new Dictionary<string, string?>();
        var processDefaults = new TextCleaningOptions();

        TextRules.SwitchOff(rule == "none" ? [] : [rule], overrides, processDefaults);
        var options = new ConfigurationBuilder().AddInMemoryCollection(overrides).Build()
            .GetSection("ProductSimilarity").Get<ProductSimilarityOptions>() ?? new ProductSimilarityOptions();
        var normalizer = TextNormalizer.For(options.Text);

        var cleaned = normalizer.Normalize(new Core.Catalog.Product { Id = "1", Title = title }).Title;
        Assert.Equal(expectedTitle, cleaned);
    }

    [Fact]
    public void SwitchOff_Boilerplate_KeywordSideKeepsItToo()
    {
        var overrides = new Dictionary<string, string?>();
        TextRules.SwitchOff(["boilerplate"], overrides, new TextCleaningOptions());
        var options = new ConfigurationBuilder().AddInMemoryCollection(overrides).Build()
            .GetSection("ProductSimilarity").Get<ProductSimilarityOptions>() ?? new ProductSimilarityOptions();

        Assert.Equal("free shipping steel kettle", TextNormalizer.For(options.Text).ForKeywords("Free shipping steel kettle"));
        Assert.Equal("steel kettle", TextNormalizer.For(new TextCleaningOptions()).ForKeywords("Free shipping steel kettle"));
    }

    [Fact]
    public void SwitchOff_UnknownRule_NamesTheKnownOnes()
    {
        var error = Assert.Throws<CliException>(() => TextRules.SwitchOff(["colour"], new Dictionary<string, string?>(), new TextCleaningOptions()));

        Assert.Contains("boilerplate-embedded", error.Message, StringComparison.Ordinal);
    }
}
