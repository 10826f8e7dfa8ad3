using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Search.Local;
using static ProductSimilarity.Search.Tests.Local.LocalIndexTestData;

namespace ProductSimilarity.Search.Tests.Local;

/// <summary>The local index's candidates carry ids and scores; products are read only for the results kept.</summary>
public sealed class LocalProductIndexCandidateTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task GetCandidatesAsync_Hybrid_CarriesIdsAndScoresWithoutProducts()
    {
        await using var index = await OpenAsync();

        var lists = await index.GetCandidatesAsync(Hybrid());

        Assert.NotEmpty(lists.Vector);
        Assert.NotEmpty(lists.Keyword);
        Assert.All(lists.Vector.Concat(lists.Keyword), c => Assert.Null(c.Product));
        Assert.Equal("a1", lists.Vector[0].Id);
        Assert.Contains(lists.Keyword, c => c.Id == "g1");
        Assert.NotNull(lists.Products);
    }

    [Fact]
    public async Task CandidateProducts_Read_GivesStoredProductsWithTheirVectors()
    {
        await using var index = await OpenAsync();
        var lists = await index.GetCandidatesAsync(Hybrid());
        var ids = lists.Vector.Select(c => c.Id).ToList();

        var read = lists.Products!.Read(ids);

        Assert.Equal(ids.Count, read.Count);
        foreach (var (id, product) in ids.Zip(read))
        {
            var expected = Catalog().Single(p => p.Id == id);
            Assert.NotNull(product);
            Assert.Equal(expected.Product.Title, product.Product.Title);
            Assert.Equal(expected.Product.Price, product.Product.Price);
            Assert.Equal(expected.Product.GroupId, product.Product.GroupId);
            Assert.Equal(expected.ContentHash, product.ContentHash);
            Assert.Equal(expected.Vector.ToArray(), product.Vector.ToArray());
            Assert.Equal(expected.Product.Description, (await index.GetAsync(id))!.Product.Description);
        }
    }

    [Fact]
    public async Task CandidateProducts_ReadAfterAnotherCommit_ReadsByIdAndSkipsDeleted()
    {
        await using var index = await OpenAsync();
        var lists = await index.GetCandidatesAsync(Hybrid());
        var ids = lists.Vector.Select(c => c.Id).ToList();
        Assert.Contains("a2", ids);

        // The reader the candidates came from is replaced: doc ids move, a2 is gone, a1 has a new price.
        await index.DeleteAsync(["a2"]);
        var a1 = Catalog().Single(p => p.Id == "a1");
        await index.UpsertAsync([a1 with { Product = a1.Product with { Price = 199m } }]);
        await index.CommitAsync();
        var read = lists.Products!.Read(ids);

        Assert.Null(read[ids.IndexOf("a2")]);
        Assert.Equal(199m, read[ids.IndexOf("a1")]!.Product.Price);
        Assert.All(ids.Where(id => id is not "a2").Zip(read.Where(p => p is not null)), x => Assert.Equal(x.First, x.Second!.Id));
    }

    [Fact]
    public async Task SearchAsync_Hybrid_SameHitsAsFusingProductsRead()
    {
        await using var index = await OpenAsync();
        var query = Hybrid();
        var lists = await index.GetCandidatesAsync(query);
        var byId = Catalog().ToDictionary(p => p.Id);
        var withProducts = new CandidateLists(
            [.. lists.Vector.Select(c => new Core.Ranking.ScoredCandidate(byId[c.Id], c.Score))],
            [.. lists.Keyword.Select(c => new Core.Ranking.ScoredCandidate(byId[c.Id], c.Score))]);

        var hits = await index.SearchAsync(query);
        var expected = Core.Ranking.RankFusion.Rank(withProducts, query);

        Assert.Equal(expected.Select(h => (h.Product.Id, h.Score, h.VectorRank, h.KeywordRank)), hits.Select(h => (h.Product.Id, h.Score, h.VectorRank, h.KeywordRank)));
        Assert.Equal(expected.Select(h => h.Product.Product.Title), hits.Select(h => h.Product.Product.Title));
        Assert.Equal(expected.Select(h => h.Product.Vector.ToArray()), hits.Select(h => h.Product.Vector.ToArray()));
    }

    [Fact]
    public async Task UnknownTokenShare_RecordedOnSome_ReadBackExactlyAndNullWhereAbsent()
    {
        await using var index = await OpenAsync(Recorded);
        var query = Leaning();

        var lists = await index.GetCandidatesAsync(query);
        var ids = lists.Vector.Concat(lists.Keyword).Select(c => c.Id).Distinct().ToList();
        var shares = lists.Products!.UnknownTokenShares(ids);
        var read = lists.Products.Read(ids);

        Assert.Contains(ids, id => Recorded(id) is null);
        Assert.Equal(ids.Select(Recorded), shares);
        Assert.Equal(ids.Select(Recorded), read.Select(p => p!.UnknownTokenShare));
        Assert.Equal(Recorded("a1"), (await index.GetAsync("a1"))!.UnknownTokenShare);
        Assert.Null((await index.GetAsync("g1"))!.UnknownTokenShare);
    }

    [Fact]
    public async Task SearchAsync_LeanPerCandidateFromRecordedShares_SameHitsAsTokenisingEachCandidate()
    {
        await using var recorded = await OpenAsync(Recorded);
        var query = Leaning();

        var fromRecorded = await recorded.SearchAsync(query);
        var fromText = await recorded.SearchAsync(query with { CandidateReadableShareOfRecorded = null });

        Assert.Equal(
            fromText.Select(h => (h.Product.Id, h.Score, h.VectorRank, h.KeywordRank)),
            fromRecorded.Select(h => (h.Product.Id, h.Score, h.VectorRank, h.KeywordRank)));
        Assert.NotEqual( // the lean moves scores here, so the comparison above can fail
            (await recorded.SearchAsync(query with { CandidateReadableShare = null, CandidateReadableShareOfRecorded = null })).Select(h => h.Score),
            fromRecorded.Select(h => h.Score));
    }

    [Fact]
    public async Task GetCandidatesAsync_NoLeanPerCandidate_ReadsNoShares()
    {
        await using var index = await OpenAsync(Recorded);

        var lists = await index.GetCandidatesAsync(Leaning() with { Fusion = FusionOptions.Default with { LeanPerCandidate = false } });

        Assert.All(lists.Products!.UnknownTokenShares(["a1", "a2"]), Assert.Null);
    }

    // Products whose title has a digit: half their tokens unknown (a stand-in for a model's tokenizer); recorded at ingest
    // for every product but the g-s (written before shares were recorded).
    private static double? Recorded(string id) => id.StartsWith('g') ? null : Share(Catalog().Single(p => p.Id == id).Product.Title);

    private static double Share(string title) => title.Any(char.IsDigit) ? 0.5 : 0.0;

    // The lean as SimilarityService builds it (1 - unknown share when over 0.2), from the product's recorded share or text.
    private static ProductQuery Leaning() => Hybrid() with
    {
        Top = 8,
        Fusion = FusionOptions.Default with { CandidateCount = 4, UnknownTokenLeanExponent = 1 },
        CandidateReadableShare = p => Readable(p.UnknownTokenShare ?? Share(p.Product.Title)),
        CandidateReadableShareOfRecorded = Readable,
    };

    private static double Readable(double unknown) => unknown < 0.2 ? 1 : 1 - unknown;

    private static ProductQuery Hybrid() => new()
    {
        Text = "sony wireless headphones",
        Vector = V(1, 0.1f, 0, 0),
        Mode = RankingMode.Hybrid,
        Top = 5,
    };

    private async Task<LocalProductIndex> OpenAsync(Func<string, double?>? unknownShare = null)
    {
        var index = LocalProductIndex.Open(_folder.Path);
        await index.EnsureCreatedAsync(4);
        await index.UpsertAsync([.. Catalog().Select(p => p with { UnknownTokenShare = unknownShare?.Invoke(p.Id) })]);
        await index.CommitAsync();
        return index;
    }
}
