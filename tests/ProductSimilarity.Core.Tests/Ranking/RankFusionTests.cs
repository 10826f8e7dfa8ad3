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
    public void Standardized_ZScores_WeightedSumOfStandardScores()
    {
        // Vector 0.9, 0.8, 0.5: mean 0.7333, sd 0.1700. Keyword 10, 6, 2: mean 6, sd 3.266.
        var hits = RankFusion.Standardized(Vector, Keyword, vectorWeight: 0.5);

        double zvA = (0.9 - (2.2 / 3)) / Math.Sqrt(((0.9 - (2.2 / 3)) * (0.9 - (2.2 / 3)) + (0.8 - (2.2 / 3)) * (0.8 - (2.2 / 3)) + (0.5 - (2.2 / 3)) * (0.5 - (2.2 / 3))) / 3);
        double zkA = (2 - 6) / Math.Sqrt(32.0 / 3);
        var a = hits.Single(h => h.Product.Id == "A");
        Assert.Equal((0.5 * zvA) + (0.5 * zkA), a.Score, 9);
        Assert.Equal("B", hits[0].Product.Id);
    }

    [Fact]
    public void Standardized_MissingFromAList_GetsThatListsLowestScore()
    {
        var hits = RankFusion.Standardized(Vector, Keyword, vectorWeight: 1.0);

        // D is only in the keyword list: with all weight on the vector side it ranks as the vector list's last (C).
        var d = hits.Single(h => h.Product.Id == "D");
        var c = hits.Single(h => h.Product.Id == "C");
        Assert.Equal(c.Score, d.Score, 9);
    }

    [Fact]
    public void Standardized_PerQuery_SideWithClearTopLeads()
    {
        // Keyword: one stand-out hit (an exact code); vector: a flat top.
        ScoredCandidate[] vector = [C("X", 0.80), C("Y", 0.79), C("Z", 0.78), C("W", 0.40)];
        ScoredCandidate[] keyword = [C("Y", 30), C("X", 5), C("Z", 4), C("W", 3)];

        Assert.Equal("X", RankFusion.Standardized(vector, keyword, 0.99, perQuery: false)[0].Product.Id);
        Assert.Equal("Y", RankFusion.Standardized(vector, keyword, 0.99, perQuery: true)[0].Product.Id);
    }

    [Fact]
    public void Fuse_ZScoreAndConfidence_DispatchToStandardized()
    {
        var z = RankFusion.Fuse(Vector, Keyword, new FusionOptions { Method = FusionMethod.ZScore, VectorWeight = 0.4 });
        var c = RankFusion.Fuse(Vector, Keyword, new FusionOptions { Method = FusionMethod.Confidence, VectorWeight = 0.4 });

        Assert.Equal(RankFusion.Standardized(Vector, Keyword, 0.4).Select(h => h.Score), z.Select(h => h.Score));
        Assert.Equal(RankFusion.Standardized(Vector, Keyword, 0.4, perQuery: true).Select(h => h.Score), c.Select(h => h.Score));
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

    [Fact]
    public void Standardized_KeywordScoresAllEqual_KeywordHitsStillOutrankProductsMissingFromTheList()
    {
        // Three keyword hits with the same BM25 (a short query matching one word) and a vector list where the
        // keyword hits sit lower: being in the keyword list must still count.
        ScoredCandidate[] vector = [C("X", 0.46), C("Y", 0.45), C("K1", 0.40), C("K2", 0.39), C("K3", 0.38)];
        ScoredCandidate[] keyword = [C("K1", 7.7), C("K2", 7.7), C("K3", 7.7)];

        var hits = RankFusion.Standardized(vector, keyword, vectorWeight: 0.3);

        Assert.Equal(["K1", "K2"], hits.Take(2).Select(h => h.Product.Id));
        Assert.All(hits, h => Assert.False(double.IsNaN(h.Score)));
    }

    [Fact]
    public void Fuse_LeanPerCandidate_UnreadableCandidateLosesItsVectorPart()
    {
        // Vector: A 0.9, B 0.8, C 0.5 (mean 0.7333, sd 0.17); keyword: B 10, D 6, A 2 (mean 6, sd 3.266).
        // A leads on the vector side and B on the keyword side; the model reads only half of A's text, so A's weight
        // is 0.5 * 0.5^2 = 0.125 instead of 0.5, and B (fully readable) moves ahead of it.
        var options = new FusionOptions { Method = FusionMethod.ZScore, VectorWeight = 0.5, UnknownTokenLeanExponent = 2, LeanPerCandidate = true };
        static double Share(IndexedProduct p) => p.Id == "A" ? 0.5 : 1.0;
        var v = Moments([0.9, 0.8, 0.5]);
        var k = Moments([10, 6, 2]);

        var plain = RankFusion.Fuse(Vector, Keyword, options with { LeanPerCandidate = false }, Share);
        var leaned = RankFusion.Fuse(Vector, Keyword, options, Share);

        Assert.Equal((0.5 * v.Z(0.9)) + (0.5 * k.Z(2)), plain.Single(h => h.Product.Id == "A").Score, Tolerance);
        Assert.Equal((0.125 * v.Z(0.9)) + (0.875 * k.Z(2)), leaned.Single(h => h.Product.Id == "A").Score, Tolerance);
        Assert.Equal(plain.Single(h => h.Product.Id == "B").Score, leaned.Single(h => h.Product.Id == "B").Score, Tolerance);
        Assert.True(leaned.Single(h => h.Product.Id == "A").Score < plain.Single(h => h.Product.Id == "A").Score);
    }

    [Fact]
    public void Rank_QueryCarriesReadableShare_AppliedOnlyWhenFusionLeansPerCandidate()
    {
        var lists = new CandidateLists(Vector, Keyword);
        var query = new ProductQuery
        {
            Mode = RankingMode.Hybrid,
            Top = 4,
            Fusion = new FusionOptions { Method = FusionMethod.Weighted, VectorWeight = 0.7, UnknownTokenLeanExponent = 1, LeanPerCandidate = true },
            CandidateReadableShare = p => p.Id == "C" ? 0.0 : 1.0,
        };

        var leaned = RankFusion.Rank(lists, query);
        var plain = RankFusion.Rank(lists, query with { Fusion = query.Fusion with { LeanPerCandidate = false } });

        // Weighted: C = 0.7 * 0.5 = 0.35 plainly; with no readable text its vector part goes and it has no keyword part.
        Assert.Equal(0.35, plain.Single(h => h.Product.Id == "C").Score, Tolerance);
        Assert.Equal(0.0, leaned.Single(h => h.Product.Id == "C").Score, Tolerance);
        Assert.Equal(0.86, leaned[0].Score, Tolerance);
    }

    private static (double Mean, double Sd) MomentsOf(double[] scores)
    {
        var mean = scores.Average();
        return (mean, Math.Sqrt(scores.Sum(s => (s - mean) * (s - mean)) / scores.Length));
    }

    private static Standard Moments(double[] scores)
    {
        var (mean, sd) = MomentsOf(scores);
        return new Standard(mean, sd);
    }

    private readonly record struct Standard(double Mean, double Sd)
    {
        public double Z(double score) => (score - Mean) / Sd;
    }

    private static ScoredCandidate C(string id, double score)
        => new(new IndexedProduct { Product = new Product { Id = id, Title = id }, ContentHash = "h", Vector = new float[] { 1 } }, score);
}
