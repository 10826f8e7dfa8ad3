using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Ranking;

namespace ProductSimilarity.Core.Tests.Ranking;

public sealed class RankFusionTests
{
    private const double Tolerance = 1e-12;

    // vector: A 0.9, B 0.8, C 0.5      keyword: B 10, D 6, A 2
    private static readonly ScoredCandidate[] Vector = [C("A", 0.9), C("B", 0.8), C("C", 0.5)];
    private static readonly ScoredCandidate[] Keyword = [C("B", 10), C("D", 6), C("A", 2)];

    [Fact]
    public void Weighted_TwoLists_MatchesHandComputedScores()
    {
        var hits = RankFusion.Weighted(Vector, Keyword, 0.7);

        // minmax over keyword list: min 2, max 10 -> B 1.0, D 0.5, A 0.0
        // A = 0.7*0.9 + 0.3*0   = 0.63
        // B = 0.7*0.8 + 0.3*1   = 0.86
        // C = 0.7*0.5 + 0       = 0.35
        // D = 0       + 0.3*0.5 = 0.15
        Assert.Equal(["B", "A", "C", "D"], hits.Select(h => h.Product.Id));
        Assert.Equal(0.86, hits[0].Score, Tolerance);
        Assert.Equal(0.63, hits[1].Score, Tolerance);
        Assert.Equal(0.35, hits[2].Score, Tolerance);
        Assert.Equal(0.15, hits[3].Score, Tolerance);
    }

    [Fact]
    public void Weighted_TwoLists_KeepsScorePartsAndRanks()
    {
        var hits = RankFusion.Weighted(Vector, Keyword, 0.7);

        var a = hits.Single(h => h.Product.Id == "A");
        Assert.Equal(0.9, a.VectorScore);
        Assert.Equal(1, a.VectorRank);
        Assert.Equal(2, a.KeywordScore);
        Assert.Equal(3, a.KeywordRank);

        var c = hits.Single(h => h.Product.Id == "C");
        Assert.Null(c.KeywordScore);
        Assert.Null(c.KeywordRank);

        var d = hits.Single(h => h.Product.Id == "D");
        Assert.Null(d.VectorScore);
        Assert.Null(d.VectorRank);
        Assert.Equal(2, d.KeywordRank);
    }

    [Fact]
    public void Weighted_AllKeywordScoresEqual_PresentItemsGetOne()
    {
        var hits = RankFusion.Weighted([C("V", 0.4)], [C("Q", 3.0), C("P", 3.0)], 0.5);

        // P and Q: 0.5*0 + 0.5*1 = 0.5 (tie broken by id: P before Q); V: 0.5*0.4 = 0.2
        Assert.Equal(["P", "Q", "V"], hits.Select(h => h.Product.Id));
        Assert.Equal(0.5, hits[0].Score, Tolerance);
        Assert.Equal(0.5, hits[1].Score, Tolerance);
        Assert.Equal(0.2, hits[2].Score, Tolerance);
    }

