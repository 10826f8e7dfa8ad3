using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Search.AzureAISearch;

namespace ProductSimilarity.Search.Tests.AzureAISearch;

public sealed class AzureAISearchQuerySyntaxTests
{
    [Fact]
    public void Literal_SingleQuotes_AreDoubled()
        => Assert.Equal("'it''s ''quoted'''", AzureAISearchQuerySyntax.Literal("it's 'quoted'"));

    [Fact]
    public void In_ValuesContainEveryDelimiter_FallsBackToEqualityChain()
    {
        string every = "|,;~^`#!$%&*+=@";

        string filter = AzureAISearchQuerySyntax.In("id", [every, "o'k"]);

        Assert.Equal($"(id eq '{every}' or id eq 'o''k')", filter);
    }

    [Fact]
    public void BuildFilter_NothingSet_ReturnsNull()
        => Assert.Null(AzureAISearchQuerySyntax.BuildFilter(new ProductFilter(), new HashSet<string>(), new HashSet<string>()));

    [Fact]
    public void BuildFilter_InStockFalseAndDecimalPrice_UsesInvariantLiterals()
    {
        var culture = Thread.CurrentThread.CurrentCulture;
        try
        {
            Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("de-DE");

            string? filter = AzureAISearchQuerySyntax.BuildFilter(
                new ProductFilter { InStock = false, MinPrice = 1234.5m }, new HashSet<string>(), new HashSet<string>());

            Assert.Equal("price ge 1234.5 and inStock eq false", filter);
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = culture;
        }
    }

    [Theory]
    [InlineData("red  shoes", "red shoes")]
    [InlineData("  +(a)  ", "a")]
    [InlineData("耳机 蓝牙", "耳机 蓝牙")]
    [InlineData("a:b/c?d!e{f}[g]^h&i", "a b c d e f g h i")]
    public void ToSimpleQueryText_UserText_RemovesOperators(string input, string expected)
        => Assert.Equal(expected, AzureAISearchQuerySyntax.ToSimpleQueryText(input));

    [Theory]
    [InlineData(null)]
    [InlineData("   ")]
    [InlineData("\"*\" - |")]
    public void ToSimpleQueryText_NoTerms_ReturnsNull(string? input)
        => Assert.Null(AzureAISearchQuerySyntax.ToSimpleQueryText(input));

    [Theory]
    [InlineData(1.0, 1.0)]
    [InlineData(0.5, 0.0)]
    [InlineData(1.0 / 3.0, -1.0)]
    public void ScoreToCosine_ServiceScore_InvertsDocumentedTransform(double score, double cosine)
        => Assert.Equal(cosine, AzureAISearchProductIndex.ScoreToCosine(score), 10);
}
