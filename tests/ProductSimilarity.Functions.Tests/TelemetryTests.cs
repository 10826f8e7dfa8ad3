using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using ProductSimilarity.Api;
using ProductSimilarity.Api.Http;
using ProductSimilarity.Core.Diagnostics;
using ProductSimilarity.Core.Ingestion;
using ProductSimilarity.Functions.Tests.Infrastructure;

namespace ProductSimilarity.Functions.Tests;

/// <summary>
/// The OpenTelemetry wiring of both hosts (<c>AddProductSimilarityTelemetry</c>) with the in-memory exporter: an
/// ingestion and a query produce the named spans and metrics that docs/telemetry.md lists and the alerts use.
/// </summary>
[Collection(OnnxCollection.Name)]
public sealed class TelemetryTests(OnnxGeneratorFixture onnx) : IAsyncLifetime
{
    private readonly string _indexFolder = Path.Combine(Path.GetTempPath(), "psim-functions-tests", Guid.NewGuid().ToString("N"));
    private readonly List<Activity> _spans = [];
    private readonly List<Metric> _metrics = [];
    private ServiceProvider _services = null!;

    public Task InitializeAsync()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ProductSimilarity:Index:Local:Path"] = _indexFolder,
            ["ProductSimilarity:Ingestion:BatchSize"] = "4",
            ["ProductSimilarity:Ingestion:CommitEvery"] = "1",
        }).Build();
        var collection = new ServiceCollection();
        collection.AddSingleton<IConfiguration>(configuration);
        collection.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(new CountingEmbeddingGenerator(onnx.Generator));
        collection.AddProductSimilarity(configuration);
        collection.AddProductApi();
        collection.AddProductSimilarityTelemetry(configuration)
            .WithTracing(t => t.AddInMemoryExporter(_spans))
            .WithMetrics(m => m.AddInMemoryExporter(_metrics));
        _services = collection.BuildServiceProvider();
        // The SDK starts with the host; without one, resolving the providers starts them.
        _ = _services.GetRequiredService<TracerProvider>();
        _ = _services.GetRequiredService<MeterProvider>();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        Directory.Delete(_indexFolder, recursive: true);
    }

    [Fact]
    public async Task IngestionAndQuery_InMemoryExporter_ProduceTheNamedSpansAndMetrics()
    {
        IngestionSummary summary;
        await using (var catalog = File.OpenRead(TestPaths.TestData("catalog.csv")))
        {
            summary = await _services.GetRequiredService<IngestionPipeline>().IngestAsync(catalog, "catalog.csv", new ListRowErrorSink());
        }

        var context = new DefaultHttpContext { RequestServices = _services };
        context.Request.QueryString = new QueryString("?top=3");
        var result = await _services.GetRequiredService<ProductApi>().SimilarAsync(context.Request, "E001", CancellationToken.None);
        Assert.IsAssignableFrom<IStatusCodeHttpResult>(result);
        _services.GetRequiredService<MeterProvider>().ForceFlush();
        _services.GetRequiredService<TracerProvider>().ForceFlush();

        var ingest = Assert.Single(_spans, s => s.OperationName == ProductSimilarityTelemetry.IngestActivity && (string?)s.GetTagItem("psim.file") == "catalog.csv");
        Assert.Equal("succeeded", ingest.GetTagItem(ProductSimilarityTelemetry.StatusTag));
        Assert.Equal(10L, ingest.GetTagItem("psim.rows"));
        Assert.True(summary.Rejected >= 1);
        Assert.Equal(summary.Rejected, ingest.GetTagItem("psim.rejected"));
        Assert.Equal(summary.Embedded, ingest.GetTagItem("psim.embedded"));
        Assert.Contains(_spans, s => s.OperationName == ProductSimilarityTelemetry.EmbedBatchActivity && s.ParentSpanId == ingest.SpanId);
        Assert.Contains(_spans, s => s.OperationName == ProductSimilarityTelemetry.CommitActivity && s.ParentSpanId == ingest.SpanId);
        var query = Assert.Single(_spans, s => s.OperationName == ProductSimilarityTelemetry.QueryActivity && (string?)s.GetTagItem(ProductSimilarityTelemetry.RouteTag) == "similar");
        Assert.Equal(3, query.GetTagItem("psim.results"));

        string[] expected =
        [
            ProductSimilarityTelemetry.RunsMetric, ProductSimilarityTelemetry.RowsReadMetric, ProductSimilarityTelemetry.RowsRejectedMetric,
            ProductSimilarityTelemetry.EmbeddedMetric, ProductSimilarityTelemetry.ThroughputMetric, ProductSimilarityTelemetry.EmbedBatchDurationMetric,
            ProductSimilarityTelemetry.CommitDurationMetric, ProductSimilarityTelemetry.QueryDurationMetric, ProductSimilarityTelemetry.QueryResultsMetric,
        ];
        var names = _metrics.Select(m => m.Name).ToHashSet();
        Assert.All(expected, name => Assert.Contains(name, names));
        Assert.True(Sum(ProductSimilarityTelemetry.RowsRejectedMetric) >= 1);
        Assert.Contains(Points(ProductSimilarityTelemetry.RunsMetric), p => Tag(p, ProductSimilarityTelemetry.StatusTag) == "succeeded");
        Assert.Contains(Points(ProductSimilarityTelemetry.QueryDurationMetric), p => Tag(p, ProductSimilarityTelemetry.RouteTag) == "similar" && p.GetHistogramCount() >= 1);
        Assert.NotNull(ProductSimilarityTelemetry.LastIngestion);
    }

    [Fact]
    public async Task Ingestion_EmptyFile_RecordsAFailedRun()
    {
        await using var catalog = new MemoryStream(); // an empty file cannot be read at all

        await Assert.ThrowsAnyAsync<Exception>(() =>
            _services.GetRequiredService<IngestionPipeline>().IngestAsync(catalog, "broken.csv", new ListRowErrorSink()));
        _services.GetRequiredService<MeterProvider>().ForceFlush();
        _services.GetRequiredService<TracerProvider>().ForceFlush();

        var ingest = Assert.Single(_spans, s => s.OperationName == ProductSimilarityTelemetry.IngestActivity && (string?)s.GetTagItem("psim.file") == "broken.csv");
        Assert.Equal("failed", ingest.GetTagItem(ProductSimilarityTelemetry.StatusTag));
        Assert.Equal(ActivityStatusCode.Error, ingest.Status);
        Assert.Contains(Points(ProductSimilarityTelemetry.RunsMetric), p => Tag(p, ProductSimilarityTelemetry.StatusTag) == "failed");
    }

    private IEnumerable<MetricPoint> Points(string name)
    {
        foreach (var metric in _metrics.Where(m => m.Name == name))
        {
            foreach (var point in metric.GetMetricPoints())
            {
                yield return point;
            }
        }
    }

    private long Sum(string name) => Points(name).Sum(p => p.GetSumLong());

    private static string? Tag(MetricPoint point, string key)
    {
        foreach (var tag in point.Tags)
        {
            if (tag.Key == key)
            {
                return tag.Value as string;
            }
        }

        return null;
    }
}

public sealed class FunctionsTelemetryTests
{
    [Fact]
    public void CredentialFor_UserAssignedIdentity_ReturnsManagedIdentityCredential()
    {
        Assert.IsType<Azure.Identity.ManagedIdentityCredential>(FunctionsTelemetry.CredentialFor("ClientId=00000000-0000-0000-0000-000000000001;Authorization=AAD"));
        Assert.IsType<Azure.Identity.ManagedIdentityCredential>(FunctionsTelemetry.CredentialFor("Authorization=AAD"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("ClientId=00000000-0000-0000-0000-000000000001")]
    [InlineData("Authorization=Key")]
    public void CredentialFor_NoEntraId_ReturnsNull(string? authentication) =>
        Assert.Null(FunctionsTelemetry.CredentialFor(authentication));
}
