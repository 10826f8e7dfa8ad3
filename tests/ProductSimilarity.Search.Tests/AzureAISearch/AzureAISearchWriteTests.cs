using System.Text;
using System.Text.Json.Nodes;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Search.AzureAISearch;

namespace ProductSimilarity.Search.Tests.AzureAISearch;

public sealed class AzureAISearchWriteTests
{
    private const string IndexPath = "/indexes('products')/docs/search.index";

    [Fact]
    public async Task UpsertAsync_TwoProducts_PostsMergeOrUploadActionsWithEveryField()
    {
        var handler = new FakeSearchHandler((request, _) => FakeSearch.AllSucceeded(request));
        await using var index = FakeSearch.CreateIndex(handler);
        IndexedProduct first = FakeSearch.Product("p1", [0.1f, -0.2f, 0.3f, 0.4f]);
        first = first with { Product = first.Product with { Brand = "O'Neil", Category = "Home > Audio", Description = null, Gtin = "04006381333931", Mpn = "WH1000XM4" } };

        await index.UpsertAsync([first, FakeSearch.Product("p2")]);

        RecordedRequest request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal(IndexPath, request.Path);
        Assert.Equal("2023-11-01", request.Query("api-version"));
        JsonArray actions = request.Json["value"]!.AsArray();
        Assert.Equal(2, actions.Count);
        Assert.All(actions, a => Assert.Equal("mergeOrUpload", a!["@search.action"]!.GetValue<string>()));

        JsonNode doc = actions[0]!;
        Assert.Equal("p1", doc["id"]!.GetValue<string>());
        Assert.Equal("Title p1", doc["title"]!.GetValue<string>());
        Assert.True(doc.AsObject().ContainsKey("description"));
        Assert.Null(doc["description"]); // sent as null so a removed description is cleared
        Assert.Equal("O'Neil", doc["brand"]!.GetValue<string>());
        Assert.Equal("o'neil", doc["brandKey"]!.GetValue<string>());
        Assert.Equal("Home > Audio", doc["category"]!.GetValue<string>());
        Assert.Equal("home > audio", doc["categoryKey"]!.GetValue<string>());
        Assert.Equal("04006381333931", doc["gtin"]!.GetValue<string>());
        Assert.Equal("WH1000XM4", doc["mpn"]!.GetValue<string>());
        Assert.True(actions[1]!.AsObject().ContainsKey("gtin")); // null is sent, so a removed GTIN is cleared
        Assert.Null(actions[1]!["gtin"]);
        Assert.Equal(19.99, doc["price"]!.GetValue<double>());
        Assert.Equal("EUR", doc["currency"]!.GetValue<string>());
        Assert.True(doc["inStock"]!.GetValue<bool>());
        Assert.Equal("g-p1", doc["groupId"]!.GetValue<string>());
        Assert.Equal("https://img.example/p1.jpg", doc["imageUrl"]!.GetValue<string>());
        Assert.Equal("shop-a", doc["source"]!.GetValue<string>());
        Assert.Equal("hash-p1", doc["contentHash"]!.GetValue<string>());
        JsonNode attributes = JsonNode.Parse(doc["attributes"]!.GetValue<string>())!;
        Assert.Equal("black", attributes["color"]!.GetValue<string>());
        Assert.Equal(["color=black"], doc["attributeKeys"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(new[] { 0.1f, -0.2f, 0.3f, 0.4f }, doc["vector"]!.AsArray().Select(n => n!.GetValue<float>()).ToArray());
    }

    [Fact]
    public async Task UpsertAsync_TitleWithCodes_SendsCodesAndTheirNearMatchKeys()
    {
        var handler = new FakeSearchHandler((request, _) => FakeSearch.AllSucceeded(request));
        await using var index = FakeSearch.CreateIndex(handler);
        IndexedProduct product = FakeSearch.Product("p1");
        product = product with { Product = product.Product with { Title = "Sony SRS-A212/BLK speaker 500 GB KX-TG9332" } };

        await index.UpsertAsync([product, FakeSearch.Product("p2")]);

        JsonArray actions = Assert.Single(handler.Requests).Json["value"]!.AsArray();
        Assert.Equal(["srsa212blk", "kxtg9332"], actions[0]!["codes"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Equal(["srsa212", "kxtg9332"], actions[0]!["codeBases"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Empty(actions[1]!["codes"]!.AsArray()); // "Title p2" holds no code
    }

    [Fact]
    public async Task UpsertAsync_2500Products_SendsBatchesOf1000()
    {
        var handler = new FakeSearchHandler((request, _) => FakeSearch.AllSucceeded(request));
        await using var index = FakeSearch.CreateIndex(handler);
        List<IndexedProduct> products = [.. Enumerable.Range(0, 2500).Select(i => FakeSearch.Product($"p{i}"))];

        await index.UpsertAsync(products);

        Assert.Equal([1000, 1000, 500], handler.Requests.Select(r => FakeSearch.ActionIds(r).Count));
        Assert.Equal(products.Select(p => p.Id), handler.Requests.SelectMany(FakeSearch.ActionIds));
    }

    [Fact]
    public async Task UpsertAsync_LargeDocuments_SplitsBelowSixteenMegabytes()
    {
        var handler = new FakeSearchHandler((request, _) => FakeSearch.AllSucceeded(request));
        await using var index = FakeSearch.CreateIndex(handler);
        string description = new('x', 2_000_000);
        List<IndexedProduct> products = [.. Enumerable.Range(0, 20).Select(i => FakeSearch.Product($"big{i}", description: description))];

        await index.UpsertAsync(products);

        Assert.True(handler.Requests.Count >= 3, $"{handler.Requests.Count} requests");
        Assert.All(handler.Requests, r => Assert.True(Encoding.UTF8.GetByteCount(r.Body!) < 16_000_000, $"{r.Body!.Length} bytes"));
        Assert.All(handler.Requests, r => Assert.True(FakeSearch.ActionIds(r).Count < 1000));
        Assert.Equal(products.Select(p => p.Id), handler.Requests.SelectMany(FakeSearch.ActionIds));
    }

    [Fact]
    public async Task UpsertAsync_NonAsciiText_SizeCountsEscapedJson()
    {
        // The SDK's serializer escapes CJK characters as \uXXXX: 6 bytes per character on the wire.
        var handler = new FakeSearchHandler((request, _) => FakeSearch.AllSucceeded(request));
        await using var index = FakeSearch.CreateIndex(handler);
        string description = new('耳', 400_000);
        List<IndexedProduct> products = [.. Enumerable.Range(0, 16).Select(i => FakeSearch.Product($"zh{i}", description: description))];

        await index.UpsertAsync(products);

        Assert.True(handler.Requests.Count >= 2);
        Assert.All(handler.Requests, r => Assert.True(Encoding.UTF8.GetByteCount(r.Body!) < 16_000_000, $"{r.Body!.Length} bytes"));
        Assert.Equal(16, handler.Requests.SelectMany(FakeSearch.ActionIds).Count());
    }

    [Fact]
    public async Task UpdateFieldsAsync_PriceOnlyChange_PostsMergeActionsWithoutVector()
    {
        var handler = new FakeSearchHandler((request, _) => FakeSearch.AllSucceeded(request));
        await using var index = FakeSearch.CreateIndex(handler);
        IndexedProduct changed = FakeSearch.Product("p1") with { Vector = ReadOnlyMemory<float>.Empty };
        changed = changed with { Product = changed.Product with { Price = 17.5m, InStock = false }, ContentHash = "hash-new" };

        IReadOnlyList<string> missing = await index.UpdateFieldsAsync([changed, FakeSearch.Product("p2")]);

        Assert.Empty(missing);
        RecordedRequest request = Assert.Single(handler.Requests);
        Assert.Equal(IndexPath, request.Path);
        JsonArray actions = request.Json["value"]!.AsArray();
        Assert.All(actions, a => Assert.Equal("merge", a!["@search.action"]!.GetValue<string>()));
        Assert.All(actions, a => Assert.False(a!.AsObject().ContainsKey("vector"), "a merge must not carry the vector"));
        JsonNode doc = actions[0]!;
        Assert.Equal("p1", doc["id"]!.GetValue<string>());
        Assert.Equal(17.5, doc["price"]!.GetValue<double>());
        Assert.False(doc["inStock"]!.GetValue<bool>());
        Assert.Equal("hash-new", doc["contentHash"]!.GetValue<string>());
        Assert.Equal("acme", doc["brandKey"]!.GetValue<string>());
    }

    [Fact]
    public async Task UpdateFieldsAsync_KeyNotInIndex_ReturnsItAsMissingWithoutRetry()
    {
        var handler = new FakeSearchHandler((_, _) => FakeSearch.Json(207, """
            {
              "value": [
                { "key": "p1", "status": true, "errorMessage": null, "statusCode": 200 },
                { "key": "gone", "status": false, "errorMessage": "Document not found.", "statusCode": 404 }
              ]
            }
            """));
        await using var index = FakeSearch.CreateIndex(handler);

        IReadOnlyList<string> missing = await index.UpdateFieldsAsync([FakeSearch.Product("p1"), FakeSearch.Product("gone")]);

        Assert.Equal(["gone"], missing);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task UpsertAsync_PartialFailure207_ResendsOnlyTheFailedKey()
    {
        var handler = new FakeSearchHandler((request, i) => i == 0
            ? FakeSearch.Json(207, """
                {
                  "value": [
                    { "key": "p1", "status": true, "errorMessage": null, "statusCode": 201 },
                    { "key": "p2", "status": false, "errorMessage": "Service is too busy.", "statusCode": 503 },
                    { "key": "p3", "status": true, "errorMessage": null, "statusCode": 200 }
                  ]
                }
                """)
            : FakeSearch.AllSucceeded(request));
        await using var index = FakeSearch.CreateIndex(handler);

        await index.UpsertAsync([FakeSearch.Product("p1"), FakeSearch.Product("p2"), FakeSearch.Product("p3")]);

        Assert.Equal(2, handler.Requests.Count);
        Assert.Equal(["p1", "p2", "p3"], FakeSearch.ActionIds(handler.Requests[0]));
        Assert.Equal(["p2"], FakeSearch.ActionIds(handler.Requests[1]));
        Assert.Equal("mergeOrUpload", handler.Requests[1].Json["value"]![0]!["@search.action"]!.GetValue<string>());
    }

    [Fact]
    public async Task UpsertAsync_NonRetryableKeyFailure_ThrowsListingKeyAndMessageWithoutRetry()
    {
        var handler = new FakeSearchHandler((_, _) => FakeSearch.Json(207, """
            {
              "value": [
                { "key": "p1", "status": true, "errorMessage": null, "statusCode": 201 },
                { "key": "p2", "status": false, "errorMessage": "The request is invalid. Details: field 'price' is malformed.", "statusCode": 400 }
              ]
            }
            """));
        await using var index = FakeSearch.CreateIndex(handler);

        var ex = await Assert.ThrowsAsync<ProductIndexException>(() => index.UpsertAsync([FakeSearch.Product("p1"), FakeSearch.Product("p2")]));

        Assert.Single(handler.Requests);
        Assert.Contains("'products'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'p2' (HTTP 400)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("field 'price' is malformed", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("'p1'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpsertAsync_KeyKeepsFailingRetryably_ThrowsAfterBoundedRetries()
    {
        var handler = new FakeSearchHandler((_, _) => FakeSearch.Json(207, """
            { "value": [ { "key": "p1", "status": false, "errorMessage": "Version conflict.", "statusCode": 409 } ] }
            """));
        await using var bounded = new AzureAISearchProductIndex(
            new Azure.Search.Documents.Indexes.SearchIndexClient(FakeSearch.Endpoint, new Azure.AzureKeyCredential("k"), FakeSearch.ClientOptions(handler)),
            "products", "en.lucene")
        {
            MaxDocumentRetries = 2,
            DocumentRetryDelay = TimeSpan.FromMilliseconds(1),
        };

        var ex = await Assert.ThrowsAsync<ProductIndexException>(() => bounded.UpsertAsync([FakeSearch.Product("p1")]));

        Assert.Equal(3, handler.Requests.Count); // first try + 2 retries
        Assert.Contains("'p1' (HTTP 409): Version conflict.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpsertAsync_WholeRequest503ThenSuccess_RetriesSameRequest()
    {
        var handler = new FakeSearchHandler((request, i) => i == 0
            ? FakeSearch.Error(503, "ServiceUnavailable", "Service is too busy to process the request.")
            : FakeSearch.AllSucceeded(request));
        await using var index = FakeSearch.CreateIndex(handler);

        await index.UpsertAsync([FakeSearch.Product("p1"), FakeSearch.Product("p2")]);

        Assert.Equal(2, handler.Requests.Count);
        Assert.Equal(handler.Requests[0].Body, handler.Requests[1].Body);
    }

    [Fact]
    public async Task UpsertAsync_WholeRequest429Always_ThrowsProductIndexExceptionAfterSdkRetries()
    {
        var handler = new FakeSearchHandler((_, _) => FakeSearch.Error(429, "TooManyRequests", "Too many requests."));
        await using var index = FakeSearch.CreateIndex(handler);

        var ex = await Assert.ThrowsAsync<ProductIndexException>(() => index.UpsertAsync([FakeSearch.Product("p1")]));

        Assert.Equal(5, handler.Requests.Count); // 1 + MaxRetries (4) from CreateClientOptions
        Assert.Contains("429", ex.Message, StringComparison.Ordinal);
        Assert.Contains("upsert", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpsertAsync_DuplicateIds_SendsLastOccurrenceOnce()
    {
        var handler = new FakeSearchHandler((request, _) => FakeSearch.AllSucceeded(request));
        await using var index = FakeSearch.CreateIndex(handler);
        IndexedProduct old = FakeSearch.Product("p1");
        IndexedProduct updated = old with { ContentHash = "hash-new" };

        await index.UpsertAsync([old, FakeSearch.Product("p2"), updated]);

        RecordedRequest request = Assert.Single(handler.Requests);
        Assert.Equal(["p1", "p2"], FakeSearch.ActionIds(request));
        Assert.Equal("hash-new", request.Json["value"]![0]!["contentHash"]!.GetValue<string>());
    }

    [Fact]
    public async Task UpsertAsync_VectorOfWrongDimensions_ThrowsBeforeSending()
    {
        var handler = new FakeSearchHandler((request, _) => request.Method == HttpMethod.Put
            ? FakeSearch.Json(201, request.Body!)
            : FakeSearch.AllSucceeded(request));
        await using var index = FakeSearch.CreateIndex(handler);
        await index.EnsureCreatedAsync(4);

        await Assert.ThrowsAsync<ArgumentException>(() => index.UpsertAsync([FakeSearch.Product("p1", [1f, 0f, 0f])]));

        Assert.Single(handler.Requests); // only the index PUT
    }

    [Fact]
    public async Task DeleteAsync_Ids_PostsDeleteActionsWithKeysOnly()
    {
        var handler = new FakeSearchHandler((request, _) => FakeSearch.AllSucceeded(request));
        await using var index = FakeSearch.CreateIndex(handler);

        int deleted = await index.DeleteAsync(["p1", "p2", "p1"]);

        Assert.Equal(2, deleted);
        RecordedRequest request = Assert.Single(handler.Requests);
        Assert.Equal(IndexPath, request.Path);
        JsonArray actions = request.Json["value"]!.AsArray();
        Assert.Equal(2, actions.Count);
        Assert.All(actions, a =>
        {
            Assert.Equal("delete", a!["@search.action"]!.GetValue<string>());
            Assert.Equal(["@search.action", "id"], a.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        });
    }

    [Fact]
    public async Task DeleteAsync_2001Ids_SendsBatchesOf1000()
    {
        var handler = new FakeSearchHandler((request, _) => FakeSearch.AllSucceeded(request));
        await using var index = FakeSearch.CreateIndex(handler);

        int deleted = await index.DeleteAsync([.. Enumerable.Range(0, 2001).Select(i => $"p{i}")]);

        Assert.Equal(2001, deleted);
        Assert.Equal([1000, 1000, 1], handler.Requests.Select(r => FakeSearch.ActionIds(r).Count));
    }

    [Fact]
    public async Task CommitAsync_Always_SendsNothing()
    {
        var handler = new FakeSearchHandler((request, _) => FakeSearch.AllSucceeded(request));
        await using var index = FakeSearch.CreateIndex(handler);

        await index.CommitAsync();

        Assert.Empty(handler.Requests);
    }
}
