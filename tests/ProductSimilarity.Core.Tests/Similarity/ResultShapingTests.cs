using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Similarity;
using ProductSimilarity.Core.Tests.Fakes;

namespace ProductSimilarity.Core.Tests.Similarity;

/// <summary>The filter fallback, MMR and near-duplicate suppression, on a small catalog written for these tests.</summary>
public sealed class ResultShapingTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private readonly CountingIndex _index = new();
    private readonly BagOfWordsEmbeddingGenerator _generator = new();

    public ResultShapingTests()
    {
        // Shoes: the query S0 and five others with their colour, price and stock.
        Add("S0", "running shoe light", "Shoes", 100m, "Fleet", color: "black", inStock: true);
        Add("S1", "running shoe light mesh", "Shoes", 90m, "Fleet", color: "black", inStock: true);
        Add("S2", "running shoe light trail", "Shoes", 95m, "Fleet", color: "red", inStock: true);
        Add("S3", "running shoe light road", "Shoes", 180m, "Fleet", color: "black", inStock: true);
        Add("S4", "running shoe light race", "Shoes", 85m, "Stride", color: "black", inStock: false);
        Add("S5", "running sock light", "Socks", 10m, "Stride", color: "white", inStock: true);
        _index.CommitAsync().GetAwaiter().GetResult();
    }

    [Fact]
    public async Task SimilarAsync_FewerThanTopPass_FillsWithRelaxedItemsAfterTheStrictOnes()
    {
        var service = Service();
        var filter = new ProductFilter { Attributes = Colour("black"), MaxPrice = 120m, InStock = true };

        var result = await service.SimilarAsync(new SimilarRequest { Id = "S0", Top = 4, Filter = filter });

        // S1 passes everything. Attributes relax first: S2 (red) and S5 (a white sock) miss only the colour. Price relaxes
        // next: S3 (black, 180) misses only the price. Each tier keeps its own ranking; strict items lead.
        Assert.Equal(["S1", "S2", "S5", "S3"], result.Hits.Select(h => h.Product.Id));
        Assert.Empty(result.Hits[0].RelaxedFilters);
        Assert.Equal(["attr.color"], result.Hits[1].RelaxedFilters);
        Assert.Equal(["attr.color"], result.Hits[2].RelaxedFilters);
        Assert.Equal(["price"], result.Hits[3].RelaxedFilters);

        // The stock flag is never relaxed by default: S4 (black, 85, out of stock) would pass everything else.
        Assert.DoesNotContain(result.Hits, h => h.Product.Id == "S4");
    }

    [Fact]
    public async Task SimilarAsync_OnlyStockCanFill_StaysShortByDefault()
    {
        var service = Service();

        var result = await service.SimilarAsync(new SimilarRequest { Id = "S0", Top = 4, Filter = new ProductFilter { Brand = "Fleet", InStock = false } });

        // Brand relaxes (S4 is the only out-of-stock product, by Stride), but the stock flag stays, so nothing else fits.
        Assert.Equal(["S4"], result.Hits.Select(h => h.Product.Id));
        Assert.Equal(["brand"], result.Hits[0].RelaxedFilters);
    }

    [Fact]
    public async Task SimilarAsync_FallbackOff_ReturnsOnlyItemsThatPass()
    {
        var service = Service();
        var filter = new ProductFilter { Attributes = Colour("black"), MaxPrice = 120m, InStock = true };

        var result = await service.SimilarAsync(new SimilarRequest { Id = "S0", Top = 4, Filter = filter, Shaping = new ResultShaping { Fallback = false } });

        Assert.Equal(["S1"], result.Hits.Select(h => h.Product.Id));
        Assert.Empty(result.Hits[0].RelaxedFilters);
    }

    [Fact]
    public async Task SimilarAsync_ConfiguredOrder_RelaxesPriceBeforeAttributesAndStockWhenListed()
    {
        var service = Service(new ResultOptions { RelaxOrder = "price, inStock, attributes" });
        var filter = new ProductFilter { Attributes = Colour("black"), MaxPrice = 120m, InStock = true };

        var result = await service.SimilarAsync(new SimilarRequest { Id = "S0", Top = 3, Filter = filter });

        Assert.Equal(["S1", "S3", "S4"], result.Hits.Select(h => h.Product.Id));
        Assert.Equal(["price"], result.Hits[1].RelaxedFilters);
        Assert.Equal(["inStock"], result.Hits[2].RelaxedFilters);
    }

    [Fact]
    public async Task SearchAsync_ShortFilteredList_FallsBackToo()
    {
        var service = Service();

        var result = await service.SearchAsync(new SearchRequest { Text = "running shoe", Top = 3, Filter = new ProductFilter { Brand = "stride", Category = "Shoes" } });

        Assert.Equal("S4", result.Hits[0].Product.Id);
        Assert.Empty(result.Hits[0].RelaxedFilters);
        Assert.Equal(3, result.Hits.Count);
        Assert.All(result.Hits.Skip(1), h => Assert.Contains("brand", h.RelaxedFilters));
    }

    [Fact]
    public async Task SimilarAsync_Explain_CarriesTheRelaxedFilters()
    {
        var service = Service();

        var result = await service.SimilarAsync(new SimilarRequest { Id = "S0", Top = 2, Filter = new ProductFilter { Category = "shoes", MaxPrice = 88m }, Explain = true });

        Assert.Equal(["S4", "S1"], result.Hits.Select(h => h.Product.Id));
        Assert.Empty(result.Hits[0].Explanation!.RelaxedFilters);
        Assert.Equal(["price"], result.Hits[1].Explanation!.RelaxedFilters);
    }

    [Fact]
    public void HitView_RelaxedItem_SerialisesRelaxedAndLeavesItOutOtherwise()
    {
        var product = new IndexedProduct { Product = new Product { Id = "x", Title = "x" }, ContentHash = "h", Vector = new float[] { 1 } };
        var web = new JsonSerializerOptions(JsonSerializerDefaults.Web);

        var relaxed = JsonSerializer.Serialize(HitView.From(new SearchHit(product, 1, 1, null, 1, null) { RelaxedFilters = ["attr.color", "price"] }), web);
        var strict = JsonSerializer.Serialize(HitView.From(new SearchHit(product, 1, 1, null, 1, null)), web);

        Assert.Contains("\"relaxed\":[\"attr.color\",\"price\"]", relaxed, StringComparison.Ordinal);
        Assert.DoesNotContain("relaxed", strict, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("exclude-source")]
    public async Task SimilarAsync_NoFilterOrDiversity_OneQueryAndTheRankingAsItWas(string? filterKind)
    {
        // What eval asks: no filter, or ExcludeSource only. The defaults must leave such a list exactly as ranked.
        var filter = filterKind is null ? new ProductFilter() : new ProductFilter { ExcludeSource = "other" };
        var service = Service();
        var plain = Service(new ResultOptions { Fallback = false });

        _index.Calls = 0;
        var shaped = await service.SimilarAsync(new SimilarRequest { Id = "S0", Top = 4, Filter = filter });
        Assert.Equal(1, _index.Calls);
        var reference = await plain.SimilarAsync(new SimilarRequest { Id = "S0", Top = 4, Filter = filter });

        Assert.Equal(reference.Hits.Select(h => (h.Product.Id, h.Score)), shaped.Hits.Select(h => (h.Product.Id, h.Score)));
        Assert.All(shaped.Hits, h => Assert.Empty(h.RelaxedFilters));
        Assert.Null(new ResultOptions().MmrLambda);
        Assert.False(new ResultOptions().SuppressNearDuplicates);
    }

    [Fact]
    public void ParseOrder_UnknownOrRepeatedName_ThrowsWithTheValidNames()
    {
        Assert.Equal([RelaxableFilter.Price, RelaxableFilter.InStock], FilterFallback.ParseOrder(" PRICE ,inStock"));
        Assert.Empty(FilterFallback.ParseOrder(""));
        var unknown = Assert.Throws<FormatException>(() => FilterFallback.ParseOrder("price,colour"));
        Assert.Contains("attributes,price,brand,category,source,inStock", unknown.Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => FilterFallback.ParseOrder("price,price"));
    }

    [Fact]
    public void Validator_BadRelaxOrder_NamesTheKey()
    {
        var options = new ProductSimilarityOptions { Results = new ResultOptions { RelaxOrder = "price,stock" } };

        var result = new ProductSimilarityOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith("ProductSimilarity:Results:RelaxOrder:", StringComparison.Ordinal) && f.Contains("'stock'", StringComparison.Ordinal));
    }

    private SimilarityService Service(ResultOptions? results = null) => new(
        _index,
        _generator,
        Options.Create(new ProductSimilarityOptions { Results = results ?? new ResultOptions() }),
        new FakeTimeProvider(Now));

    private static Dictionary<string, string> Colour(string value) => new() { ["color"] = value };

    private void Add(string id, string title, string category, decimal price, string brand, string color, bool inStock)
    {
        var product = new Product
        {
            Id = id,
            Title = title,
            Category = category,
            Brand = brand,
            Price = price,
            InStock = inStock,
            Attributes = new Dictionary<string, string> { ["color"] = color },
        };
        _index.UpsertAsync([new IndexedProduct { Product = product, ContentHash = id, Vector = _generator.Embed(title) }]).GetAwaiter().GetResult();
    }

    /// <summary>The in-memory index, counting candidate queries.</summary>
    private sealed class CountingIndex : IProductIndex
    {
        private readonly InMemoryProductIndex _inner = new();

        public int Calls { get; set; }

        public ValueTask<int?> GetDimensionsAsync(CancellationToken cancellationToken = default) => _inner.GetDimensionsAsync(cancellationToken);

        public Task EnsureCreatedAsync(int dimensions, CancellationToken cancellationToken = default) => _inner.EnsureCreatedAsync(dimensions, cancellationToken);

        public Task UpsertAsync(IReadOnlyList<IndexedProduct> products, CancellationToken cancellationToken = default) => _inner.UpsertAsync(products, cancellationToken);

        public Task<IReadOnlyList<string>> UpdateFieldsAsync(IReadOnlyList<IndexedProduct> products, CancellationToken cancellationToken = default) => _inner.UpdateFieldsAsync(products, cancellationToken);

        public Task<int> DeleteAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default) => _inner.DeleteAsync(ids, cancellationToken);

        public Task CommitAsync(CancellationToken cancellationToken = default) => _inner.CommitAsync(cancellationToken);

        public Task<IndexedProduct?> GetAsync(string id, CancellationToken cancellationToken = default) => _inner.GetAsync(id, cancellationToken);

        public Task<IReadOnlyDictionary<string, string>> GetContentHashesAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default) => _inner.GetContentHashesAsync(ids, cancellationToken);

        public IAsyncEnumerable<string> GetAllIdsAsync(CancellationToken cancellationToken = default) => _inner.GetAllIdsAsync(cancellationToken);

        public Task<long> CountAsync(CancellationToken cancellationToken = default) => _inner.CountAsync(cancellationToken);

        public Task<CandidateLists> GetCandidatesAsync(ProductQuery query, CancellationToken cancellationToken = default)
        {
            Calls++;
            return _inner.GetCandidatesAsync(query, cancellationToken);
        }

        public ValueTask DisposeAsync() => _inner.DisposeAsync();
    }
}
