using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Exploration;
using ProductSimilarity.Core.Indexing;

namespace ProductSimilarity.Core.Tests.Exploration;

public sealed class MatchExplainerTests
{
    [Fact]
    public void Terms_EnglishTitle_LowerCasesSplitsAndDropsStopWords()
    {
        var terms = MatchExplainer.Terms(new Product { Id = "1", Title = "The Sony WF-1000XM5 Earbuds with Case", Brand = "SONY" });

        Assert.Equal(["sony", "wf", "1000xm5", "earbuds", "case"], terms);
    }

    [Fact]
    public void Terms_ChineseTitle_GivesBigramsAndKeepsLatinWords()
    {
        var terms = MatchExplainer.Terms(new Product { Id = "1", Title = "小米 蓝牙耳机 Air2" });

        Assert.Equal(["小米", "蓝牙", "牙耳", "耳机", "air2"], terms);
    }

    [Fact]
    public void Explain_TwoRelatedProducts_ListsSharedTermsAttributesAndCosine()
    {
        var a = Make(new Product
        {
            Id = "A",
            Title = "Sony Wireless Earbuds 蓝牙耳机",
            Brand = "Sony",
            Category = "Audio",
            Attributes = new Dictionary<string, string> { ["color"] = "Black", ["size"] = "M" },
        }, [1, 0]);
        var b = Make(new Product
        {
            Id = "B",
            Title = "SONY earbuds, wireless, 耳机",
            Brand = "SONY",
            Category = "audio",
            Attributes = new Dictionary<string, string> { ["color"] = "black", ["size"] = "L" },
        }, [0.6f, 0.8f]);

        var explanation = MatchExplainer.Explain(a, b);

        Assert.Equal("B", explanation.Id);
        Assert.Equal(["sony", "wireless", "earbuds", "耳机"], explanation.SharedTerms);
        Assert.Equal(
            [new MatchingAttribute("brand", "Sony"), new MatchingAttribute("category", "Audio"), new MatchingAttribute("color", "Black")],
            explanation.MatchingAttributes);
        Assert.Equal(0.6, explanation.Cosine!.Value, 5);
    }

    [Fact]
    public void Explain_NothingInCommon_ReturnsEmptyListsAndNoCosineForMismatchedVectors()
    {
        var explanation = MatchExplainer.Explain(
            Make(new Product { Id = "A", Title = "Chef knife" }, [1, 0]),
            Make(new Product { Id = "B", Title = "Running shoes" }, [1, 0, 0]));

        Assert.Empty(explanation.SharedTerms);
        Assert.Empty(explanation.MatchingAttributes);
        Assert.Null(explanation.Cosine);
    }

    private static IndexedProduct Make(Product product, float[] vector) => new() { Product = product, ContentHash = product.Id, Vector = vector };
}
