using System.Text.Json.Nodes;
using Azure.Core.Pipeline;
using Azure.Search.Documents;
using Azure.Search.Documents.Indexes;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
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

        // Attribute filters: a hidden, filterable collection of the folded "name=value" terms.
        Assert.Equal("Collection(Edm.String)", fields["attributeKeys"]["type"]!.GetValue<string>());
        Assert.True(fields["attributeKeys"]["filterable"]!.GetValue<bool>());
        Assert.False(fields["attributeKeys"]["retrievable"]!.GetValue<bool>());
        Assert.False(fields["attributeKeys"]["searchable"]!.GetValue<bool>());

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
    public async Task EnsureCreatedAsync_NewIndex_DefinesKeywordAnalysedCodesFieldsAndTheirBoost()
    {
        var handler = EchoIndexHandler();
        await using var index = FakeSearch.CreateIndex(handler);

        await index.EnsureCreatedAsync(384);

        JsonNode body = Assert.Single(handler.Requests).Json;
        var fields = body["fields"]!.AsArray().ToDictionary(f => f!["name"]!.GetValue<string>(), f => f!);
        foreach (string name in new[] { "codes", "codeBases" })
        {
            Assert.Equal("Collection(Edm.String)", fields[name]["type"]!.GetValue<string>());
            Assert.True(fields[name]["searchable"]!.GetValue<bool>(), name);
            Assert.Equal("keyword", fields[name]["analyzer"]!.GetValue<string>());
            Assert.False(fields[name]["retrievable"]!.GetValue<bool>(), name);
        }

        JsonNode profile = Assert.Single(body["scoringProfiles"]!.AsArray())!;
        Assert.Equal("codes-boost", profile["name"]!.GetValue<string>());
        JsonNode weights = profile["text"]!["weights"]!;
        Assert.Equal(2.0, weights["codes"]!.GetValue<double>());
        Assert.Equal(1.0, weights["codeBases"]!.GetValue<double>());
        Assert.Null(weights["title"]); // the text fields keep weight 1
        Assert.True(body["analyzers"] is null || body["analyzers"]!.AsArray().Count == 0); // en.lucene is built in
    }

    [Fact]
    public async Task EnsureCreatedAsync_CjkBigramAnalyzer_DefinesItAndUsesItOnTheTextFields()
    {
        var handler = EchoIndexHandler();
        await using var index = FakeSearch.CreateIndex(handler, analyzer: "psim-cjk-bigram");

        await index.EnsureCreatedAsync(384);

        JsonNode body = Assert.Single(handler.Requests).Json;
        JsonNode analyzer = Assert.Single(body["analyzers"]!.AsArray())!;
        Assert.Equal("#Microsoft.Azure.Search.CustomAnalyzer", analyzer["@odata.type"]!.GetValue<string>());
        Assert.Equal("psim-cjk-bigram", analyzer["name"]!.GetValue<string>());
        Assert.Equal("standard_v2", analyzer["tokenizer"]!.GetValue<string>());
        Assert.Equal(["cjk_width", "lowercase", "cjk_bigram"], analyzer["tokenFilters"]!.AsArray().Select(f => f!.GetValue<string>()));
        var fields = body["fields"]!.AsArray().ToDictionary(f => f!["name"]!.GetValue<string>(), f => f!);
        foreach (string name in new[] { "title", "description", "brand" })
        {
            Assert.Equal("psim-cjk-bigram", fields[name]["analyzer"]!.GetValue<string>());
        }

        Assert.Equal("keyword", fields["codes"]["analyzer"]!.GetValue<string>());
    }

    [Fact]
    public async Task EnsureCreatedAsync_Created_DimensionsKnownWithoutAnotherRequest()
    {
        var handler = EchoIndexHandler();
        await using var index = FakeSearch.CreateIndex(handler);

        await index.EnsureCreatedAsync(8);

        Assert.Equal(8, await index.GetDimensionsAsync());
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
    public async Task GetDimensionsAsync_IndexMissing_ReturnsNullAndCachesThe404()
    {
        var handler = EchoIndexHandler();
        await using var index = FakeSearch.CreateIndex(handler);

        Assert.Null(await index.GetDimensionsAsync());
        Assert.Null(await index.GetDimensionsAsync());

        RecordedRequest request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.Equal("/indexes('products')", request.Path);
    }

    [Fact]
    public async Task GetDimensionsAsync_IndexMissingThenCreated_AnswersFromEnsureCreated()
    {
        var handler = EchoIndexHandler();
        await using var index = FakeSearch.CreateIndex(handler);

        Assert.Null(await index.GetDimensionsAsync());
        await index.EnsureCreatedAsync(384);

        Assert.Equal(384, await index.GetDimensionsAsync());
        Assert.Equal([HttpMethod.Get, HttpMethod.Put], handler.Requests.Select(r => r.Method));
    }

    private const string IndexWith768 = """
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
        """;

    [Fact]
    public async Task GetDimensionsAsync_ExistingIndex_ReadsVectorFieldOnceAndCaches()
    {
        var handler = new FakeSearchHandler((_, _) => FakeSearch.Json(200, IndexWith768));
        await using var index = FakeSearch.CreateIndex(handler);

        int?[] answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => index.GetDimensionsAsync().AsTask()));

        Assert.All(answers, a => Assert.Equal(768, a));
        Assert.Equal(768, await index.GetDimensionsAsync());
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task GetDimensionsAsync_ServerErrorThenSuccess_DoesNotCacheTheFailure()
    {
        var handler = new FakeSearchHandler((_, i) => i == 0
            ? FakeSearch.Error(403, "Forbidden", "Authorization failed.")
            : FakeSearch.Json(200, IndexWith768));
        await using var index = FakeSearch.CreateIndex(handler);

        var ex = await Assert.ThrowsAsync<ProductIndexException>(() => index.GetDimensionsAsync().AsTask());
        Assert.Contains("read index definition failed with HTTP 403", ex.Message, StringComparison.Ordinal);

        Assert.Equal(768, await index.GetDimensionsAsync());
        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public void AddAzureAISearchProductIndex_HttpEndpoint_FailsValidationOnResolve()
    {
        using var provider = Services(new AzureAISearchIndexOptions { Endpoint = new Uri("http://fake-search.search.windows.net") }, handler: null);

        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => provider.GetRequiredService<AzureAISearchProductIndex>());

        Assert.Contains("ProductSimilarity:Index:AzureAISearch:Endpoint must be an https address.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddAzureAISearchProductIndex_NoEndpoint_FailsValidationOnResolve()
    {
        using var provider = Services(new AzureAISearchIndexOptions(), handler: null);

        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => provider.GetRequiredService<AzureAISearchProductIndex>());

        Assert.Contains("ProductSimilarity:Index:AzureAISearch:Endpoint is required", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddAzureAISearchProductIndex_ApiKey_SendsApiKeyHeader()
    {
        var handler = new FakeSearchHandler((_, _) => FakeSearch.Json(200, "3"));
        await using var provider = Services(new AzureAISearchIndexOptions { Endpoint = FakeSearch.Endpoint, IndexName = "catalog", ApiKey = "admin-key-1" }, handler);
        var index = provider.GetRequiredService<AzureAISearchProductIndex>();

        Assert.Equal(3, await index.CountAsync());

        RecordedRequest request = Assert.Single(handler.Requests);
        Assert.Equal("/indexes('catalog')/docs/$count", request.Path);
        Assert.Equal("admin-key-1", request.Headers["api-key"]);
        Assert.False(request.Headers.ContainsKey("Authorization"));
        Assert.Equal("catalog", index.IndexName);
    }

    [Fact]
    public async Task AddAzureAISearchProductIndex_NoApiKey_UsesTokenCredentialBearerAndOneClientOfEach()
    {
        var handler = new FakeSearchHandler((_, _) => FakeSearch.Json(200, "0"));
        await using var provider = Services(new AzureAISearchIndexOptions { Endpoint = FakeSearch.Endpoint }, handler);

        await provider.GetRequiredService<AzureAISearchProductIndex>().CountAsync();

        RecordedRequest request = Assert.Single(handler.Requests);
        Assert.Equal("Bearer fake-token", request.Headers["Authorization"]);
        Assert.False(request.Headers.ContainsKey("api-key"));
        Assert.Same(provider.GetRequiredService<SearchClient>(), provider.GetRequiredService<SearchClient>());
        Assert.Same(provider.GetRequiredService<SearchIndexClient>(), provider.GetRequiredService<SearchIndexClient>());
        Assert.Same(provider.GetRequiredService<AzureAISearchProductIndex>(), provider.GetRequiredService<AzureAISearchProductIndex>());
    }

    [Fact]
    public async Task AddAzureAISearchProductIndex_Logger_IsWiredIn()
    {
        var handler = new FakeSearchHandler((_, _) => FakeSearch.Error(404, "ResourceNotFound", "No index."));
        var logs = new FakeLogCollector();
        await using var provider = Services(new AzureAISearchIndexOptions { Endpoint = FakeSearch.Endpoint }, handler, logs);

        Assert.Null(await provider.GetRequiredService<AzureAISearchProductIndex>().GetDimensionsAsync());

        Assert.Contains(logs.GetSnapshot(), r => r.Message.Contains("does not exist yet", StringComparison.Ordinal));
    }

    private static ServiceProvider Services(AzureAISearchIndexOptions settings, FakeSearchHandler? handler, FakeLogCollector? logs = null)
    {
        var services = new ServiceCollection();
        services.AddOptions<ProductSimilarityOptions>()
            .Configure(o => o.Index = new IndexOptions { Provider = IndexProvider.AzureAISearch, AzureAISearch = settings });
        services.AddSingleton<IValidateOptions<ProductSimilarityOptions>, ProductSimilarityOptionsValidator>();
        if (logs is not null)
        {
            services.AddLogging(b => b.AddProvider(new FakeLoggerProvider(logs)));
        }

        services.AddAzureAISearchProductIndex();
        services.AddAzureClients(clients =>
        {
            clients.UseCredential(new FakeTokenCredential());
            if (handler is not null)
            {
                clients.ConfigureDefaults(o => o.Transport = new HttpClientTransport(new HttpClient(handler)));
            }
        });
        return services.BuildServiceProvider();
    }
}
