using Microsoft.AspNetCore.Http;
using ProductSimilarity.Functions.Tests.Infrastructure;

namespace ProductSimilarity.Functions.Tests;

/// <summary>
/// Every request limit of <c>ProductSimilarity:Limits</c> is read from configuration: set lower than its default, a request
/// just inside it passes validation and one just outside gets a ProblemDetails 400 (413 for the body) naming the field.
/// </summary>
[Collection(OnnxCollection.Name)]
public sealed class ConfiguredLimitsTests(OnnxGeneratorFixture onnx) : IAsyncLifetime
{
    private FunctionsTestHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = FunctionsTestHost.Create(onnx.Generator, new Dictionary<string, string?>
        {
            ["ProductSimilarity:Limits:MaxTop"] = "5",
            ["ProductSimilarity:Limits:MaxIdLength"] = "6",
            ["ProductSimilarity:Limits:MaxHistory"] = "3",
            ["ProductSimilarity:Limits:MaxRequestBodyBytes"] = "2048",
            ["ProductSimilarity:Limits:MaxQueryLength"] = "12",
            ["ProductSimilarity:Limits:MaxFilterLength"] = "8",
        });
        var summary = await _host.IngestFileAsync(TestPaths.TestData("catalog.csv"));
        Assert.Equal(8, summary.Embedded);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Similar_TopAboveConfiguredMax_Returns400NamingTop()
    {
        Assert.Equal(StatusCodes.Status200OK, (await SimilarAsync("E001", "top=5")).StatusCode);

        var response = await SimilarAsync("E001", "top=6");

        AssertValidationProblem(response, "top", "from 1 to 5");
    }

    [Fact]
    public async Task Similar_IdAboveConfiguredLength_Returns400NamingId()
    {
        Assert.Equal(StatusCodes.Status404NotFound, (await SimilarAsync("ABCDEF", null)).StatusCode);

        AssertValidationProblem(await SimilarAsync("ABCDEFG", null), "id", "at most 6 characters");
    }

    [Fact]
    public async Task Search_TextAndFilterAboveConfiguredLength_Return400NamingThem()
    {
        Assert.Equal(StatusCodes.Status200OK, (await SearchAsync("q=earbuds&category=Audio")).StatusCode);

        AssertValidationProblem(await SearchAsync("q=wireless+earbuds"), "q", "at most 12 characters");
        AssertValidationProblem(await SearchAsync("q=earbuds&brand=Sennheiser"), "brand", "at most 8 characters");
    }

    [Fact]
    public async Task Recommendations_HistoryAboveConfiguredMax_Returns400NamingHistory()
    {
        Assert.Equal(StatusCodes.Status200OK, (await RecommendAsync("""{"history":[{"id":"E001"},{"id":"E002"},{"id":"K003"}]}""")).StatusCode);

        var response = await RecommendAsync("""{"history":[{"id":"E001"},{"id":"E002"},{"id":"K003"},{"id":"K001"}]}""");

        AssertValidationProblem(response, "history", "at most 3 events");
    }

    [Fact]
    public async Task Recommendations_BodyAboveConfiguredSize_Returns413Problem()
    {
        var padding = new string(' ', 2048);

        var response = await RecommendAsync($$"""{"history":[{"id":"E001"}]}{{padding}}""");

        Assert.Equal(StatusCodes.Status413PayloadTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.ContentType);
        Assert.Contains("2048 bytes", response.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private async Task<TestResponse> SimilarAsync(string id, string? query)
    {
        var context = _host.NewHttpContext("GET", $"/api/products/{id}/similar", query is null ? null : "?" + query);
        return await FunctionsTestHost.ExecuteAsync(await _host.HttpFunctions.SimilarProducts(context.Request, id, default), context);
    }

    private async Task<TestResponse> SearchAsync(string query)
    {
        var context = _host.NewHttpContext("GET", "/api/search", "?" + query);
        return await FunctionsTestHost.ExecuteAsync(await _host.HttpFunctions.Search(context.Request, default), context);
    }

    private async Task<TestResponse> RecommendAsync(string body)
    {
        var context = _host.NewHttpContext("POST", "/api/recommendations", body: body);
        return await FunctionsTestHost.ExecuteAsync(await _host.HttpFunctions.Recommendations(context.Request, default), context);
    }

    private static void AssertValidationProblem(TestResponse response, string field, string expected)
    {
        Assert.Equal(StatusCodes.Status400BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.ContentType);
        var messages = response.Json.GetProperty("errors").GetProperty(field);
        Assert.Contains(expected, messages[0].GetString(), StringComparison.Ordinal);
    }
}
