using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Ranking;

namespace ProductSimilarity.Core.Tests.Ranking;

/// <summary>Candidates that come with ids only (the local index): the same ranking, products read only when kept.</summary>
public sealed class RankedCandidatesTests
{
    private static readonly string[] VectorIds = ["A", "B", "C", "E", "F"];
    private static readonly double[] VectorScores = [0.9, 0.8, 0.5, 0.4, 0.3];
    private static readonly string[] KeywordIds = ["B", "D", "A", "G"];
    private static readonly double[] KeywordScores = [10, 6, 2, 1];

    [Theory]
    [InlineData(RankingMode.Hybrid, false)]
    [InlineData(RankingMode.Hybrid, true)]
    [InlineData(RankingMode.Vector, false)]
    [InlineData(RankingMode.Keyword, false)]
    public void Rank_IdOnlyCandidates_SameHitsAsWithProducts(RankingMode mode, bool lean)
    {
        var store = new CountingProducts();
        var query = Query(mode, top: 4, lean);

        var lazy = RankFusion.Rank(IdOnly(store), query);
        var eager = RankFusion.Rank(WithProducts(), query);

        Assert.Equal(
            eager.Select(h => (h.Product.Id, h.Score, h.VectorScore, h.KeywordScore, h.VectorRank, h.KeywordRank)),
            lazy.Select(h => (h.Product.Id, h.Score, h.VectorScore, h.KeywordScore, h.VectorRank, h.KeywordRank)));
        Assert.Equal(eager.Select(h => h.Product.Product.Title), lazy.Select(h => h.Product.Product.Title));
    }

    [Fact]
    public void Order_WithoutLean_ReadsOnlyTheHitsAskedFor()
    {
        var store = new CountingProducts();
        var ranked = RankFusion.Order(IdOnly(store), Query(RankingMode.Hybrid, top: 5, lean: false));
        Assert.Empty(store.Asked);

        var first = ranked.Hits(0, 2);
        var next = ranked.Hits(2, 2);

        Assert.Equal(4, store.Asked.Count);
        Assert.Equal(first.Concat(next).Select(h => h.Product.Id), store.Asked);
        Assert.Equal(5, ranked.Count);
    }

    [Fact]
    public void Order_WithLean_ReadsEachCandidateOnce()
    {
        var store = new CountingProducts();
        var ranked = RankFusion.Order(IdOnly(store), Query(RankingMode.Hybrid, top: 10, lean: true));

        var hits = ranked.Hits(0, ranked.Count);

        Assert.Equal(7, hits.Count);
        Assert.Equal(7, store.Asked.Count);
        Assert.Equal(store.Asked.Count, store.Asked.Distinct().Count());
    }

    [Theory]
    [InlineData(FusionMethod.ZScore)]
    [InlineData(FusionMethod.Confidence)]
    [InlineData(FusionMethod.Weighted)]
    public void Order_SharesRecordedAtIngest_SameHitsAndOnlyTheKeptOnesRead(FusionMethod method)
    {
        var recorded = new CountingProducts { Recorded = true };
        var reading = new CountingProducts();
        var query = Query(RankingMode.Hybrid, top: 3, lean: true) with { Fusion = FusionOptions.Default with { Method = method, CandidateCount = 3 } };

        var fromRecorded = RankFusion.Order(IdOnly(recorded), query).Hits(0, 3);
        var fromText = RankFusion.Order(IdOnly(reading), query with { CandidateReadableShareOfRecorded = null }).Hits(0, 3);
        var eager = RankFusion.Rank(WithProducts(), query);

        Assert.Equal(eager.Select(h => (h.Product.Id, h.Score)), fromRecorded.Select(h => (h.Product.Id, h.Score)));
        Assert.Equal(fromText.Select(h => (h.Product.Id, h.Score)), fromRecorded.Select(h => (h.Product.Id, h.Score)));
        Assert.Equal(7, reading.Asked.Count); // every candidate read for its text
        Assert.Equal(fromRecorded.Select(h => h.Product.Id), recorded.Asked); // only the hits kept
    }

