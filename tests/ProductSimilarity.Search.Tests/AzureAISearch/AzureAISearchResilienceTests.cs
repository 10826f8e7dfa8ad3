using System.Diagnostics;
using Azure;
using Azure.Core.Pipeline;
using Azure.Search.Documents.Indexes;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Search.AzureAISearch;

namespace ProductSimilarity.Search.Tests.AzureAISearch;

/// <summary>
/// Timeouts and bounded retries of the Azure AI Search adapter, through the SDK transport: a hung connection and a
/// 429 storm each end within the budget that the options give, with an error that says what happened.
/// </summary>
public sealed class AzureAISearchResilienceTests
{
    [Fact]
    public void CreateClientOptions_FromIndexOptions_TimeoutAndRetriesConfigured()
    {
        var options = AzureAISearchProductIndex.CreateClientOptions(maxRetries: 2, networkTimeout: TimeSpan.FromSeconds(7));

        Assert.Equal(2, options.Retry.MaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(7), options.Retry.NetworkTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), AzureAISearchProductIndex.CreateClientOptions().Retry.NetworkTimeout);
        Assert.Equal(30, new AzureAISearchIndexOptions().TimeoutSeconds);
        Assert.Equal(4, new AzureAISearchIndexOptions().MaxRetries);
    }

    [Fact]
    public async Task GetAsync_HungConnection_EndsWithinBudgetAfterBoundedTries()
    {
        var tries = 0;
        var handler = new HangingHandler(() => Interlocked.Increment(ref tries));
        var clientOptions = AzureAISearchProductIndex.CreateClientOptions(maxRetries: 2, networkTimeout: TimeSpan.FromMilliseconds(200));
        clientOptions.Retry.Delay = TimeSpan.FromMilliseconds(1);
        clientOptions.Retry.MaxDelay = TimeSpan.FromMilliseconds(5);
        clientOptions.Transport = new HttpClientTransport(new HttpClient(handler));
        var client = new SearchIndexClient(FakeSearch.Endpoint, new AzureKeyCredential("test-admin-key"), clientOptions);
        await using var index = new AzureAISearchProductIndex(client, "products", "en.lucene");
        var clock = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => index.GetAsync("p1"));

        clock.Stop();
        Assert.Equal(3, Volatile.Read(ref tries)); // the first try and two retries, each abandoned after 200 ms
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"a hung connection took {clock.Elapsed}");
        Assert.Contains("timeout", ex.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task UpsertAsync_429Storm_StopsAfterConfiguredRetriesWithClearError()
    {
        var handler = new FakeSearchHandler((_, _) =>
        {
            var response = FakeSearch.Error(429, "TooManyRequests", "Too many requests.");
            response.Headers.Add("Retry-After", "0");
            return response;
        });
        var clientOptions = AzureAISearchProductIndex.CreateClientOptions(maxRetries: 6, networkTimeout: TimeSpan.FromSeconds(1));
        clientOptions.Retry.Delay = TimeSpan.FromMilliseconds(1);
        clientOptions.Retry.MaxDelay = TimeSpan.FromMilliseconds(5);
        clientOptions.Transport = new HttpClientTransport(new HttpClient(handler));
        var client = new SearchIndexClient(FakeSearch.Endpoint, new AzureKeyCredential("test-admin-key"), clientOptions);
        await using var index = new AzureAISearchProductIndex(client, "products", "en.lucene")
        {
            DocumentRetryDelay = TimeSpan.FromMilliseconds(1),
            DocumentRetryMaxDelay = TimeSpan.FromMilliseconds(4),
        };

        var ex = await Assert.ThrowsAsync<ProductIndexException>(() => index.UpsertAsync([FakeSearch.Product("p1")]));

        Assert.Equal(7, handler.Requests.Count);
        Assert.All(handler.Requests, r => Assert.EndsWith("/docs/search.index", r.Path, StringComparison.Ordinal));
        Assert.Contains("429", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Never answers: waits until the pipeline's network timeout cancels the request.</summary>
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
