using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ProductSimilarity.Api;
using ProductSimilarity.Core.Ingestion;
using ProductSimilarity.Functions.Tests.Infrastructure;

namespace ProductSimilarity.Functions.Tests;

/// <summary>
/// <c>app.MapProductApi()</c> (what <c>psim serve</c> runs) on a real Kestrel bound to loopback: the same handlers
/// answer on the same routes as the Functions.
/// </summary>
[Collection(OnnxCollection.Name)]
public sealed class PsimServeApiTests(OnnxGeneratorFixture onnx) : IAsyncLifetime
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
        builder.Services.AddProductSimilarity(builder.Configuration).AddProductApi(); // as psim serve does
        _app = builder.Build();
        _app.MapProductApi();
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
    public async Task MapProductApi_Similar_ReturnsCamelCaseItems()
    {
        using var response = await _client.GetAsync(new Uri("/api/products/E001/similar?top=2", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("E001", json.GetProperty("query").GetProperty("id").GetString());
        Assert.Equal(2, json.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task MapProductApi_Recommendations_ReturnsItems()
    {
        using var response = await _client.PostAsJsonAsync(new Uri("/api/recommendations", UriKind.Relative),
            new { history = new[] { new { id = "K003", @event = "cart" } }, top = 3 });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.InRange(json.GetProperty("items").GetArrayLength(), 1, 3);
    }

    [Theory]
    [InlineData("GET", "/api/search?top=3", HttpStatusCode.BadRequest)]
    [InlineData("GET", "/api/search?q=skillet", HttpStatusCode.OK)]
    [InlineData("GET", "/api/products/K003", HttpStatusCode.OK)]
    [InlineData("GET", "/api/products/K999", HttpStatusCode.NotFound)]
    [InlineData("DELETE", "/api/products/K999", HttpStatusCode.NotFound)]
    [InlineData("GET", "/api/health", HttpStatusCode.OK)]
    public async Task MapProductApi_Route_AnswersLikeTheFunction(string method, string path, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));
        using var response = await _client.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
        if (expected != HttpStatusCode.OK)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }
}
