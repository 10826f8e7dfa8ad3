using System.ClientModel.Primitives;
using System.Diagnostics;
using Azure.AI.OpenAI;
using Microsoft.Extensions.AI;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Embeddings.AzureOpenAI;

namespace ProductSimilarity.Embeddings.Tests.AzureOpenAI;

/// <summary>
/// Timeouts and bounded retries of the Azure OpenAI generator through the SDK transport: a hung connection ends within
/// (MaxRetries + 1) x TimeoutSeconds, and a 429 storm stops after MaxRetries with status 429 (waits on fake time).
/// </summary>
public sealed class AzureOpenAIResilienceTests
{
    private static readonly Uri Endpoint = new("https://my-aoai.openai.azure.com/");

    [Fact]
    public async Task GenerateAsync_HungConnection_EndsWithinBudgetAfterBoundedTries()
    {
        var tries = 0;
        var clientOptions = new AzureOpenAIClientOptions
        {
            Transport = new HttpClientPipelineTransport(new HttpClient(new HangingHandler(() => Interlocked.Increment(ref tries)))),
            RetryPolicy = new AzureOpenAIRetryPolicy(maxRetries: 2, maxDelay: TimeSpan.Zero),
            NetworkTimeout = TimeSpan.FromMilliseconds(200),
        };
        using var generator = AzureOpenAIEmbeddingGeneratorFactory.Create(Options(), clientOptions: clientOptions);
        var clock = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => generator.GenerateAsync(["mug"]));

        clock.Stop();
        Assert.InRange(Volatile.Read(ref tries), 1, 3);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"a hung connection took {clock.Elapsed}");
        Assert.Contains("timeout", ex.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Create_NoNetworkTimeoutGiven_UsesConfiguredTimeoutSeconds()
    {
        var clientOptions = new AzureOpenAIClientOptions();

        using var generator = AzureOpenAIEmbeddingGeneratorFactory.Create(Options(), clientOptions: clientOptions);

        Assert.Equal(TimeSpan.FromSeconds(7), clientOptions.NetworkTimeout);
        Assert.IsType<AzureOpenAIRetryPolicy>(clientOptions.RetryPolicy);
    }

    [Fact]
    public async Task GenerateAsync_429Storm_StopsAfterConfiguredRetriesOnFakeTime()
    {
        var handler = new FakeAzureOpenAIHandler { Fallback = _ => FakeAzureOpenAIHandler.TooManyRequests(("retry-after-ms", "30000")) };
        var time = new RecordingTimeProvider(DateTimeOffset.Parse("2026-11-30T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var clientOptions = new AzureOpenAIClientOptions
        {
            Transport = new HttpClientPipelineTransport(new HttpClient(handler)),
            RetryPolicy = new AzureOpenAIRetryPolicy(maxRetries: 4, maxDelay: TimeSpan.FromSeconds(10), timeProvider: time),
        };
        using var generator = AzureOpenAIEmbeddingGeneratorFactory.Create(Options(), clientOptions: clientOptions);
        var clock = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<System.ClientModel.ClientResultException>(() => generator.GenerateAsync(["mug", "kettle"]));

        Assert.Equal(429, ex.Status);
        Assert.Equal(5, handler.Requests.Count);
        Assert.Equal(Enumerable.Repeat(TimeSpan.FromSeconds(10), 4), time.Waits); // each 30 s ask capped at 10 s, on fake time
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "the storm must not sleep in real time");
    }

    private static AzureOpenAIEmbeddingOptions Options() => new()
    {
        Endpoint = Endpoint,
        Deployment = "emb",
        Dimensions = 4,
        ApiKey = "test-key",
        TimeoutSeconds = 7,
    };

    private sealed class HangingHandler(Action onRequest) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            onRequest();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }
}
