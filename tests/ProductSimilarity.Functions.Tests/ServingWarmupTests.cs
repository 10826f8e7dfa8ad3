using Microsoft.Extensions.DependencyInjection;
using ProductSimilarity.Api;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Similarity;
using ProductSimilarity.Functions.Tests.Infrastructure;

namespace ProductSimilarity.Functions.Tests;

/// <summary>The server's warm-up: index and model loaded, then a few queries run before the first request.</summary>
[Collection(OnnxCollection.Name)]
public sealed class ServingWarmupTests(OnnxGeneratorFixture onnx) : IAsyncLifetime
{
    private FunctionsTestHost _host = null!;

    public Task InitializeAsync()
    {
        _host = FunctionsTestHost.Create(onnx.Generator);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task StartAsync_IngestedIndex_RunsQueriesOfEveryKindButEmbedsTheWarmUpTextAtMostTwice()
    {
        await _host.IngestFileAsync(TestPaths.TestData("catalog.csv"));
        var embedded = _host.Generator.Inputs;

        await ActivatorUtilities.CreateInstance<ServingWarmup>(_host.Services).StartAsync(CancellationToken.None);

        var record = Assert.Single(_host.Logs.GetSnapshot(), r => r.Id.Id == 20);
        var queries = Convert.ToInt32(record.StructuredState!.Single(s => s.Key == "Queries").Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(queries >= 3 && queries % 3 == 0, $"{queries} warm-up queries");
        Assert.InRange(_host.Generator.Inputs - embedded, 1, 2); // the model is loaded once; search embeds its text once
    }

    [Fact]
    public async Task RunQueriesAsync_EmptyIndex_RunsNone()
    {
        var similarity = _host.Services.GetRequiredService<SimilarityService>();

        var queries = await ServingWarmup.RunQueriesAsync(similarity, _host.Services.GetRequiredService<IProductIndex>(), CancellationToken.None);

        Assert.Equal(0, queries);
    }
}
