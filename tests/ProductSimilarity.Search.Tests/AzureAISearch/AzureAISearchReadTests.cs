using System.Text.Json.Nodes;
using ProductSimilarity.Core.Indexing;

namespace ProductSimilarity.Search.Tests.AzureAISearch;

public sealed class AzureAISearchReadTests
{
    private const string SearchPath = "/indexes('products')/docs/search.post.search";

    [Fact]
    public async Task GetAsync_ExistingDocument_ReturnsProductWithVector()
    {
        var handler = new FakeSearchHandler((_, _) => FakeSearch.Json(200, """
            {
              "id": "p1", "title": "Noise-cancelling headphones", "description": "Over-ear", "brand": "Acme",
              "category": "Audio", "groupId": "g1", "price": 199.99, "currency": "EUR", "inStock": false,
              "source": "shop-a", "imageUrl": "https://img.example/p1.jpg", "attributes": "{\"color\":\"black\"}",
              "contentHash": "abc123", "vector": [0.6, 0.8]
            }
            """));
        await using var index = FakeSearch.CreateIndex(handler);

        IndexedProduct? product = await index.GetAsync("p1");

        RecordedRequest request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.Equal("/indexes('products')/docs('p1')", request.Path);
        Assert.NotNull(product);
        Assert.Equal("p1", product.Id);
        Assert.Equal("Noise-cancelling headphones", product.Product.Title);
        Assert.Equal("Over-ear", product.Product.Description);
        Assert.Equal("Acme", product.Product.Brand);
        Assert.Equal("Audio", product.Product.Category);
        Assert.Equal("g1", product.Product.GroupId);
        Assert.Equal(199.99m, product.Product.Price);
        Assert.Equal("EUR", product.Product.Currency);
        Assert.False(product.Product.InStock);
        Assert.Equal("shop-a", product.Product.Source);
        Assert.Equal("https://img.example/p1.jpg", product.Product.ImageUrl);
        Assert.Equal("black", product.Product.Attributes["color"]);
        Assert.Equal("abc123", product.ContentHash);
        Assert.Equal(new[] { 0.6f, 0.8f }, product.Vector.ToArray());
    }

    [Fact]
    public async Task GetAsync_NotFound404_ReturnsNull()
    {
        var handler = new FakeSearchHandler((_, _) => FakeSearch.Error(404, "DocumentNotFound", "Document not found."));
        await using var index = FakeSearch.CreateIndex(handler);

        Assert.Null(await index.GetAsync("missing"));
        Assert.Single(handler.Requests); // 404 is not retried
    }

