using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Search.Local;
using static ProductSimilarity.Search.Tests.Local.LocalIndexTestData;

namespace ProductSimilarity.Search.Tests.Local;

public sealed class LocalProductIndexStorageTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task GetAsync_AfterCommit_ReturnsEveryProperty()
    {
        var product = new IndexedProduct
        {
            Product = new Product
            {
                Id = "p-1",
                Title = "Sony WH-1000XM4",
                Description = "Noise cancelling",
                Brand = "Sony",
                Category = "Electronics > Audio",
                Price = 279.99m,
                Currency = "EUR",
                InStock = false,
                GroupId = "g1",
                ImageUrl = "https://example.test/a.png",
                Source = "amazon",
                Gtin = "04548736112100",
                Mpn = "WH1000XM4",
                Attributes = new Dictionary<string, string> { ["colour"] = "black", ["尺寸"] = "大" },
            },
            ContentHash = "abc123",
            Vector = V(0.1f, 0.2f, 0.3f, 0.4f),
        };

        await using (var index = LocalProductIndex.Open(_folder.Path))
        {
            await index.UpsertAsync([product]);
            await index.CommitAsync();
        }

        await using var reopened = LocalProductIndex.Open(_folder.Path, readOnly: true);
        var got = await reopened.GetAsync("p-1");

        Assert.NotNull(got);
        Assert.Equal(product.Product with { Attributes = got.Product.Attributes }, got.Product);
        Assert.Equal(product.Product.Attributes, got.Product.Attributes);
        Assert.Equal("abc123", got.ContentHash);
        Assert.Equal(product.Vector.ToArray(), got.Vector.ToArray());
        Assert.Equal(4, reopened.Dimensions);
    }

    [Fact]
    public async Task SetTunedFusionAsync_Committed_SurvivesLaterCommitsAndReopen()
    {
        var product = new IndexedProduct { Product = new Product { Id = "p-1", Title = "Sony WH-1000XM4" }, ContentHash = "h", Vector = V(0.1f, 0.2f, 0.3f, 0.4f) };
        await using (var index = LocalProductIndex.Open(_folder.Path))
        {
            Assert.Null(index.TunedFusion);
            await index.UpsertAsync([product]);
            await index.SetTunedFusionAsync(new TunedFusion(FusionMethod.ZScore, 0.1, 42));
            await index.CommitAsync();
            await index.UpsertAsync([product with { ContentHash = "h2" }]);
            await index.CommitAsync();
            Assert.Equal(new TunedFusion(FusionMethod.ZScore, 0.1, 42), index.TunedFusion);
        }

        await using (var reopened = LocalProductIndex.Open(_folder.Path, readOnly: true))
        {
            Assert.NotNull(await reopened.GetAsync("p-1"));
            Assert.Equal(new TunedFusion(FusionMethod.ZScore, 0.1, 42), reopened.TunedFusion);
        }

        await using (var index = LocalProductIndex.Open(_folder.Path))
        {
            await index.SetTunedFusionAsync(null);
            await index.CommitAsync();
        }

        await using var cleared = LocalProductIndex.Open(_folder.Path, readOnly: true);
        Assert.NotNull(await cleared.GetAsync("p-1"));
        Assert.Null(cleared.TunedFusion);
    }

    [Fact]
    public async Task GetAsync_UnknownId_ReturnsNull()
    {
        await using var index = LocalProductIndex.Open(_folder.Path);
        await index.UpsertAsync(Catalog());
        await index.CommitAsync();

        Assert.Null(await index.GetAsync("nope"));
    }

    [Fact]
    public async Task UpsertAsync_BeforeCommit_NotVisible()
    {
        await using var index = LocalProductIndex.Open(_folder.Path);
        await index.UpsertAsync(Catalog());

        Assert.Null(await index.GetAsync("a1"));
        Assert.Equal(0, await index.CountAsync());

        await index.CommitAsync();
        Assert.NotNull(await index.GetAsync("a1"));
        Assert.Equal(Catalog().Count, await index.CountAsync());
    }

    [Fact]
    public async Task UpsertAsync_SameIdTwice_StoredOnceWithLatestValues()
    {
        await using var index = LocalProductIndex.Open(_folder.Path);
        await index.UpsertAsync([P("x", "first", V(1, 0, 0, 0)), P("x", "second", V(0, 1, 0, 0))]);
        await index.CommitAsync();
        await index.UpsertAsync([P("x", "third", V(0, 0, 1, 0), hash: "h3")]);
        await index.CommitAsync();

        Assert.Equal(1, await index.CountAsync());
        var ids = await ToListAsync(index.GetAllIdsAsync());
        Assert.Equal(["x"], ids);
        var got = await index.GetAsync("x");
        Assert.Equal("third", got!.Product.Title);
        Assert.Equal("h3", got.ContentHash);

        // The vector side must see the replacement only, not the deleted older document of another segment.
        var hits = await index.SearchAsync(new ProductQuery { Vector = V(1, 0, 0, 0), Mode = RankingMode.Vector, Top = 5 });
        var hit = Assert.Single(hits);
        Assert.Equal(0.0, hit.Score, 6);
    }

    [Fact]
    public async Task DeleteAsync_ExistingAndUnknownIds_RemovesAndCountsExisting()
    {
        await using var index = LocalProductIndex.Open(_folder.Path);
        await index.UpsertAsync(Catalog());
        await index.CommitAsync();
        await index.UpsertAsync([P("new", "new product", V(1, 1, 1, 1))]);

        int removed = await index.DeleteAsync(["a1", "a1", "unknown", "new"]);
        await index.CommitAsync();

        Assert.Equal(2, removed);
        Assert.Equal(Catalog().Count - 1, await index.CountAsync());
        Assert.Null(await index.GetAsync("a1"));
        Assert.Null(await index.GetAsync("new"));
        Assert.DoesNotContain("a1", await ToListAsync(index.GetAllIdsAsync()));
        Assert.Equal(0, await index.DeleteAsync(["a1"]));
    }

    [Fact]
    public async Task UpdateFieldsAsync_CommittedAndPendingProducts_KeepsStoredVectorsAndReportsMissing()
    {
        await using var index = LocalProductIndex.Open(_folder.Path);
        await index.UpsertAsync([P("a", "Lamp", V(1, 0, 0), price: 10m)]);
        await index.CommitAsync();
        await index.UpsertAsync([P("b", "Desk", V(0, 1, 0), price: 20m)]); // not committed yet

        IReadOnlyList<string> missing = await index.UpdateFieldsAsync(
        [
            P("a", "Lamp", [], price: 8m, hash: "h-a2"),
            P("b", "Desk", [], price: 18m, hash: "h-b2"),
            P("zz", "Unknown", [], price: 1m),
        ]);
        await index.CommitAsync();

        Assert.Equal(["zz"], missing);
        var a = await index.GetAsync("a");
        Assert.Equal(8m, a!.Product.Price);
        Assert.Equal("h-a2", a.ContentHash);
        Assert.Equal(V(1, 0, 0), a.Vector.ToArray());
        var b = await index.GetAsync("b");
        Assert.Equal(18m, b!.Product.Price);
        Assert.Equal(V(0, 1, 0), b.Vector.ToArray());
        Assert.Null(await index.GetAsync("zz"));
        Assert.Equal(2, await index.CountAsync());
    }

    [Fact]
    public async Task GetContentHashesAsync_SomeIdsExist_ReturnsOnlyThose()
    {
        await using var index = LocalProductIndex.Open(_folder.Path);
        await index.UpsertAsync(Catalog());
        await index.CommitAsync();
        await index.UpsertAsync([P("c2", "华为 智能手表", V(0, 0, 0, 1), hash: "changed")]);
        await index.CommitAsync();

        var hashes = await index.GetContentHashesAsync(["a1", "missing", "c2", "a1"]);

        Assert.Equal(2, hashes.Count);
        Assert.Equal("hash-a1", hashes["a1"]);
        Assert.Equal("changed", hashes["c2"]);
    }

    [Fact]
    public async Task GetAllIdsAsync_Committed_ReturnsEveryIdOnce()
    {
        await using var index = LocalProductIndex.Open(_folder.Path);
        await index.UpsertAsync(Catalog().Take(4).ToList());
        await index.CommitAsync();
        await index.UpsertAsync(Catalog().Skip(2).ToList());
        await index.CommitAsync();

        var ids = await ToListAsync(index.GetAllIdsAsync());

        Assert.Equal(Catalog().Select(p => p.Id).Order(), ids.Order());
    }

    [Fact]
    public async Task Open_AfterDisposeWithCommit_DataSurvives()
    {
        await using (var index = LocalProductIndex.Open(_folder.Path))
        {
            await index.EnsureCreatedAsync(4);
            await index.UpsertAsync(Catalog());
            await index.CommitAsync();
        }

        await using var reopened = LocalProductIndex.Open(_folder.Path);

        Assert.Equal(Catalog().Count, await reopened.CountAsync());
        Assert.Equal(4, reopened.Dimensions);
        Assert.Equal("小米 无线蓝牙耳机", (await reopened.GetAsync("c1"))!.Product.Title);
    }

    [Fact]
    public async Task DisposeAsync_WithoutCommit_DiscardsUncommittedWritesKeepsCommitted()
    {
        await using (var index = LocalProductIndex.Open(_folder.Path))
        {
            await index.UpsertAsync([P("kept", "kept", V(1, 0, 0, 0))]);
            await index.CommitAsync();
            await index.UpsertAsync([P("lost", "lost", V(0, 1, 0, 0))]);
            await index.DeleteAsync(["kept"]);
        }

        await using var reopened = LocalProductIndex.Open(_folder.Path);

        Assert.NotNull(await reopened.GetAsync("kept"));
        Assert.Null(await reopened.GetAsync("lost"));
        Assert.Equal(1, await reopened.CountAsync());
    }

    [Fact]
    public async Task UpsertAsync_SecondWriter_ThrowsClearErrorUntilFirstDisposed()
    {
        var first = LocalProductIndex.Open(_folder.Path);
        await using var second = LocalProductIndex.Open(_folder.Path);
        await first.UpsertAsync([P("one", "one", V(1, 0, 0, 0))]);

        var error = await Assert.ThrowsAsync<ProductIndexException>(() => second.UpsertAsync([P("two", "two", V(0, 1, 0, 0))]));
        Assert.Contains($"index at {first.Path} is being written by another process", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ProductIndexException>(() => second.DeleteAsync(["one"]));

        await first.CommitAsync();
        await first.DisposeAsync();

        await second.UpsertAsync([P("two", "two", V(0, 1, 0, 0))]);
        await second.CommitAsync();
        Assert.Equal(2, await second.CountAsync());
    }

    [Fact]
    public async Task SearchAsync_ReaderBesideWriter_SeesOnlyCommittedData()
    {
        await using var writer = LocalProductIndex.Open(_folder.Path);
        await writer.UpsertAsync([P("one", "wireless headphones", V(1, 0, 0, 0))]);
        await writer.CommitAsync();
        await using var reader = LocalProductIndex.Open(_folder.Path, readOnly: true);
        Assert.Equal(1, await reader.CountAsync());

        await writer.UpsertAsync([P("two", "wireless earbuds", V(0.9f, 0.1f, 0, 0))]);
        Assert.Equal(1, await reader.CountAsync());
        var before = await reader.SearchAsync(new ProductQuery { Text = "wireless", Mode = RankingMode.Keyword });
        Assert.Equal(["one"], before.Select(h => h.Product.Id));

        await writer.CommitAsync();

        Assert.Equal(2, await reader.CountAsync());
        var after = await reader.SearchAsync(new ProductQuery { Vector = V(1, 0, 0, 0), Mode = RankingMode.Vector });
        Assert.Equal(["one", "two"], after.Select(h => h.Product.Id));
    }

    [Fact]
    public async Task Open_ReadOnlyMissingFolder_ThrowsClearError()
    {
        var error = Assert.Throws<ProductIndexException>(() => LocalProductIndex.Open(_folder.Path, readOnly: true));
        Assert.Contains("No index at", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_folder.Path));
    }

    [Fact]
    public void Open_ReadOnlyEmptyFolder_ThrowsClearError()
    {
        Directory.CreateDirectory(_folder.Path);

        var error = Assert.Throws<ProductIndexException>(() => LocalProductIndex.Open(_folder.Path, readOnly: true));
        Assert.Contains("holds no committed index", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_WritableMissingFolder_CreatesFolderAndReadsEmpty()
    {
        await using var index = LocalProductIndex.Open(_folder.Path);

        Assert.True(Directory.Exists(_folder.Path));
        Assert.Equal(0, await index.CountAsync());
        Assert.Null(index.Dimensions);
        Assert.Empty(await index.SearchAsync(new ProductQuery { Text = "anything", Vector = V(1, 0, 0, 0) }));
        Assert.Empty(await ToListAsync(index.GetAllIdsAsync()));
    }

    [Fact]
    public async Task UpsertAsync_ReadOnly_Throws()
    {
        await using (var index = LocalProductIndex.Open(_folder.Path))
        {
            await index.EnsureCreatedAsync(4);
        }

        await using var readOnly = LocalProductIndex.Open(_folder.Path, readOnly: true);

        var error = await Assert.ThrowsAsync<ProductIndexException>(() => readOnly.UpsertAsync([P("x", "x", V(1, 0, 0, 0))]));
        Assert.Contains("read-only", error.Message, StringComparison.Ordinal);
        Assert.Equal(4, readOnly.Dimensions);
    }

    [Fact]
    public async Task UpsertAsync_DifferentDimensions_ThrowsClearError()
    {
        await using (var index = LocalProductIndex.Open(_folder.Path))
        {
            await index.EnsureCreatedAsync(4);
            await index.UpsertAsync([P("x", "x", V(1, 0, 0, 0))]);
            await index.CommitAsync();
        }

        await using var reopened = LocalProductIndex.Open(_folder.Path);

        var error = await Assert.ThrowsAsync<ProductIndexException>(() => reopened.UpsertAsync([P("y", "y", V(1, 0, 0))]));
        Assert.Contains("holds 4-dimensional vectors", error.Message, StringComparison.Ordinal);
        Assert.Contains("3 dimensions", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ProductIndexException>(() => reopened.EnsureCreatedAsync(384));
        await reopened.EnsureCreatedAsync(4);
    }

    [Fact]
    public async Task SearchAsync_QueryVectorOfOtherDimensions_ThrowsArgumentException()
    {
        await using var index = LocalProductIndex.Open(_folder.Path);
        await index.UpsertAsync(Catalog());
        await index.CommitAsync();

        await Assert.ThrowsAsync<ArgumentException>(
            () => index.SearchAsync(new ProductQuery { Vector = V(1, 0, 0), Mode = RankingMode.Vector }));
    }

    [Fact]
    public async Task EnsureCreatedAsync_EmptyFolder_CommitsDimensionsForReaders()
    {
        await using var index = LocalProductIndex.Open(_folder.Path);
        await index.EnsureCreatedAsync(8);

        await using var reader = LocalProductIndex.Open(_folder.Path, readOnly: true);
        Assert.Equal(8, reader.Dimensions);
        Assert.Equal(0, await reader.CountAsync());
    }

    [Fact]
    public async Task DisposeAsync_ThenUse_ThrowsObjectDisposed()
    {
        var index = LocalProductIndex.Open(_folder.Path);
        await index.DisposeAsync();
        await index.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => index.CountAsync());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => index.UpsertAsync([P("x", "x", V(1, 0, 0, 0))]));
    }

    private static async Task<List<string>> ToListAsync(IAsyncEnumerable<string> source)
    {
        var list = new List<string>();
        await foreach (var item in source)
        {
            list.Add(item);
        }

        return list;
    }
}
