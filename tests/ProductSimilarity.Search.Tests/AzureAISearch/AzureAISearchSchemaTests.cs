using System.Text.Json.Nodes;
using Azure.Core;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Search.AzureAISearch;

namespace ProductSimilarity.Search.Tests.AzureAISearch;

public sealed class AzureAISearchSchemaTests
{
    private static FakeSearchHandler EchoIndexHandler() => new((request, _) => request.Method == HttpMethod.Put
        ? FakeSearch.Json(201, request.Body!)
        : FakeSearch.Error(404, "ResourceNotFound", "No index with the name 'products' was found in the service."));

    [Fact]
    public async Task EnsureCreatedAsync_NewIndex_PutsDocumentedIndexDefinition()
    {
        var handler = EchoIndexHandler();
        await using var index = FakeSearch.CreateIndex(handler, analyzer: "zh-Hans.lucene");

        await index.EnsureCreatedAsync(384);

        RecordedRequest request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Put, request.Method);
        Assert.Equal("/indexes('products')", request.Path);
        Assert.Equal("2023-11-01", request.Query("api-version"));
        Assert.Equal("test-admin-key", request.Headers["api-key"]);

        JsonNode body = request.Json;
        Assert.Equal("products", body["name"]!.GetValue<string>());
        var fields = body["fields"]!.AsArray().ToDictionary(f => f!["name"]!.GetValue<string>(), f => f!);

        JsonNode id = fields["id"];
        Assert.Equal("Edm.String", id["type"]!.GetValue<string>());
        Assert.True(id["key"]!.GetValue<bool>());
        Assert.True(id["filterable"]!.GetValue<bool>());
        Assert.True(id["sortable"]!.GetValue<bool>());
        Assert.Single(fields.Values, f => f["key"]?.GetValue<bool>() == true);

        foreach (string name in new[] { "title", "description", "brand" })
        {
            Assert.Equal("Edm.String", fields[name]["type"]!.GetValue<string>());
            Assert.True(fields[name]["searchable"]!.GetValue<bool>(), name);
            Assert.Equal("zh-Hans.lucene", fields[name]["analyzer"]!.GetValue<string>());
            Assert.True(fields[name]["retrievable"]!.GetValue<bool>(), name);
        }

        Assert.False(fields["title"]["filterable"]!.GetValue<bool>());
        foreach (string name in new[] { "category", "brand", "groupId" })
        {
            Assert.True(fields[name]["filterable"]!.GetValue<bool>(), name);
            Assert.True(fields[name]["facetable"]!.GetValue<bool>(), name);
        }

        Assert.False(fields["category"]["searchable"]!.GetValue<bool>());
        Assert.Equal("Edm.Double", fields["price"]["type"]!.GetValue<string>());
        Assert.True(fields["price"]["filterable"]!.GetValue<bool>());
        Assert.True(fields["price"]["sortable"]!.GetValue<bool>());
        Assert.Equal("Edm.Boolean", fields["inStock"]["type"]!.GetValue<string>());
        Assert.True(fields["inStock"]["filterable"]!.GetValue<bool>());
        Assert.True(fields["source"]["filterable"]!.GetValue<bool>());
        Assert.True(fields["contentHash"]["filterable"]!.GetValue<bool>());
        Assert.True(fields["contentHash"]["retrievable"]!.GetValue<bool>());
        foreach (string name in new[] { "currency", "imageUrl", "attributes" })
        {
            Assert.Equal("Edm.String", fields[name]["type"]!.GetValue<string>());
            Assert.False(fields[name]["searchable"]!.GetValue<bool>(), name);
            Assert.True(fields[name]["retrievable"]!.GetValue<bool>(), name);
        }

        // Case-insensitive filters: hidden lower-cased copies.
        foreach (string name in new[] { "categoryKey", "brandKey" })
        {
            Assert.True(fields[name]["filterable"]!.GetValue<bool>(), name);
            Assert.False(fields[name]["retrievable"]!.GetValue<bool>(), name);
        }

        JsonNode vector = fields["vector"];
        Assert.Equal("Collection(Edm.Single)", vector["type"]!.GetValue<string>());
        Assert.True(vector["searchable"]!.GetValue<bool>());
        Assert.True(vector["retrievable"]!.GetValue<bool>());
        Assert.Equal(384, vector["dimensions"]!.GetValue<int>());
        string profile = vector["vectorSearchProfile"]!.GetValue<string>();

        JsonNode vectorSearch = body["vectorSearch"]!;
        JsonNode algorithm = Assert.Single(vectorSearch["algorithms"]!.AsArray())!;
        Assert.Equal("hnsw", algorithm["kind"]!.GetValue<string>());
        Assert.Equal("cosine", algorithm["hnswParameters"]!["metric"]!.GetValue<string>());
        JsonNode profileNode = Assert.Single(vectorSearch["profiles"]!.AsArray())!;
        Assert.Equal(profile, profileNode["name"]!.GetValue<string>());
        Assert.Equal(algorithm["name"]!.GetValue<string>(), profileNode["algorithm"]!.GetValue<string>());

