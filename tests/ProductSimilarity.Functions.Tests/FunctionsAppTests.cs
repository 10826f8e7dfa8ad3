using System.Reflection;
using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;
using ProductSimilarity.Functions.Tests.Infrastructure;

namespace ProductSimilarity.Functions.Tests;

/// <summary>The Functions app as the host sees it: build output, trigger attributes, start-up validation.</summary>
public sealed class FunctionsAppTests
{
    private static readonly string[] HttpFunctionNames =
        ["SimilarProducts", "Recommendations", "Search", "GetProduct", "DeleteProduct", "Health", "ExplainProducts", "CatalogMap", "OpenApiDocument"];

    // Anonymous: the health probe, and the API description (routes only, no catalog data).
    private static readonly string[] AnonymousFunctionNames = ["Health", "OpenApiDocument"];

    [Theory]
    [InlineData("host.json")]
    [InlineData("functions.metadata")]
    [InlineData("worker.config.json")]
    [InlineData("ProductSimilarity.Functions.dll")]
    public void BuildOutput_FunctionsApp_HoldsFileTheHostNeeds(string file)
    {
        Assert.True(File.Exists(Path.Combine(TestPaths.FunctionsOutputDirectory, file)),
            $"{file} is missing from {TestPaths.FunctionsOutputDirectory}");
    }

    [Fact]
    public void BuildOutput_HostJson_IsTheRepositoryRootCopy()
    {
        var built = File.ReadAllText(Path.Combine(TestPaths.FunctionsOutputDirectory, "host.json"));
        var source = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "host.json"));

        Assert.Equal(source, built);
        Assert.Equal("2.0", JsonDocument.Parse(built).RootElement.GetProperty("version").GetString());
    }

    [Fact]
    public void FunctionsMetadata_BlobTrigger_UsesEventGridOnCatalogsWithCatalogStorage()
    {
        var functions = ReadMetadata();
        var ingest = functions.Single(f => f.GetProperty("name").GetString() == nameof(CatalogIngestionFunction.IngestCatalog));
        var trigger = ingest.GetProperty("bindings").EnumerateArray().Single(b => b.GetProperty("type").GetString() == "blobTrigger");

        Assert.Equal("catalogs/{name}", trigger.GetProperty("path").GetString());
        Assert.Equal("EventGrid", trigger.GetProperty("source").GetString());
        Assert.Equal("CatalogStorage", trigger.GetProperty("connection").GetString());
    }

    [Fact]
    public void FunctionsMetadata_HttpFunctions_AreAllListedWithTheirAuthLevels()
    {
        var functions = ReadMetadata().ToDictionary(f => f.GetProperty("name").GetString()!);

        foreach (var name in HttpFunctionNames)
        {
            var trigger = functions[name].GetProperty("bindings").EnumerateArray().Single(b => b.GetProperty("type").GetString() == "httpTrigger");
            Assert.Equal(AnonymousFunctionNames.Contains(name) ? "Anonymous" : "Function", trigger.GetProperty("authLevel").GetString());
        }
    }

    [Fact]
    public void HttpTriggers_AuthorizationLevel_FunctionKeyEverywhereExceptHealth()
    {
        var triggers = HttpTriggers();

        Assert.Equal(HttpFunctionNames.Order(), triggers.Keys.Order());
        foreach (var (name, trigger) in triggers)
        {
            Assert.Equal(AnonymousFunctionNames.Contains(name) ? AuthorizationLevel.Anonymous : AuthorizationLevel.Function, trigger.AuthLevel);
        }
    }

    [Theory]
    [InlineData("SimilarProducts", "get", "products/{id}/similar")]
    [InlineData("Recommendations", "post", "recommendations")]
    [InlineData("Search", "get", "search")]
    [InlineData("GetProduct", "get", "products/{id}")]
    [InlineData("DeleteProduct", "delete", "products/{id}")]
    [InlineData("Health", "get", "health")]
    [InlineData("ExplainProducts", "get", "products/{id}/explain")]
    [InlineData("CatalogMap", "get", "map")]
    [InlineData("OpenApiDocument", "get", "openapi.json")]
    public void HttpTriggers_Route_MatchesPsimServe(string function, string method, string route)
    {
        var trigger = HttpTriggers()[function];

        Assert.Equal([method], trigger.Methods ?? []);
        Assert.Equal(route, trigger.Route);
    }

    private static Dictionary<string, HttpTriggerAttribute> HttpTriggers() =>
        typeof(HttpFunctions).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null)
            .ToDictionary(
                m => m.GetCustomAttribute<FunctionAttribute>()!.Name,
                m => m.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).Single(a => a is not null)!);

    [Fact]
    public async Task FunctionsHost_AzureAISearchWithoutEndpoint_FailsOnStartWithClearMessage()
    {
        // Runs the real Program.cs (the worker's entry point) with the bad setting; start-up validation must stop it.
        var entryPoint = typeof(HttpFunctions).Assembly.EntryPoint!;
        // The Functions host passes its gRPC endpoint; a closed loopback port stands in (start-up must fail before using it).
        string[] args =
        [
            "--Functions:Worker:HostEndpoint=http://127.0.0.1:9",
            "--ProductSimilarity:Index:Provider=AzureAISearch", "--ProductSimilarity:Index:AzureAISearch:Endpoint=",
        ];

        var run = Task.Run(() => entryPoint.Invoke(null, [args]));
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => run.WaitAsync(TimeSpan.FromSeconds(60)));

        var validation = Assert.IsType<OptionsValidationException>(Unwrap(failure));
        Assert.Contains(validation.Failures, f => f.Contains(
            "ProductSimilarity:Index:AzureAISearch:Endpoint is required when Provider=AzureAISearch", StringComparison.Ordinal));
    }

    private static Exception Unwrap(Exception exception) =>
        exception is TargetInvocationException { InnerException: { } inner } ? Unwrap(inner) : exception;

    private static List<JsonElement> ReadMetadata()
    {
        var json = File.ReadAllText(Path.Combine(TestPaths.FunctionsOutputDirectory, "functions.metadata"));
        return [.. JsonDocument.Parse(json).RootElement.EnumerateArray()];
    }
}
