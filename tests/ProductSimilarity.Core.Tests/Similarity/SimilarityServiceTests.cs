using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Similarity;
using ProductSimilarity.Core.Tests.Fakes;

namespace ProductSimilarity.Core.Tests.Similarity;

public sealed class SimilarityServiceTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private readonly InMemoryProductIndex _index = new();
    private readonly BagOfWordsEmbeddingGenerator _generator = new();
    private readonly SimilarityService _service;

    public SimilarityServiceTests()
    {
        _service = new SimilarityService(_index, _generator, Options.Create(new ProductSimilarityOptions()), new FakeTimeProvider(Now));
        Add("E1", "wireless earbuds noise cancelling", "Audio", 50m);
        Add("E2", "wireless earbuds bluetooth", "Audio", 30m);
        Add("E3", "wireless earbuds sport", "Audio", 80m, group: "G-E3");
        Add("E3b", "wireless earbuds sport", "Audio", 80m, group: "G-E3");
        Add("K1", "chef knife steel", "Kitchen", 40m);
        Add("K2", "chef knife ceramic", "Kitchen", 25m);
        Add("K3", "bread knife steel", "Kitchen", 20m);
        _index.CommitAsync().GetAwaiter().GetResult();
    }

    [Fact]
    public async Task SimilarAsync_ExcludesItselfAndItsVariants()
    {
        var result = await _service.SimilarAsync(new SimilarRequest { Id = "E3", Top = 10 });

        Assert.Equal("E3", result.Query!.Id);
        Assert.DoesNotContain(result.Hits, h => h.Product.Id is "E3" or "E3b");
        Assert.Contains(result.Hits[0].Product.Id, new[] { "E1", "E2" });
        Assert.True(result.Hits[0].VectorScore > result.Hits[^1].VectorScore);
    }

    [Fact]
    public async Task SearchAsync_ConfiguredTextRules_ShapeTheKeywordQuery()
    {
        var options = new ProductSimilarityOptions();
        options.Text.Boilerplate = ["clearance"];
        options.Text.NormalizeUnits = false;
        var service = new SimilarityService(_index, _generator, Options.Create(options), new FakeTimeProvider(Now));

        await service.SearchAsync("Clearance chef knife 20 cm", 5);
        var configured = _index.LastQuery!.Text;
        await _service.SearchAsync("Clearance chef knife 20 cm", 5);

        Assert.Equal("chef knife 20 cm", configured);
        Assert.Equal("clearance chef knife 20cm", _index.LastQuery!.Text);
    }

    [Fact]
    public async Task SimilarAsync_SameGtin_RanksFirstAndIsFlagged()
    {
        Add("S1", "chef knife steel forged", "Kitchen", 45m, gtin: "04006381333931");
        Add("S2", "santoku blade", "Kitchen", 44m, gtin: "04006381333931"); // the same article under another id
        await _index.CommitAsync();

        var result = await _service.SimilarAsync(new SimilarRequest { Id = "S1", Top = 10 });

        Assert.Equal("S2", result.Hits[0].Product.Id);
        Assert.True(result.Hits[0].SameProduct);
        Assert.Equal("same GTIN", result.Hits[0].SameProductReason);
        Assert.All(result.Hits.Skip(1), h => Assert.False(h.SameProduct));
        Assert.True(result.Hits[1].Score > result.Hits[0].Score); // K1 is closer in text, yet S2 leads
        Assert.Equal("same GTIN", HitView.From(result.Hits[0]).Reason);
    }

    [Fact]
    public async Task RecommendAsync_PurchasedGtinUnderAnotherId_IsExcludedToo()
    {
        Add("S1", "chef knife steel forged", "Kitchen", 45m, gtin: "04006381333931");
        Add("S2", "chef knife steel forged classic", "Kitchen", 44m, gtin: "04006381333931");
        await _index.CommitAsync();

        var excluded = await _service.RecommendAsync(new RecommendationRequest { History = [new("S1", InteractionKind.Purchase, Now)] });
        var kept = await _service.RecommendAsync(new RecommendationRequest { History = [new("S1", InteractionKind.Purchase, Now)], ExcludePurchased = false });

        Assert.DoesNotContain(excluded.Hits, h => h.Product.Id is "S1" or "S2");
        Assert.Contains(kept.Hits, h => h.Product.Id == "S2");
    }

    [Fact]
    public async Task SimilarAsync_OtherProductsVariants_CollapsedToBestRanked()
    {
        var result = await _service.SimilarAsync(new SimilarRequest { Id = "E2", Top = 10 });

        var ids = result.Hits.Select(h => h.Product.Id).ToList();
        Assert.Single(ids, id => id is "E3" or "E3b");
        Assert.Equal(5, ids.Count); // 7 products - E2 itself - one collapsed variant
    }

    [Fact]
    public async Task SearchAsync_TopLimit_FilledAfterCollapsing()
    {
        var result = await _service.SearchAsync("wireless earbuds sport", 2);

        Assert.Equal(2, result.Hits.Count);
        Assert.Single(result.Hits, h => h.Product.Id is "E3" or "E3b");
    }

    [Fact]
    public async Task SimilarAsync_UnknownId_ThrowsProductNotFound()
    {
        var ex = await Assert.ThrowsAsync<ProductNotFoundException>(() => _service.SimilarAsync(new SimilarRequest { Id = "nope" }));
        Assert.Equal("nope", ex.Id);
        Assert.Contains("'nope'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SimilarAsync_Filters_ArePassedToTheIndex()
    {
        var result = await _service.SimilarAsync(new SimilarRequest { Id = "K1", Filter = new ProductFilter { MaxPrice = 22m }, Shaping = new ResultShaping { Fallback = false } });

        Assert.Equal(["K3"], result.Hits.Select(h => h.Product.Id));
    }

    [Fact]
    public async Task SearchAsync_FindsByMeaningOfText()
    {
        var result = await _service.SearchAsync("Chef Knife", 2);

        Assert.All(result.Hits, h => Assert.StartsWith("K", h.Product.Id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task RecommendAsync_ExcludesPurchasedAndSeenAndPurchasedVariants()
    {
        var result = await _service.RecommendAsync(new RecommendationRequest
        {
            History =
            [
                new HistoryEvent("E1", InteractionKind.View, Now.AddHours(-1)),
                new HistoryEvent("E3", InteractionKind.Purchase, Now.AddDays(-1)),
            ],
            Top = 10,
        });

        var ids = result.Hits.Select(h => h.Product.Id).ToList();
        Assert.DoesNotContain("E1", ids);
        Assert.DoesNotContain("E3", ids);
        Assert.DoesNotContain("E3b", ids);
        Assert.Equal("E2", ids[0]);
    }

    [Fact]
    public async Task RecommendAsync_IncludePurchased_AllowsReplenishment()
    {
        var result = await _service.RecommendAsync(new RecommendationRequest
        {
            History = [new HistoryEvent("K2", InteractionKind.Purchase, Now)],
            ExcludePurchased = false,
        });

        Assert.Equal("K2", result.Hits[0].Product.Id);
    }

    [Fact]
    public async Task RecommendAsync_RecentStrongEventsWeighMore()
    {
        var old = await _service.RecommendAsync(new RecommendationRequest
        {
            History =
            [
                new HistoryEvent("K1", InteractionKind.View, Now.AddDays(-60)),
                new HistoryEvent("E1", InteractionKind.Cart, Now.AddMinutes(-5)),
            ],
        });

        Assert.StartsWith("E", old.Hits[0].Product.Id, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecommendAsync_UnknownIdsOnly_ReturnsEmpty()
    {
        var result = await _service.RecommendAsync(new RecommendationRequest { History = [new HistoryEvent("ghost", InteractionKind.View, null)] });

        Assert.Empty(result.Hits);
    }

    [Fact]
    public async Task RecommendAsync_TooLongHistory_Throws()
    {
        var history = Enumerable.Range(0, RecommendationRequest.MaxHistory + 1).Select(i => new HistoryEvent($"x{i}", InteractionKind.View, null)).ToList();

        await Assert.ThrowsAsync<ArgumentException>(() => _service.RecommendAsync(new RecommendationRequest { History = history }));
    }

    private void Add(string id, string title, string category, decimal price, string? group = null, string? gtin = null)
    {
        var product = new Product { Id = id, Title = title, Category = category, Price = price, GroupId = group, Gtin = gtin };
        _index.UpsertAsync([new IndexedProduct { Product = product, ContentHash = id, Vector = _generator.Embed(title) }]).GetAwaiter().GetResult();
    }

    [Fact]
    public void DefaultFusion_IndexHasTunedFusion_UsesItUnlessTurnedOff()
    {
        var configured = new ProductSimilarityOptions();
        configured.Ranking.CandidateCount = 80;
        var service = new SimilarityService(_index, _generator, Options.Create(configured), new FakeTimeProvider(Now));
        Assert.Equal(configured.Ranking.ToFusionOptions(), service.DefaultFusion);

        _index.TunedFusion = new TunedFusion(FusionMethod.Weighted, 0.6, 100);

        Assert.Equal(configured.Ranking.ToFusionOptions() with { Method = FusionMethod.Weighted, VectorWeight = 0.6 }, service.DefaultFusion);
        Assert.Equal(80, service.DefaultFusion.CandidateCount);
        configured.Ranking.UseTunedFusion = false;
        Assert.Equal(configured.Ranking.ToFusionOptions(), service.DefaultFusion);
    }

    [Theory]
    [InlineData("ZScore;0.2;120", FusionMethod.ZScore, 0.2, 120)]
    [InlineData("weighted;1;20", FusionMethod.Weighted, 1.0, 20)]
    public void TunedFusion_Parse_ReadsTheStoredForm(string stored, FusionMethod method, double weight, int queries)
    {
        var parsed = TunedFusion.Parse(stored);

        Assert.Equal(new TunedFusion(method, weight, queries), parsed);
        Assert.Equal(parsed, TunedFusion.Parse(parsed!.Serialize()));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("ZScore;1.5;10")]
    [InlineData("Nonsense;0.2;10")]
    [InlineData("ZScore;0.2")]
    public void TunedFusion_Parse_BadForm_ReturnsNull(string? stored) => Assert.Null(TunedFusion.Parse(stored));

    [Fact]
    public async Task SimilarAsync_ModelCannotReadText_KeywordLeadsAndNoteSaysSo()
    {
        var coverage = new CoverageGenerator(_generator, unknownShare: 0.6);
        var leaning = new SimilarityService(_index, coverage, Options.Create(new ProductSimilarityOptions()), new FakeTimeProvider(Now));

        var (fusion, note) = leaning.FusionFor("无线耳机", new FusionOptions { VectorWeight = 0.7, UnknownTokenLeanExponent = 1 });
        var (cubed, cubedNote) = leaning.FusionFor("无线耳机", new FusionOptions { VectorWeight = 0.7 });
        var result = await leaning.SimilarAsync(new SimilarRequest { Id = "E1", Top = 3 });

        Assert.Equal(0.7 * 0.4, fusion.VectorWeight, 9);
        Assert.Equal(0.7 * 0.4 * 0.4 * 0.4, cubed.VectorWeight, 9); // the default lean cubes the readable share
        Assert.Contains("60%", note, StringComparison.Ordinal);
        Assert.Contains("scaled to 0.40", note, StringComparison.Ordinal);
        Assert.Contains("scaled to 0.06", cubedNote, StringComparison.Ordinal);
        Assert.Equal(cubedNote, result.RankingNote); // the service uses the default, cubed lean
    }

    [Fact]
    public async Task SimilarAsync_LeanPerCandidate_QueryCarriesEachCandidatesReadableShare()
    {
        var coverage = new CoverageGenerator(_generator, unknownShare: 0.6);
        var leaning = new SimilarityService(_index, coverage, Options.Create(new ProductSimilarityOptions()), new FakeTimeProvider(Now));
        var off = new ProductSimilarityOptions();
        off.Ranking.LeanPerCandidate = false;
        var plain = new SimilarityService(_index, coverage, Options.Create(off), new FakeTimeProvider(Now));

        await leaning.SimilarAsync(new SimilarRequest { Id = "E1", Top = 3 });
        var share = _index.LastQuery!.CandidateReadableShare;
        await plain.SimilarAsync(new SimilarRequest { Id = "E1", Top = 3 });

        Assert.NotNull(share);
        Assert.Equal(0.4, share((await _index.GetAsync("K1"))!), 9);
        Assert.Null(_index.LastQuery!.CandidateReadableShare);
        Assert.Null(leaning.CandidateReadableShare(FusionOptions.Default, RankingMode.Vector));
    }

    [Fact]
    public async Task CandidateReadableShare_ShareRecordedAtIngest_UsedWithoutTokenisingAndAgreesWithRecordedForm()
    {
        var coverage = new CoverageGenerator(_generator, unknownShare: 0.6);
        var leaning = new SimilarityService(_index, coverage, Options.Create(new ProductSimilarityOptions()), new FakeTimeProvider(Now));
        var product = (await _index.GetAsync("K1"))!;
        var ofProduct = leaning.CandidateReadableShare(FusionOptions.Default)!;
        var ofRecorded = leaning.CandidateReadableShareOfRecorded(FusionOptions.Default)!;

        var tokenised = ofProduct(product);
        var calls = coverage.Calls;
        var recorded = ofProduct(product with { UnknownTokenShare = 0.25 });
        var under = ofProduct(product with { UnknownTokenShare = 0.1 }); // under UnknownTokenThreshold: read in full

        Assert.Equal(0.4, tokenised, 9);
        Assert.Equal(calls, coverage.Calls);
        Assert.Equal(0.75, recorded, 9);
        Assert.Equal(1, under);
        Assert.Equal(recorded, ofRecorded(0.25));
        Assert.Equal(under, ofRecorded(0.1));
        Assert.Equal(tokenised, ofRecorded(0.6));
        Assert.Null(leaning.CandidateReadableShareOfRecorded(FusionOptions.Default, RankingMode.Vector));
    }

    [Fact]
    public async Task SimilarAsync_LeanPerCandidate_QueryCarriesTheRecordedForm()
    {
        var leaning = new SimilarityService(_index, new CoverageGenerator(_generator, unknownShare: 0.6), Options.Create(new ProductSimilarityOptions()), new FakeTimeProvider(Now));

        await leaning.SimilarAsync(new SimilarRequest { Id = "E1", Top = 3 });

        Assert.Equal(0.4, _index.LastQuery!.CandidateReadableShareOfRecorded!(0.6), 9);
    }

    [Fact]
    public async Task SimilarAsync_ModelReadsText_ConfiguredFusionAndNoNote()
    {
        var coverage = new CoverageGenerator(_generator, unknownShare: 0.05);
        var reading = new SimilarityService(_index, coverage, Options.Create(new ProductSimilarityOptions()), new FakeTimeProvider(Now));

        var (fusion, note) = reading.FusionFor("wireless earbuds", FusionOptions.Default);
        var result = await reading.SimilarAsync(new SimilarRequest { Id = "E1", Top = 3 });

        Assert.Same(FusionOptions.Default, fusion);
        Assert.Null(note);
        Assert.Null(result.RankingNote);
    }

    [Fact]
    public void FusionFor_KeywordOrVectorMode_Unchanged()
    {
        var leaning = new SimilarityService(_index, new CoverageGenerator(_generator, 0.9), Options.Create(new ProductSimilarityOptions()), new FakeTimeProvider(Now));

        Assert.Null(leaning.FusionFor("无线耳机", FusionOptions.Default, RankingMode.Vector).Note);
    }

    /// <summary>A generator whose tokenizer reports a fixed share of unknown tokens.</summary>
    private sealed class CoverageGenerator(BagOfWordsEmbeddingGenerator inner, double unknownShare)
        : DelegatingEmbeddingGenerator<string, Embedding<float>>(inner), ProductSimilarity.Core.Text.ITokenCoverage
    {
        public int Calls { get; private set; }

        public double UnknownTokenShare(string text)
        {
            Calls++;
            return unknownShare;
        }

        public override object? GetService(Type serviceType, object? serviceKey = null) =>
            serviceType == typeof(ProductSimilarity.Core.Text.ITokenCoverage) ? this : base.GetService(serviceType, serviceKey);
    }
}