        // Field names are camelCase.
        Assert.All(fields.Keys, name => Assert.True(char.IsLower(name[0]), name));
    }

    [Fact]
    public async Task EnsureCreatedAsync_Created_DimensionsKnownWithoutAnotherRequest()
    {
        var handler = EchoIndexHandler();
        await using var index = FakeSearch.CreateIndex(handler);

        await index.EnsureCreatedAsync(8);

        Assert.Equal(8, index.Dimensions);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task EnsureCreatedAsync_ServiceRefusesChange_ThrowsProductIndexExceptionWithContext()
    {
        var handler = new FakeSearchHandler((_, _) => FakeSearch.Error(400, "OperationNotAllowed",
            "Existing field 'vector' cannot be changed."));
        await using var index = FakeSearch.CreateIndex(handler);

        var ex = await Assert.ThrowsAsync<ProductIndexException>(() => index.EnsureCreatedAsync(768));

        Assert.Contains("'products'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("create or update index", ex.Message, StringComparison.Ordinal);
        Assert.Contains("400", ex.Message, StringComparison.Ordinal);
        Assert.Contains("OperationNotAllowed", ex.Message, StringComparison.Ordinal);
        Assert.Contains("768", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Existing field 'vector' cannot be changed.", ex.Message, StringComparison.Ordinal);
        Assert.Single(handler.Requests); // 400 is not retried
    }

    [Fact]
    public async Task Dimensions_IndexMissing_ReturnsNull()
    {
        var handler = EchoIndexHandler();
        await using var index = FakeSearch.CreateIndex(handler);

        Assert.Null(index.Dimensions);

        RecordedRequest request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.Equal("/indexes('products')", request.Path);
    }

    [Fact]
    public async Task Dimensions_ExistingIndex_ReadsVectorFieldOnceAndCaches()
    {
        var handler = new FakeSearchHandler((_, _) => FakeSearch.Json(200, """
            {
              "name": "products",
              "fields": [
                { "name": "id", "type": "Edm.String", "key": true, "searchable": false, "filterable": true, "sortable": true, "facetable": false, "retrievable": true },
                { "name": "vector", "type": "Collection(Edm.Single)", "searchable": true, "retrievable": true, "dimensions": 768, "vectorSearchProfile": "p" }
              ],
              "vectorSearch": {
                "algorithms": [ { "name": "a", "kind": "hnsw", "hnswParameters": { "metric": "cosine", "m": 4, "efConstruction": 400, "efSearch": 500 } } ],
                "profiles": [ { "name": "p", "algorithm": "a" } ]
              }
            }
            """));
        await using var index = FakeSearch.CreateIndex(handler);

        Assert.Equal(768, index.Dimensions);
        Assert.Equal(768, index.Dimensions);

        Assert.Single(handler.Requests);
    }

    [Fact]
    public void Create_HttpEndpoint_ThrowsArgumentException()
    {
        var options = new AzureAISearchIndexOptions { Endpoint = new Uri("http://fake-search.search.windows.net") };

        var ex = Assert.Throws<ArgumentException>(() => AzureAISearchProductIndex.Create(options));

        Assert.Contains("https", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_NoEndpoint_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => AzureAISearchProductIndex.Create(new AzureAISearchIndexOptions()));

        Assert.Contains("Endpoint", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_ApiKey_SendsApiKeyHeader()
    {
        var handler = new FakeSearchHandler((_, _) => FakeSearch.Json(200, "3"));
        var options = new AzureAISearchIndexOptions { Endpoint = FakeSearch.Endpoint, IndexName = "catalog", ApiKey = "admin-key-1" };
        await using var index = AzureAISearchProductIndex.Create(options, credential: null, FakeSearch.ClientOptions(handler));

        Assert.Equal(3, await index.CountAsync());

        RecordedRequest request = Assert.Single(handler.Requests);
        Assert.Equal("/indexes('catalog')/docs/$count", request.Path);
        Assert.Equal("admin-key-1", request.Headers["api-key"]);
        Assert.False(request.Headers.ContainsKey("Authorization"));
    }

    [Fact]
    public async Task Create_NoApiKey_UsesTokenCredentialBearer()
    {
        var handler = new FakeSearchHandler((_, _) => FakeSearch.Json(200, "0"));
        var options = new AzureAISearchIndexOptions { Endpoint = FakeSearch.Endpoint };
        TokenCredential credential = new FakeTokenCredential();
        await using var index = AzureAISearchProductIndex.Create(options, credential, FakeSearch.ClientOptions(handler));

        await index.CountAsync();

        RecordedRequest request = Assert.Single(handler.Requests);
        Assert.Equal("Bearer fake-token", request.Headers["Authorization"]);
        Assert.False(request.Headers.ContainsKey("api-key"));
    }
}
