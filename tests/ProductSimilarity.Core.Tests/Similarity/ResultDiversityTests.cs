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
/// MMR and near-duplicate suppression on a catalog written for these tests: a query phone case Q, three near-copies
/// of one listing (A1-A3, cosine above 0.99 with each other), two other cases (B, C) a little less like Q but unlike A,
/// and three unrelated products (F1-F3) so the candidate pool spans relevant and irrelevant items as a real one does.
/// </summary>
public sealed class ResultDiversityTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private readonly InMemoryProductIndex _index = new();

    public ResultDiversityTests()
    {
        Add("Q", 1f, 0f, 0f, 0f);
        Add("A1", 0.95f, 0.30f, 0f, 0f);
        Add("A2", 0.94f, 0.32f, 0.01f, 0f);
        Add("A3", 0.93f, 0.34f, 0f, 0.01f);
        Add("B", 0.85f, 0f, 0.52f, 0f);
        Add("C", 0.80f, 0f, 0f, -0.60f);
        Add("F1", 0.05f, -0.3f, 0.4f, 0.86f);
        Add("F2", 0.05f, 0.3f, -0.5f, 0.8f);
        Add("F3", 0.05f, -0.2f, -0.9f, 0.38f);
        _index.CommitAsync().GetAwaiter().GetResult();
    }

    [Fact]
    public async Task SimilarAsync_NoDiversity_NearCopiesFillTheList()
    {
        var result = await Service().SimilarAsync(Request());

        Assert.Equal(["A1", "A2", "A3"], Ids(result));
    }

    [Fact]
    public async Task SimilarAsync_NearDuplicatesSuppressed_CopiesCountAsOne()
    {
        var result = await Service().SimilarAsync(Request() with { Shaping = new ResultShaping { SuppressNearDuplicates = true } });

        Assert.Equal(["A1", "B", "C"], Ids(result));
        Assert.True(Cosine("A1", "A2") > 0.97);
        Assert.True(Cosine("A1", "B") < 0.97);
    }

    [Fact]
    public async Task SimilarAsync_NearDuplicatesOnInConfiguration_AppliesWithoutTheRequestAsking()
    {
        var result = await Service(new ResultOptions { SuppressNearDuplicates = true }).SimilarAsync(Request());

        Assert.Equal(["A1", "B", "C"], Ids(result));
    }

    [Fact]
    public async Task SimilarAsync_HigherThreshold_KeepsCopiesBelowIt()
    {
        // The copies of A are 0.999 to 0.9997 alike: above the default 0.97, below 0.9999.
        var result = await Service(new ResultOptions { NearDuplicateThreshold = 0.9999 }).SimilarAsync(Request() with { Shaping = new ResultShaping { SuppressNearDuplicates = true } });

        Assert.Equal(["A1", "A2", "A3"], Ids(result));
    }

    [Fact]
    public async Task SimilarAsync_Mmr_BringsUnlikeItemsForward()
    {
        var diverse = await Service().SimilarAsync(Request() with { Shaping = new ResultShaping { MmrLambda = 0.5 } });
        var relevance = await Service().SimilarAsync(Request() with { Shaping = new ResultShaping { MmrLambda = 1.0 } });

        // After the best item, the two unlike cases come before the second and third copies of A.
        Assert.Equal(["A1", "B", "C"], Ids(diverse));

        // lambda 1 is relevance alone: the plain ranking.
        Assert.Equal(["A1", "A2", "A3"], Ids(relevance));
    }

    [Fact]
    public async Task SimilarAsync_MmrOverTheWholeCatalog_ReordersWithoutDropping()
    {
        var all = await Service().SimilarAsync(Request(top: 8) with { Shaping = new ResultShaping { MmrLambda = 0.5 } });

        Assert.Equal(["A1", "A2", "A3", "B", "C", "F1", "F2", "F3"], Ids(all).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task SimilarAsync_MmrWithFallback_DiversifiesAcrossTiers()
    {
        // Only A2 passes "price <= 15"; the fallback fills from the rest, and A2's near-copies A1 and A3 stay out.
        var result = await Service().SimilarAsync(Request() with
        {
            Filter = new ProductFilter { MaxPrice = 15m },
            Shaping = new ResultShaping { SuppressNearDuplicates = true },
        });

        Assert.Equal(["A2", "B", "C"], Ids(result));
        Assert.Empty(result.Hits[0].RelaxedFilters);
        Assert.Equal(["price"], result.Hits[1].RelaxedFilters);
    }

    [Fact]
    public void Select_VectorsMissing_NoRedundancyAndNoCopies()
    {
        var p1 = new SearchHit(new IndexedProduct { Product = new Product { Id = "1", Title = "one" }, ContentHash = "1", Vector = ReadOnlyMemory<float>.Empty }, 2, null, null, null, null);
        var p2 = p1 with { Product = p1.Product with { Product = new Product { Id = "2", Title = "two" } }, Score = 1 };

        var chosen = ResultDiversity.Select([p1, p2], 2, 0.3, 0.5);

        Assert.Equal(["1", "2"], chosen.Select(h => h.Product.Id));
    }

    [Fact]
    public void Select_LambdaOutOfRange_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ResultDiversity.Select([], 3, 1.5, null));
    }

    private static SimilarRequest Request(int top = 3) => new() { Id = "Q", Top = top, Mode = RankingMode.Vector };

    private static List<string> Ids(SimilarityResult result) => [.. result.Hits.Select(h => h.Product.Id)];

    private double Cosine(string a, string b) =>
        TensorPrimitives.CosineSimilarity(_index.GetAsync(a).Result!.Vector.Span, _index.GetAsync(b).Result!.Vector.Span);

    private SimilarityService Service(ResultOptions? results = null) => new(
        _index,
        new BagOfWordsEmbeddingGenerator(4),
        Options.Create(new ProductSimilarityOptions { Results = results ?? new ResultOptions() }),
        new FakeTimeProvider(Now));

    private void Add(string id, params float[] vector)
    {
        var norm = TensorPrimitives.Norm(vector);
        TensorPrimitives.Divide(vector, norm, vector);
        var price = id == "A2" ? 10m : 20m;
        var product = new Product { Id = id, Title = "phone case " + id, Category = "Cases", Price = price };
        _index.UpsertAsync([new IndexedProduct { Product = product, ContentHash = id, Vector = vector }]).GetAwaiter().GetResult();
    }
}
