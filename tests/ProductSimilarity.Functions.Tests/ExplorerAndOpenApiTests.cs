using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ProductSimilarity.Api;
using ProductSimilarity.Api.Http;
using ProductSimilarity.Core.Ingestion;
using ProductSimilarity.Functions.Tests.Infrastructure;

namespace ProductSimilarity.Functions.Tests;

/// <summary>
/// The explain and map routes, and the OpenAPI document, on the app <c>psim serve</c> builds (real Kestrel on loopback).
/// </summary>
[Collection(OnnxCollection.Name)]
public sealed class ExplorerAndOpenApiTests(OnnxGeneratorFixture onnx) : IAsyncLifetime
{
    private readonly string _indexFolder = Path.Combine(Path.GetTempPath(), "psim-functions-tests", Guid.NewGuid().ToString("N"));
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration["ProductSimilarity:Index:Local:Path"] = _indexFolder;
        builder.Services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(new CountingEmbeddingGenerator(onnx.Generator));
        builder.Services.AddProductSimilarity(builder.Configuration).AddProductApi();
        builder.Services.AddProductApiOpenApi();
        _app = builder.Build();
        _app.MapProductApi();
        _app.MapProductApiOpenApi();
        await _app.StartAsync();

        await using (var catalog = File.OpenRead(TestPaths.TestData("catalog.csv")))
        {
            await _app.Services.GetRequiredService<IngestionPipeline>().IngestAsync(catalog, "catalog.csv", new ListRowErrorSink());
        }