    [Fact]
    public void Weighted_WeightOne_RanksByCosineOnly()
    {
        var hits = RankFusion.Weighted(Vector, Keyword, 1.0);

        Assert.Equal(["A", "B", "C", "D"], hits.Select(h => h.Product.Id));
        Assert.Equal(0.0, hits[3].Score, Tolerance);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.1)]
    [InlineData(double.NaN)]
    public void Weighted_WeightOutOfRange_Throws(double weight)
        => Assert.Throws<ArgumentOutOfRangeException>(() => RankFusion.Weighted(Vector, Keyword, weight));

    [Fact]
    public void Rrf_TwoLists_MatchesHandComputedScores()
    {
        var hits = RankFusion.Rrf(Vector, Keyword, 60);

        // A = 1/61 + 1/63, B = 1/62 + 1/61, C = 1/63, D = 1/62
        Assert.Equal(["B", "A", "D", "C"], hits.Select(h => h.Product.Id));
        Assert.Equal((1.0 / 62) + (1.0 / 61), hits[0].Score, Tolerance);
        Assert.Equal((1.0 / 61) + (1.0 / 63), hits[1].Score, Tolerance);
        Assert.Equal(1.0 / 62, hits[2].Score, Tolerance);
        Assert.Equal(1.0 / 63, hits[3].Score, Tolerance);
        Assert.Equal(1, hits[0].KeywordRank);
        Assert.Equal(2, hits[0].VectorRank);
    }

    [Fact]
    public void Rrf_EqualScores_TieBrokenById()
    {
        var hits = RankFusion.Rrf([C("b2", 0.9)], [C("a1", 7)], 10);

        Assert.Equal(["a1", "b2"], hits.Select(h => h.Product.Id));
        Assert.Equal(1.0 / 11, hits[0].Score, Tolerance);
        Assert.Equal(1.0 / 11, hits[1].Score, Tolerance);
    }

    [Fact]
    public void Rrf_NegativeK_Throws()
        => Assert.Throws<ArgumentOutOfRangeException>(() => RankFusion.Rrf(Vector, Keyword, -1));

    [Fact]
    public void Rrf_DuplicateInOneList_KeepsFirstRank()
    {
        var hits = RankFusion.Rrf([C("A", 0.9), C("B", 0.5), C("A", 0.1)], [], 0);

        Assert.Equal(2, hits.Count);
        Assert.Equal(1.0, hits[0].Score, Tolerance);
        Assert.Equal(0.9, hits[0].VectorScore);
        Assert.Equal(0.5, hits[1].Score, Tolerance);
    }

    [Fact]
    public void Fuse_RrfOptions_UsesRrf()
    {
        var hits = RankFusion.Fuse(Vector, Keyword, new FusionOptions { Method = FusionMethod.Rrf, RrfK = 1 });

        // A = 1/2 + 1/4 = 0.75, B = 1/3 + 1/2 = 0.8333
        Assert.Equal("B", hits[0].Product.Id);
        Assert.Equal((1.0 / 3) + (1.0 / 2), hits[0].Score, Tolerance);
        Assert.Equal(0.75, hits[1].Score, Tolerance);
    }

    [Fact]
    public void Fuse_WeightedOptions_UsesWeight()
    {
        var hits = RankFusion.Fuse(Vector, Keyword, new FusionOptions { Method = FusionMethod.Weighted, VectorWeight = 0.0 });

        // keyword only: B 1.0, D 0.5, then A 0 and C 0 tied, broken by id
        Assert.Equal(["B", "D", "A", "C"], hits.Select(h => h.Product.Id));
    }

    [Fact]
    public void FromVector_SingleList_ScoreIsCosineInInputOrder()
    {
        var hits = RankFusion.FromVector(Vector);

        Assert.Equal(["A", "B", "C"], hits.Select(h => h.Product.Id));
        Assert.Equal(0.8, hits[1].Score);
        Assert.Equal(2, hits[1].VectorRank);
        Assert.Null(hits[1].KeywordRank);
    }

    [Fact]
    public void FromKeyword_SingleList_ScoreIsBm25InInputOrder()
    {
        var hits = RankFusion.FromKeyword(Keyword);

        Assert.Equal(["B", "D", "A"], hits.Select(h => h.Product.Id));
        Assert.Equal(6, hits[1].Score);
        Assert.Equal(2, hits[1].KeywordRank);
        Assert.Null(hits[1].VectorRank);
    }

    [Fact]
    public void Rank_VectorMode_RanksTheVectorListAloneAndCutsToTop()
    {
        var hits = RankFusion.Rank(new CandidateLists(Vector, Keyword), new ProductQuery { Mode = RankingMode.Vector, Top = 2 });

        Assert.Equal(["A", "B"], hits.Select(h => h.Product.Id));
        Assert.Equal(0.9, hits[0].Score, Tolerance);
        Assert.All(hits, h => Assert.Null(h.KeywordRank));
    }

    [Fact]
    public void Rank_KeywordMode_RanksTheKeywordListAlone()
    {
        var hits = RankFusion.Rank(new CandidateLists(Vector, Keyword), new ProductQuery { Mode = RankingMode.Keyword, Top = 10 });

        Assert.Equal(["B", "D", "A"], hits.Select(h => h.Product.Id));
        Assert.Equal(10, hits[0].Score, Tolerance);
    }

    [Fact]
    public void Rank_HybridMode_FusesWithTheQueryFusionAndCutsToTop()
    {
        var query = new ProductQuery { Mode = RankingMode.Hybrid, Top = 3, Fusion = new FusionOptions { Method = FusionMethod.Rrf, RrfK = 10 } };

        var hits = RankFusion.Rank(new CandidateLists(Vector, Keyword), query);

        Assert.Equal(RankFusion.Rrf(Vector, Keyword, 10).Take(3).Select(h => (h.Product.Id, h.Score)), hits.Select(h => (h.Product.Id, h.Score)));
    }

    private static ScoredCandidate C(string id, double score)
        => new(new IndexedProduct { Product = new Product { Id = id, Title = id }, ContentHash = "h", Vector = new float[] { 1 } }, score);
}
