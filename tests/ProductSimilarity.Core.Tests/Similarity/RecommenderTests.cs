using System.Numerics.Tensors;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Similarity;
using ProductSimilarity.Core.Tests.Fakes;

namespace ProductSimilarity.Core.Tests.Similarity;

/// <summary>
/// Recommendations over products with hand-written vectors: axis 0 is "knife", axis 1 is "headphones", the other axes
/// tell products of one kind apart. The "M" gadgets lie half-way between the two kinds.
/// </summary>
public sealed class RecommenderTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private readonly InMemoryProductIndex _index = new();
    private readonly ProductSimilarityOptions _options = new();

    public RecommenderTests()
    {
        Add("K0", "chef knife", "Knives", [1, 0]);
        Add("K1", "paring knife", "Knives", [1, 0, 0.3f], popularity: "40");
        Add("K2", "bread knife", "Knives", [1, 0, 0, 0.3f]);
        Add("K3", "santoku knife", "Knives", [1, 0, 0, 0, 0.35f]);
        Add("H0", "studio headphones", "Audio", [0, 1]);
        Add("H1", "wireless headphones", "Audio", [0, 1, 0.3f], popularity: "90");
        Add("H2", "open-back headphones", "Audio", [0, 1, 0, 0.3f]);
        Add("H3", "gaming headset", "Audio", [0, 1, 0, 0, 0.35f], popularity: "15");
        Add("M1", "kitchen radio", "Gadgets", [1, 1, 0, 0, 0, 0.2f], popularity: "60");
        Add("M2", "smart display", "Gadgets", [1, 1, 0, 0, 0, 0, 0.2f]);
        Add("M3", "timer speaker", "Gadgets", [1, 1, 0, 0, 0, 0, 0, 0.2f]);
        _index.CommitAsync().GetAwaiter().GetResult();
    }

    private Recommender Recommender => new(_index, Options.Create(_options), new FakeTimeProvider(Now));

    [Fact]
    public async Task RecommendAsync_KnifeAndHeadphones_MultiInterestGetsBothKinds()
    {
        var result = await Recommender.RecommendAsync(Request([View("K0"), View("H0")], top: 4));

        var ids = Ids(result);
        Assert.Equal(4, ids.Count);
        Assert.Equal(2, ids.Count(id => id.StartsWith('K')));
        Assert.Equal(2, ids.Count(id => id.StartsWith('H')));
        Assert.Null(result.Fallback);
    }

    [Fact]
    public async Task RecommendAsync_KnifeAndHeadphones_CentroidGetsTheMidpointOnly()
    {
        var result = await Recommender.RecommendAsync(Request([View("K0"), View("H0")], top: 3) with { Strategy = RecommendationStrategy.Centroid });

        Assert.Equal(["M1", "M2", "M3"], Ids(result).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task RecommendAsync_CentroidConfigured_IsTheDefaultStrategy()
    {
        _options.Recommendations.Strategy = RecommendationStrategy.Centroid;

        var result = await Recommender.RecommendAsync(Request([View("K0"), View("H0")], top: 3));

        Assert.All(Ids(result), id => Assert.StartsWith("M", id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task RecommendAsync_RealTimestamps_RecentInterestLeads()
    {
        var headphonesRecent = await Recommender.RecommendAsync(Request([View("K0", Now.AddDays(-30)), View("H0", Now.AddHours(-1))], top: 3));
        var knifeRecent = await Recommender.RecommendAsync(Request([View("K0", Now.AddHours(-1)), View("H0", Now.AddDays(-30))], top: 3));

        Assert.All(Ids(headphonesRecent), id => Assert.StartsWith("H", id, StringComparison.Ordinal));
        Assert.All(Ids(knifeRecent), id => Assert.StartsWith("K", id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task RecommendAsync_NoTimestamps_EventsCountAsEquallyRecent()
    {
        var result = await Recommender.RecommendAsync(Request([View("K0"), View("H0")], top: 10));

        var scores = result.Hits.ToDictionary(h => h.Product.Id, h => h.Score);
        Assert.Equal(scores["K1"], scores["H1"], 9);
        Assert.Equal(scores["K3"], scores["H3"], 9);
    }

    [Fact]
    public async Task RecommendAsync_LongHalfLife_OldEventsKeepTheirWeight()
    {
        _options.Recommendations.HalfLifeDays = 3650;

        var result = await Recommender.RecommendAsync(Request([View("K0", Now.AddDays(-30)), View("H0", Now.AddHours(-1))], top: 10));

        var scores = result.Hits.ToDictionary(h => h.Product.Id, h => h.Score);
        Assert.InRange(scores["K1"] / scores["H1"], 0.99, 1.0);
        Assert.Equal(0.5, Recommender.Decay(Now.AddDays(-7), Now, TimeSpan.FromDays(7)), 9);
        Assert.Equal(1.0, Recommender.Decay(Now.AddDays(1), Now, TimeSpan.FromDays(7)), 9);
    }

    [Fact]
    public async Task RecommendAsync_NotInterested_ExcludesItAndPushesItsNeighboursDown()
    {
        Add("K1b", "paring knife set", "Knives", [1, 0, 0.32f, 0, 0, 0, 0, 0.05f]);
        await _index.CommitAsync();

        var before = Ids(await Recommender.RecommendAsync(Request([View("K0")], top: 20)));
        var after = Ids(await Recommender.RecommendAsync(Request([View("K0"), new HistoryEvent("K1", InteractionKind.NotInterested, Now)], top: 20)));

        Assert.True(before.IndexOf("K1b") < before.IndexOf("K3"));
        Assert.DoesNotContain("K1", after);
        Assert.True(after.IndexOf("K1b") > after.IndexOf("K3"));
    }

    [Fact]
    public async Task RecommendAsync_Purchased_ExcludedWithVariantsUnlessReplenish()
    {
        Add("P1", "chef knife 20 cm", "Knives", [1, 0, 0, 0, 0, 0, 0.1f], group: "G-P");
        Add("P1v", "chef knife 24 cm", "Knives", [1, 0, 0, 0, 0, 0, 0.12f], group: "G-P");
        await _index.CommitAsync();
        var bought = new HistoryEvent("P1", InteractionKind.Purchase, Now.AddDays(-2));

        var excluded = Ids(await Recommender.RecommendAsync(Request([bought], top: 10)));
        var replenish = Ids(await Recommender.RecommendAsync(Request([bought], top: 10) with { ExcludePurchased = false }));

        Assert.DoesNotContain("P1", excluded);
        Assert.DoesNotContain("P1v", excluded);
        Assert.Equal("P1", replenish[0]);
        Assert.DoesNotContain("P1v", replenish); // collapsed into its better-ranked variant
    }

    [Fact]
    public async Task RecommendAsync_ExplicitExclusions_NeverShown()
    {
        var result = await Recommender.RecommendAsync(Request([View("K0")], top: 10) with { Exclude = ["K1", "K2"] });

        Assert.DoesNotContain(Ids(result), id => id is "K1" or "K2" or "K0");
        Assert.Contains("K3", Ids(result));
    }

    [Fact]
    public async Task RecommendAsync_EmptyHistory_PopularFallbackSaysSo()
    {
        var result = await Recommender.RecommendAsync(Request([], top: 3));

        Assert.Equal(["H1", "M1", "K1"], Ids(result));
        Assert.Equal("popular", result.Fallback);
    }

    [Fact]
    public async Task RecommendAsync_UnknownIdWithCategory_CategoriesFallbackThenPopular()
    {
        var result = await Recommender.RecommendAsync(Request([new HistoryEvent("new-arrival", InteractionKind.View, null, "knives")], top: 5));

        var ids = Ids(result);
        Assert.Equal("K1", ids[0]); // the most popular knife first
        Assert.Equal(["K0", "K2", "K3"], ids[1..4].Order(StringComparer.Ordinal)); // knives without a popularity, by id
        Assert.Equal("H1", ids[4]); // then the most popular product overall
        Assert.Equal("categories,popular", result.Fallback);
    }

    [Fact]
    public async Task RecommendAsync_OnlyNegatives_FallbackLeavesTheNegativeOut()
    {
        var result = await Recommender.RecommendAsync(Request([new HistoryEvent("H1", InteractionKind.NotInterested, Now)], top: 2));

        Assert.Equal(["M1", "K1"], Ids(result));
        Assert.Equal("popular", result.Fallback);
    }

    [Fact]
    public async Task RecommendAsync_UnknownHistoryNoFallback_EmptyAndSaysNone()
    {
        _options.Recommendations.ColdStart = "None";

        var result = await Recommender.RecommendAsync(Request([View("ghost")], top: 3));

        Assert.Empty(result.Hits);
        Assert.Equal("none", result.Fallback);
    }

    [Fact]
    public async Task RecommendAsync_Explain_ListsTheHistoryItemsThatContributedMost()
    {
        var result = await Recommender.RecommendAsync(Request([View("K0"), View("H0"), View("H0")], top: 10) with { Explain = true });

        var knife = result.Hits.Single(h => h.Product.Id == "K1").Explanation!.ContributingHistory!;
        var gadget = result.Hits.Single(h => h.Product.Id == "M1").Explanation!.ContributingHistory!;
        Assert.Equal("K0", Assert.Single(knife).Id);
        Assert.Equal(1.0, knife[0].Share, 9);
        Assert.Equal(["H0", "K0"], gadget.Select(c => c.Id));
        Assert.Equal(2.0, gadget[0].Weight, 9);
        Assert.Equal(2.0 / 3, gadget[0].Share, 6);
        Assert.Equal("studio headphones", gadget[0].Title);
    }

    [Fact]
    public async Task RecommendAsync_PopularityRanking_ReadAgainWhenCountChangesOrAfterRefresh()
    {
        var time = new FakeTimeProvider(Now);
        var recommender = new Recommender(_index, Options.Create(_options), time);
        var first = Ids(await recommender.RecommendAsync(Request([], top: 1)));

        Add("K3", "santoku knife", "Knives", [1, 0, 0, 0, 0.35f], popularity: "500"); // same count: the ranking is reused
        await _index.CommitAsync();
        var cached = Ids(await recommender.RecommendAsync(Request([], top: 1)));
        time.Advance(TimeSpan.FromSeconds(_options.Recommendations.PopularityRefreshSeconds + 1));
        var refreshed = Ids(await recommender.RecommendAsync(Request([], top: 1)));
        Add("X1", "bestseller", "Gadgets", [0, 0, 1], popularity: "1000"); // a new product: the count changes
        await _index.CommitAsync();
        var grown = Ids(await recommender.RecommendAsync(Request([], top: 1)));

        Assert.Equal(["H1"], first);
        Assert.Equal(["H1"], cached);
        Assert.Equal(["K3"], refreshed);
        Assert.Equal(["X1"], grown);
    }

    [Fact]
    public void ColdStartFallbacks_UnknownName_ThrowsNamingTheKey()
    {
        var options = new RecommendationOptions { ColdStart = "Popular,Trending" };

        var ex = Assert.Throws<FormatException>(() => options.ColdStartFallbacks());

        Assert.Contains("ProductSimilarity:Recommendations:ColdStart", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'Trending'", ex.Message, StringComparison.Ordinal);
        Assert.Equal([ColdStartFallback.Popular, ColdStartFallback.Categories], new RecommendationOptions { ColdStart = "popular, categories" }.ColdStartFallbacks());
    }

    [Fact]
    public async Task RecommendAsync_IdOnlyCandidates_SameListReadingOnlyWhatMayBeKept()
    {
        var request = Request([View("K0"), View("H0"), View("M1")], top: 3);
        var eager = await Recommender.RecommendAsync(request);
        _index.IdOnlyCandidates = true;

        var lazy = await Recommender.RecommendAsync(request);

        Assert.Equal(eager.Hits.Select(h => (h.Product.Id, h.Score, h.VectorRank)), lazy.Hits.Select(h => (h.Product.Id, h.Score, h.VectorRank)));
        Assert.Equal(3, _index.CandidateReads.Count);
        Assert.Equal(Ids(lazy).Order(StringComparer.Ordinal), _index.CandidateReads.Order(StringComparer.Ordinal));
        Assert.True(_index.CandidateReadCalls <= 3, $"{_index.CandidateReadCalls} reads for one page over 3 interests");
    }

    [Fact]
    public async Task RecommendAsync_IdOnlyCandidatesWithNegative_OneReadPerInterestList()
    {
        var request = Request([View("K0"), View("H0"), new HistoryEvent("H1", InteractionKind.NotInterested, null)], top: 4);
        _index.IdOnlyCandidates = true;

        await Recommender.RecommendAsync(request);

        Assert.True(_index.CandidateReads.Count > 2);
        Assert.Equal(2, _index.CandidateReadCalls); // two interests (knives, headphones): one read each, not one per candidate
    }

    [Fact]
    public async Task RecommendAsync_OneProductInterest_KeywordQueryIsItsTitleAndBrand()
    {
        await Recommender.RecommendAsync(Request([View("K0"), View("H0")], top: 3));

        Assert.Equal(["chef knife", "studio headphones"], _index.Queries.Select(q => q.Text!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task RecommendAsync_InterestOfLongTitles_KeywordQueryBoundedToStrongestTextThenNewWords()
    {
        Add("L1", "alpha beta gamma delta epsilon zeta eta theta iota kappa", "Long", [0, 0, 0, 0, 0, 0, 0, 1]);
        Add("L2", "alpha lambda mu nu xi omicron pi rho", "Long", [0, 0, 0, 0, 0, 0, 0.1f, 1]);
        Add("L3", "sigma tau upsilon phi chi psi omega", "Long", [0, 0, 0, 0, 0, 0, 0.15f, 1]);
        await _index.CommitAsync();

        await Recommender.RecommendAsync(Request([new HistoryEvent("L1", InteractionKind.Purchase, null), View("L2"), View("L3")], top: 3));

        var text = Assert.Single(_index.Queries).Text!;
        Assert.Equal(Recommender.MaxInterestKeywordWords, text.Split(' ').Length);
        Assert.Equal("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi", text);
    }

    [Fact]
    public async Task RecommendAsync_IdOnlyCandidatesWithNegative_SameList()
    {
        var request = Request([View("K0"), View("H0"), new HistoryEvent("H1", InteractionKind.NotInterested, null)], top: 4);
        var eager = await Recommender.RecommendAsync(request);
        _index.IdOnlyCandidates = true;

        var lazy = await Recommender.RecommendAsync(request);

        Assert.Equal(eager.Hits.Select(h => (h.Product.Id, h.Score)), lazy.Hits.Select(h => (h.Product.Id, h.Score)));
        Assert.NotEmpty(_index.CandidateReads);
    }

    private static RecommendationRequest Request(IReadOnlyList<HistoryEvent> history, int top) => new() { History = history, Top = top };

    private static HistoryEvent View(string id, DateTimeOffset? at = null) => new(id, InteractionKind.View, at);

    private static List<string> Ids(SimilarityResult result) => [.. result.Hits.Select(h => h.Product.Id)];

    private void Add(string id, string title, string category, float[] axes, string? group = null, string? popularity = null)
    {
        var vector = new float[8];
        axes.CopyTo(vector, 0);
        TensorPrimitives.Divide(vector, TensorPrimitives.Norm(vector), vector);
        var product = new Product
        {
            Id = id,
            Title = title,
            Category = category,
            GroupId = group,
            Attributes = popularity is null ? new Dictionary<string, string>() : new Dictionary<string, string> { [CatalogPopularity.AttributeName] = popularity },
        };
        _index.UpsertAsync([new IndexedProduct { Product = product, ContentHash = id, Vector = vector }]).GetAwaiter().GetResult();
    }
}