    [Fact]
    public void Order_ShareNotRecordedForSome_ReadsOnlyThoseForTheLean()
    {
        var store = new CountingProducts { Recorded = true, NotRecorded = { "B", "G" } };
        var reading = new CountingProducts();
        var query = Query(RankingMode.Hybrid, top: 10, lean: true);

        var ranked = RankFusion.Order(IdOnly(store), query);
        var asked = store.Asked.ToList();
        var hits = ranked.Hits(0, ranked.Count);

        Assert.Equal(["B", "G"], asked.Order());
        Assert.Equal(
            RankFusion.Rank(IdOnly(reading), query with { CandidateReadableShareOfRecorded = null }).Select(h => (h.Product.Id, h.Score)),
            hits.Select(h => (h.Product.Id, h.Score)));
    }

    [Fact]
    public void HitsAt_RanksInAnyOrder_ReadInOneCallWithGoneAsNull()
    {
        var store = new CountingProducts { Gone = { "C" } };
        var ranked = RankFusion.Order(IdOnly(store), Query(RankingMode.Vector, top: 5, lean: false));

        var hits = ranked.HitsAt([3, 0, 2]);

        Assert.Equal(["E", "A", null], hits.Select(h => h?.Product.Id));
        Assert.Equal(["E", "A", "C"], store.Asked);
        Assert.Equal(1, store.Calls);
        Assert.Equal(ranked.Hits(0, 1)[0], hits[1]);
        Assert.Equal(1, store.Calls); // A is not read again
    }

    [Fact]
    public void Hits_ProductGoneSinceRanking_IsLeftOut()
    {
        var store = new CountingProducts { Gone = { "B" } };
        var ranked = RankFusion.Order(IdOnly(store), Query(RankingMode.Vector, top: 3, lean: false));

        var hits = ranked.Hits(0, 3);

        Assert.Equal(["A", "C"], hits.Select(h => h.Product.Id));
    }

    [Fact]
    public void Fuse_IdOnlyCandidatesWithoutReader_Throws()
    {
        var lists = IdOnly(new CountingProducts());

        Assert.Throws<ArgumentException>(() => RankFusion.Fuse(lists.Vector, lists.Keyword, FusionOptions.Default));
        Assert.Throws<ArgumentException>(() => RankFusion.Rank(lists with { Products = null }, Query(RankingMode.Hybrid, 3, lean: false)));
    }

    private static ProductQuery Query(RankingMode mode, int top, bool lean) => new()
    {
        Mode = mode,
        Top = top,
        Fusion = FusionOptions.Default with { CandidateCount = 3, LeanPerCandidate = lean },

        // Products whose title has a digit read half (a stand-in for unknown tokens); recorded, that is an unknown share of 0.5.
        CandidateReadableShare = lean ? p => p.Product.Title.Any(char.IsDigit) ? 0.5 : 1 : null,
        CandidateReadableShareOfRecorded = lean ? u => 1 - u : null,
    };

    private static CandidateLists IdOnly(CountingProducts store) => new(
        [.. VectorIds.Zip(VectorScores, (id, s) => new ScoredCandidate(id, s))],
        [.. KeywordIds.Zip(KeywordScores, (id, s) => new ScoredCandidate(id, s))])
    {
        Products = store,
    };

    private static CandidateLists WithProducts() => new(
        [.. VectorIds.Zip(VectorScores, (id, s) => new ScoredCandidate(P(id), s))],
        [.. KeywordIds.Zip(KeywordScores, (id, s) => new ScoredCandidate(P(id), s))]);

    private static IndexedProduct P(string id) => new()
    {
        Product = new Product { Id = id, Title = id is "B" or "D" ? $"{id} 2000" : $"{id} item" },
        ContentHash = "h-" + id,
        Vector = new float[] { 1 },
    };

    private sealed class CountingProducts : ICandidateProducts
    {
        public List<string> Asked { get; } = [];

        public HashSet<string> Gone { get; } = [];

        // Whether the store recorded each product's unknown-token share at ingest (but for NotRecorded).
        public bool Recorded { get; init; }

        public HashSet<string> NotRecorded { get; } = [];

        public int Calls { get; private set; }

        public IReadOnlyList<IndexedProduct?> Read(IReadOnlyList<string> ids)
        {
            Calls++;
            Asked.AddRange(ids);
            return [.. ids.Select(id => Gone.Contains(id) ? null : P(id))];
        }

        public IReadOnlyList<double?> UnknownTokenShares(IReadOnlyList<string> ids)
            => [.. ids.Select(id => Recorded && !NotRecorded.Contains(id) && !Gone.Contains(id) ? P(id).Product.Title.Any(char.IsDigit) ? 0.5 : 0.0 : (double?)null)];
    }
}