        var address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        _client = new HttpClient { BaseAddress = new Uri(address) };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_indexFolder, recursive: true);
    }

    [Fact]
    public async Task Explain_KnownAndUnknownIds_ExplainsKnownAndListsMissing()
    {
        var json = await GetJsonAsync("/api/products/E001/explain?ids=E002,NOPE,E002");

        Assert.Equal("E001", json.GetProperty("query").GetProperty("id").GetString());
        var item = Assert.Single(json.GetProperty("items").EnumerateArray());
        Assert.Equal("E002", item.GetProperty("id").GetString());
        Assert.Equal(["sony", "wf", "1000xm5", "earbuds"], item.GetProperty("sharedTerms").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(["brand", "category"], item.GetProperty("matchingAttributes").EnumerateArray().Select(a => a.GetProperty("name").GetString()));
        Assert.InRange(item.GetProperty("cosine").GetDouble(), 0.5, 1.0);
        Assert.Equal(["NOPE"], json.GetProperty("missing").EnumerateArray().Select(m => m.GetString()));
    }

    [Theory]
    [InlineData("/api/products/E001/explain", "ids")]
    [InlineData("/api/products/E001/explain?ids=", "ids")]
    [InlineData("/api/map?limit=0", "limit")]
    [InlineData("/api/map?limit=5001", "limit")]
    [InlineData("/api/map?limit=abc", "limit")]
    public async Task ExplorerRoutes_BadInput_Return400NamingTheField(string path, string field)
    {
        using var response = await _client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(json.GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task Explain_TooManyIds_Returns400()
    {
        var ids = string.Join(',', Enumerable.Range(0, ApiLimits.MaxExplainIds + 1).Select(i => $"X{i}"));
        using var response = await _client.GetAsync(new Uri($"/api/products/E001/explain?ids={ids}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Explain_UnknownProduct_Returns404()
    {
        using var response = await _client.GetAsync(new Uri("/api/products/NOPE/explain?ids=E001", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Map_WholeCatalog_OnePointPerProductWithVariance()
    {
        var json = await GetJsonAsync("/api/map");
        var documents = (await GetJsonAsync("/api/health")).GetProperty("documents").GetInt32();

        Assert.InRange(documents, 5, 10);
        Assert.Equal(documents, json.GetProperty("points").GetArrayLength());
        Assert.Equal(documents, json.GetProperty("total").GetInt64());
        Assert.False(json.GetProperty("truncated").GetBoolean());
        var variance = json.GetProperty("explainedVariance").EnumerateArray().Select(v => v.GetDouble()).ToList();
        Assert.Equal(2, variance.Count);
        Assert.True(variance[0] >= variance[1] && variance[1] > 0 && variance.Sum() <= 1.0001);
        var point = json.GetProperty("points")[0];
        Assert.False(string.IsNullOrEmpty(point.GetProperty("title").GetString()));
    }

    [Fact]
    public async Task Map_Limit_ProjectsThatManyAndSaysTruncated()
    {
        var json = await GetJsonAsync("/api/map?limit=3");
        var documents = (await GetJsonAsync("/api/health")).GetProperty("documents").GetInt32();

        Assert.Equal(3, json.GetProperty("points").GetArrayLength());
        Assert.Equal(documents, json.GetProperty("total").GetInt64());
        Assert.True(json.GetProperty("truncated").GetBoolean());
    }

    [Fact]
    public async Task OpenApi_EveryMappedRoute_IsDescribedWithItsMethod()
    {
        var document = await GetJsonAsync("/openapi.json");

        Assert.StartsWith("3.1", document.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        var routes = _app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api/", StringComparison.Ordinal))
            .Select(e => (Path: e.RoutePattern.RawText!, Method: e.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods.Single().ToLowerInvariant()))
            .ToList();
        Assert.Equal(8, routes.Count);
        var paths = document.GetProperty("paths");
        foreach (var (path, method) in routes)
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} is missing");
            Assert.True(item.TryGetProperty(method, out var operation), $"{method} {path} is missing");
            Assert.False(string.IsNullOrEmpty(operation.GetProperty("operationId").GetString()));
            Assert.False(string.IsNullOrEmpty(operation.GetProperty("summary").GetString()));
        }
    }

    [Theory]
    [InlineData("/api/products/{id}/similar", "get", "top,category,brand,minPrice,maxPrice,inStock,source,attr.{name},mode,fallback,mmr,dedupe")]
    [InlineData("/api/search", "get", "q,top,category,brand,minPrice,maxPrice,inStock,source,attr.{name},mode,fallback,mmr,dedupe")]
    [InlineData("/api/products/{id}/explain", "get", "ids")]
    [InlineData("/api/map", "get", "limit")]
    [InlineData("/api/products/{id}", "get", "")]
    public async Task OpenApi_QueryParameters_CarryTheirLimits(string path, string method, string expected)
    {
        var operation = (await GetJsonAsync("/openapi.json")).GetProperty("paths").GetProperty(path).GetProperty(method);
        var parameters = operation.TryGetProperty("parameters", out var p) ? p.EnumerateArray().ToList() : [];
        var query = parameters.Where(x => x.GetProperty("in").GetString() == "query").ToDictionary(x => x.GetProperty("name").GetString()!);

        Assert.Equal(expected.Split(',', StringSplitOptions.RemoveEmptyEntries), query.Keys);
        if (query.TryGetValue("top", out var top))
        {
            Assert.Equal(ApiLimits.MinTop, top.GetProperty("schema").GetProperty("minimum").GetInt32());
            Assert.Equal(ApiLimits.MaxTop, top.GetProperty("schema").GetProperty("maximum").GetInt32());
            Assert.Equal(ApiLimits.DefaultTop, top.GetProperty("schema").GetProperty("default").GetInt32());
        }

        if (query.TryGetValue("q", out var q))
        {
            Assert.True(q.GetProperty("required").GetBoolean());
            Assert.Equal(ApiLimits.MaxQueryLength, q.GetProperty("schema").GetProperty("maxLength").GetInt32());
        }

        if (query.TryGetValue("category", out var category))
        {
            Assert.Equal(ApiLimits.MaxFilterLength, category.GetProperty("schema").GetProperty("maxLength").GetInt32());
        }

        if (query.TryGetValue("mode", out var mode))
        {
            Assert.Equal(["vector", "keyword", "hybrid"], mode.GetProperty("schema").GetProperty("enum").EnumerateArray().Select(v => v.GetString()));
        }

        if (query.TryGetValue("mmr", out var mmr))
        {
            Assert.Equal(0, mmr.GetProperty("schema").GetProperty("minimum").GetInt32());
            Assert.Equal(1, mmr.GetProperty("schema").GetProperty("maximum").GetInt32());
        }

        if (query.TryGetValue("attr.{name}", out var attribute))
        {
            Assert.Equal(ApiLimits.MaxFilterLength, attribute.GetProperty("schema").GetProperty("maxLength").GetInt32());
        }

        if (query.TryGetValue("limit", out var limit))
        {
            Assert.Equal(ApiLimits.MaxMapProducts, limit.GetProperty("schema").GetProperty("maximum").GetInt32());
        }

        if (path.Contains("{id}", StringComparison.Ordinal))
        {
            var id = parameters.Single(x => x.GetProperty("in").GetString() == "path");
            Assert.Equal("id", id.GetProperty("name").GetString());
            Assert.Equal(ApiLimits.MaxIdLength, id.GetProperty("schema").GetProperty("maxLength").GetInt32());
        }
    }

    [Theory]
    [InlineData("/api/products/{id}/similar", "get", "200,400,404")]
    [InlineData("/api/recommendations", "post", "200,400,413")]
    [InlineData("/api/search", "get", "200,400")]
    [InlineData("/api/products/{id}", "get", "200,400,404")]
    [InlineData("/api/products/{id}", "delete", "204,400,404")]
    [InlineData("/api/health", "get", "200,503")]
    [InlineData("/api/products/{id}/explain", "get", "200,400,404")]
    [InlineData("/api/map", "get", "200,400")]
    public async Task OpenApi_Responses_ListSuccessAndErrorShapes(string path, string method, string statuses)
    {
        var document = await GetJsonAsync("/openapi.json");
        var responses = document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("responses");

        Assert.Equal(statuses.Split(','), responses.EnumerateObject().Select(r => r.Name).Order());
        foreach (var response in responses.EnumerateObject().Where(r => r.Name[0] is '4'))
        {
            var content = response.Value.GetProperty("content");
            Assert.True(content.TryGetProperty("application/problem+json", out var problem), $"{method} {path} {response.Name} is not ProblemDetails");
            var schema = problem.GetProperty("schema").GetProperty("$ref").GetString();
            Assert.Equal(response.Name == "400" ? "#/components/schemas/HttpValidationProblemDetails" : "#/components/schemas/ProblemDetails", schema);
        }
    }

    [Fact]
    public async Task OpenApi_RecommendationBody_IsDescribedWithItsFields()
    {
        var document = await GetJsonAsync("/openapi.json");
        var body = document.GetProperty("paths").GetProperty("/api/recommendations").GetProperty("post").GetProperty("requestBody");
        Assert.Equal("#/components/schemas/RecommendationBody", body.GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        var properties = document.GetProperty("components").GetProperty("schemas").GetProperty("RecommendationBody").GetProperty("properties");
        Assert.Equal(["history", "exclude", "top", "filters", "excludePurchased", "replenish", "strategy", "explain"], properties.EnumerateObject().Select(p => p.Name));
        Assert.Equal(ApiLimits.MaxHistory, properties.GetProperty("history").GetProperty("maxItems").GetInt32());
        Assert.Equal(ApiLimits.MaxExclude, properties.GetProperty("exclude").GetProperty("maxItems").GetInt32());
    }

    [Fact]
    public async Task GenerateProductApiOpenApiJson_WithoutServer_MatchesTheServedDocument()
    {
        var served = await _client.GetStringAsync(new Uri("/openapi.json", UriKind.Relative));

        var generated = await ProductApiOpenApiExtensions.GenerateProductApiOpenApiJsonAsync();

        Assert.Equal(served, generated);
    }

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await _client.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
