using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Similarity;
using ProductSimilarity.Core.Tests.Fakes;
using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Core.Tests.Similarity;

public sealed class ExplanationTests
{
    private readonly InMemoryProductIndex _index = new();
    private readonly BagOfWordsEmbeddingGenerator _generator = new();
    private readonly SimilarityService _service;

    public ExplanationTests()
    {
        _service = new SimilarityService(_index, _generator, Options.Create(new ProductSimilarityOptions()), new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero)));
        Add("H1", "Sony WH-1000XM4 wireless headphones", "Sony", "Audio", 300m);
        Add("H2", "Sony WH-1000XM4 headphones black", "Sony", "Audio", 280m);
        Add("H3", "Bose wireless headphones", "Bose", "Audio", 150m);
        Add("K1", "chef knife steel", "Zwilling", "Kitchen", 40m);
        _index.CommitAsync().GetAwaiter().GetResult();
    }

    [Fact]
    public async Task SimilarAsync_Explain_ReportsScoresRanksSharedTermsAndAttributes()
    {
        var result = await _service.SimilarAsync(new SimilarRequest { Id = "H1", Top = 3, Explain = true });

        var h2 = result.Hits.Single(h => h.Product.Id == "H2");
        var e = h2.Explanation!;
        Assert.Equal(result.Hits.ToList().IndexOf(h2) + 1, e.FusedRank);
        Assert.Equal(h2.Score, e.FusedScore);
        Assert.Equal(h2.VectorRank, e.VectorRank);
        Assert.NotNull(e.VectorScore);
        Assert.Null(e.KeywordRank); // the fake index has no keyword side
        Assert.Equal(h2.KeywordScore, e.KeywordScore);
        Assert.Contains(new SharedTerm("wh-1000xm4", true), e.SharedTerms);
        Assert.Contains(new SharedTerm("headphones", false), e.SharedTerms);
        Assert.Contains(new SharedTerm("sony", false), e.SharedTerms);
        Assert.DoesNotContain(e.SharedTerms, t => t.Term == "black");
        Assert.Equal(["brand", "category", "priceBand"], e.MatchingAttributes);
        Assert.Equal("H1", e.ComparedWith);

        var h3 = result.Hits.Single(h => h.Product.Id == "H3").Explanation!;
        Assert.Equal(["category"], h3.MatchingAttributes); // 150 is not within 25 % of 300
        Assert.Equal(["wireless", "headphones"], h3.SharedTerms.Select(t => t.Term));
    }

    [Fact]
    public async Task SimilarAsync_Explain_SaysSameModelCodeOnlyWhereTheCodeMatches()
    {
        Add("H4", "Sony WH1000XM4/B headphones", "Sony", "Audio", 290m);
        Add("H5", "Sony wh1000xm4b noise cancelling", "Sony", "Audio", 290m);
        await _index.CommitAsync();

        var result = await _service.SimilarAsync(new SimilarRequest { Id = "H1", Top = 10, Explain = true });

        var same = result.Hits.Single(h => h.Product.Id == "H2").Explanation!.ModelCode;
        Assert.Equal(new SharedModelCode("wh1000xm4", true), same);
        Assert.Equal("same model code", same!.Reason);
        Assert.Null(result.Hits.Single(h => h.Product.Id == "H3").Explanation!.ModelCode);

        // A colour suffix glued to the code: equal up to the suffix, a near match.
        var near = await _service.SimilarAsync(new SimilarRequest { Id = "H5", Top = 10, Explain = true });
        Assert.Equal(new SharedModelCode("wh1000xm4", false), near.Hits.Single(h => h.Product.Id == "H1").Explanation!.ModelCode);
        Assert.Equal(new SharedModelCode("wh1000xm4b", true), near.Hits.Single(h => h.Product.Id == "H4").Explanation!.ModelCode);
    }

    [Fact]
    public async Task SimilarAsync_WithoutExplain_HasNoExplanation()
    {
        var result = await _service.SimilarAsync(new SimilarRequest { Id = "H1", Top = 3 });

        Assert.All(result.Hits, h => Assert.Null(h.Explanation));
        Assert.All(result.Hits.Select(HitView.From), v => Assert.Null(v.Explanation));
    }

    [Fact]
    public async Task SearchAsync_Explain_SharesTermsWithTheSearchText()
    {
        var result = await _service.SearchAsync(new SearchRequest { Text = "WH-1000XM4 Headphones", Top = 2, Explain = true });

        Assert.All(result.Hits, h =>
        {
            Assert.Contains(new SharedTerm("wh-1000xm4", true), h.Explanation!.SharedTerms);
            Assert.Empty(h.Explanation.MatchingAttributes);
            Assert.Null(h.Explanation.ComparedWith);
        });
    }

    [Fact]
    public async Task RecommendAsync_Explain_ComparesWithTheStrongestHistoryItem()
    {
        var result = await _service.RecommendAsync(new RecommendationRequest
        {
            History = [new HistoryEvent("H1", InteractionKind.Cart, null), new HistoryEvent("K1", InteractionKind.View, null)],
            Top = 2,
            Explain = true,
        });

        Assert.All(result.Hits, h => Assert.Equal("H1", h.Explanation!.ComparedWith));
    }

    [Theory]
    [InlineData("wh-1000xm4", null, true)]
    [InlineData("mdr7506", null, true)]
    [InlineData("headphones", null, false)]
    [InlineData("2024", null, false)]
    [InlineData("7506", "MDR-7506", false)]
    [InlineData("mdr-7506", "MDR7506", true)]
    public void IsProductCode_Term_MarksCodes(string term, string? mpn, bool expected) =>
        Assert.Equal(expected, ResultExplainer.IsProductCode(term, mpn));

    [Fact]
    public void Terms_Text_NormalisedDistinctTermsKeepingInnerHyphens()
    {
        Assert.Equal(["sony", "wh-1000xm4", "headphones", "耳机"], ResultExplainer.Terms("Sony (WH-1000XM4) headphones, Headphones! a 耳机"));
    }

    [Theory]
    [InlineData(100, 125, true)]
    [InlineData(100, 126, false)]
    [InlineData(null, 100, false)]
    [InlineData(0, 0, false)]
    public void SamePriceBand_Prices_Within25Percent(int? a, int? b, bool expected) =>
        Assert.Equal(expected, ResultExplainer.SamePriceBand(a, b));

    private void Add(string id, string title, string brand, string category, decimal price)
    {
        var product = new Product { Id = id, Title = title, Brand = brand, Category = category, Price = price };
        _index.UpsertAsync([new IndexedProduct { Product = product, ContentHash = id, Vector = _generator.Embed($"{title} {brand}") }]).GetAwaiter().GetResult();
    }
}