    [Fact]
    public async Task GetAsync_Forbidden403_ThrowsProductIndexExceptionWithContext()
    {
        var handler = new FakeSearchHandler((_, _) => FakeSearch.Error(403, "Forbidden", "Authorization failed."));
        await using var index = FakeSearch.CreateIndex(handler);

        var ex = await Assert.ThrowsAsync<ProductIndexException>(() => index.GetAsync("p1"));

        Assert.Contains("'products'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("get document", ex.Message, StringComparison.Ordinal);
        Assert.Contains("403", ex.Message, StringComparison.Ordinal);
        Assert.IsType<Azure.RequestFailedException>(ex.InnerException);
    }

    [Fact]
    public async Task GetContentHashesAsync_Ids_FiltersWithSearchInSelectingIdAndHash()
    {
        var handler = new FakeSearchHandler((_, _) => FakeSearch.Json(200, """
            {
              "value": [
                { "@search.score": 1.0, "id": "a", "contentHash": "h-a" },
                { "@search.score": 1.0, "id": "o'neil", "contentHash": "h-o" }
              ]
            }
            """));
        await using var index = FakeSearch.CreateIndex(handler);

        IReadOnlyDictionary<string, string> hashes = await index.GetContentHashesAsync(["a", "b", "o'neil", "a"]);

        Assert.Equal(new Dictionary<string, string> { ["a"] = "h-a", ["o'neil"] = "h-o" }, hashes);
        RecordedRequest request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal(SearchPath, request.Path);
        JsonNode body = request.Json;
        Assert.Equal("search.in(id, 'a|b|o''neil', '|')", body["filter"]!.GetValue<string>());
        Assert.Equal("id,contentHash", body["select"]!.GetValue<string>());
        Assert.Equal(3, body["top"]!.GetValue<int>());
        Assert.Equal("*", body["search"]!.GetValue<string>());
        Assert.Null(body["vectorQueries"]);
    }

    [Fact]
    public async Task GetContentHashesAsync_IdsWithPipe_UsesAnotherDelimiter()
    {
        var handler = new FakeSearchHandler((_, _) => FakeSearch.Json(200, """{ "value": [] }"""));
        await using var index = FakeSearch.CreateIndex(handler);

        await index.GetContentHashesAsync(["a|1", "b"]);

        Assert.Equal("search.in(id, 'a|1,b', ',')", Assert.Single(handler.Requests).Json["filter"]!.GetValue<string>());
    }

    [Fact]
    public async Task GetContentHashesAsync_1200Ids_ChunksOf500()
    {
        var handler = new FakeSearchHandler((_, _) => FakeSearch.Json(200, """{ "value": [] }"""));
        await using var index = FakeSearch.CreateIndex(handler);

        await index.GetContentHashesAsync([.. Enumerable.Range(0, 1200).Select(i => $"p{i}")]);

        Assert.Equal([500, 500, 200], handler.Requests.Select(r => r.Json["top"]!.GetValue<int>()));
    }

    [Fact]
    public async Task GetContentHashesAsync_IndexMissing_ReturnsEmpty()
    {
        var handler = new FakeSearchHandler((_, _) => FakeSearch.Error(404, "ResourceNotFound", "The index 'products' was not found."));
        await using var index = FakeSearch.CreateIndex(handler);

        Assert.Empty(await index.GetContentHashesAsync(["a"]));
    }

    [Fact]
    public async Task GetAllIdsAsync_MoreThanOnePage_PagesByKeyWithoutSkip()
    {
        var handler = new FakeSearchHandler((_, i) =>
        {
            IEnumerable<string> ids = i == 0 ? Enumerable.Range(0, 1000).Select(n => $"id-{n:D4}") : ["id-1000", "id-1001", "o'x"];
            var value = new JsonArray([.. ids.Select(id => (JsonNode)new JsonObject { ["@search.score"] = 1.0, ["id"] = id })]);
            return FakeSearch.Json(200, new JsonObject { ["value"] = value });
        });
        await using var index = FakeSearch.CreateIndex(handler);

        List<string> ids = [];
        await foreach (string id in index.GetAllIdsAsync())
        {
            ids.Add(id);
        }

        Assert.Equal(1003, ids.Count);
        Assert.Equal(2, handler.Requests.Count);
        JsonNode first = handler.Requests[0].Json;
        Assert.Equal("*", first["search"]!.GetValue<string>());
        Assert.Equal("id", first["select"]!.GetValue<string>());
        Assert.Equal("id asc", first["orderby"]!.GetValue<string>());
        Assert.Equal(1000, first["top"]!.GetValue<int>());
        Assert.Null(first["filter"]);
        Assert.Null(first["skip"]);
        JsonNode second = handler.Requests[1].Json;
        Assert.Equal("id gt 'id-0999'", second["filter"]!.GetValue<string>());
        Assert.Null(second["skip"]);
    }

    [Fact]
    public async Task CountAsync_Index_ReturnsDocumentCount()
    {
        var handler = new FakeSearchHandler((_, _) => FakeSearch.Json(200, "42"));
        await using var index = FakeSearch.CreateIndex(handler);

        Assert.Equal(42, await index.CountAsync());
        Assert.Equal("/indexes('products')/docs/$count", Assert.Single(handler.Requests).Path);
    }
}
