using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using Azure.AI.OpenAI;
using Azure.Core;
using Microsoft.Extensions.AI;
using OpenAI.Embeddings;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Embeddings.AzureOpenAI;

namespace ProductSimilarity.Embeddings.Tests.AzureOpenAI;

public sealed class AzureOpenAIEmbeddingGeneratorTests
{
    private static readonly Uri Endpoint = new("https://unit-test.openai.azure.com/");
    private const string Deployment = "emb-3-small";
    private const string ApiKey = "test-api-key";
    private static readonly DateTimeOffset Now = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private sealed record Harness(
        IEmbeddingGenerator<string, Embedding<float>> Generator,
        FakeAzureOpenAIHandler Handler,
        RecordingTimeProvider Time);

    private static Harness Create(
        int dimensions = 4,
        int batchSize = 256,
        string? apiKey = ApiKey,
        TokenCredential? credential = null,
        int maxRetries = 3,
        TimeSpan? maxDelay = null)
    {
        var handler = new FakeAzureOpenAIHandler();
        var time = new RecordingTimeProvider(Now);
        var clientOptions = new AzureOpenAIClientOptions
        {
            Transport = new HttpClientPipelineTransport(new HttpClient(handler)),
            RetryPolicy = new AzureOpenAIRetryPolicy(maxRetries, maxDelay, time),
        };
        var options = new AzureOpenAIEmbeddingOptions
        {
            Endpoint = Endpoint,
            Deployment = Deployment,
            Dimensions = dimensions,
            ApiKey = apiKey,
            BatchSize = batchSize,
        };
        return new Harness(AzureOpenAIEmbeddingGeneratorFactory.Create(options, credential, clientOptions), handler, time);
    }

    private static float[] Normalized(float[] vector)
    {
        double norm = Math.Sqrt(vector.Sum(v => (double)v * v));
        return [.. vector.Select(v => (float)(v / norm))];
    }

    private static void AssertVector(string text, int dimensions, Embedding<float> embedding)
    {
        float[] expected = Normalized(FakeAzureOpenAIHandler.FakeVector(text, dimensions));
        float[] actual = embedding.Vector.ToArray();
        Assert.Equal(dimensions, actual.Length);
        for (int i = 0; i < dimensions; i++)
        {
            Assert.Equal(expected[i], actual[i], 5);
        }
    }

    [Fact]
    public async Task GenerateAsync_ApiKey_SendsDocumentedEmbeddingsRequest()
    {
        var h = Create(dimensions: 256);

        await h.Generator.GenerateAsync(["red running shoe", "蓝色 保温杯"]);

        RecordedRequest request = Assert.Single(h.Handler.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("https", request.Uri.Scheme);
        Assert.Equal("unit-test.openai.azure.com", request.Uri.Host);
        Assert.Equal($"/openai/deployments/{Deployment}/embeddings", request.Uri.AbsolutePath);
        Assert.Matches(@"^\?api-version=\d{4}-\d{2}-\d{2}(-preview)?$", request.Uri.Query);
        Assert.Equal(ApiKey, request.Header("api-key"));
        Assert.Null(request.Header("Authorization"));
        Assert.StartsWith("application/json", request.Header("Content-Type"), StringComparison.Ordinal);

        Assert.Equal(["red running shoe", "蓝色 保温杯"], request.Inputs);
        Assert.Equal(256, request.Json.GetProperty("dimensions").GetInt32());
        Assert.Equal(Deployment, request.Json.GetProperty("model").GetString());
        // OpenAI 2.1.0 asks for base64 float32; the fake answers in kind, so decoding is exercised too.
        Assert.Equal("base64", request.Json.GetProperty("encoding_format").GetString());
    }

    [Fact]
    public async Task GenerateAsync_TokenCredential_SendsBearerTokenForCognitiveServicesScope()
    {
        var credential = new FakeTokenCredential("fake-entra-token");
        var h = Create(apiKey: null, credential: credential);

        await h.Generator.GenerateAsync(["desk lamp"]);

        RecordedRequest request = Assert.Single(h.Handler.Requests);
        Assert.Equal("Bearer fake-entra-token", request.Header("Authorization"));
        Assert.Null(request.Header("api-key"));
        Assert.Contains(credential.RequestedScopes, scopes => scopes.Contains("https://cognitiveservices.azure.com/.default"));
    }

    [Fact]
    public async Task GenerateAsync_ApiKeyAndCredential_ApiKeyWins()
    {
        var credential = new FakeTokenCredential("unused-token");
        var h = Create(apiKey: ApiKey, credential: credential);

        await h.Generator.GenerateAsync(["desk lamp"]);

        Assert.Equal(ApiKey, Assert.Single(h.Handler.Requests).Header("api-key"));
        Assert.Empty(credential.RequestedScopes);
    }

    [Fact]
    public async Task GenerateAsync_FiveInputsBatchSizeTwo_SendsThreeRequestsInOrder()
    {
        var h = Create(batchSize: 2);
        string[] texts = ["alpha", "bravo shoe", "charlie mug", "delta", "echo lamp shade"];

        GeneratedEmbeddings<Embedding<float>> result = await h.Generator.GenerateAsync(texts);

        Assert.Equal([2, 2, 1], h.Handler.Requests.Select(r => r.Inputs.Length));
        Assert.Equal(texts, h.Handler.Requests.SelectMany(r => r.Inputs));
        Assert.Equal(texts.Length, result.Count);
        for (int i = 0; i < texts.Length; i++)
        {
            AssertVector(texts[i], 4, result[i]);
        }

        Assert.Equal(texts.Sum(t => t.Length), result.Usage?.InputTokenCount);
    }

    [Fact]
    public async Task GenerateAsync_ResponseOutOfOrder_OrdersByIndex()
    {
        var h = Create();
        h.Handler.Then(r => FakeAzureOpenAIHandler.Embeddings(r, reverseOrder: true));
        string[] texts = ["one", "three three", "fifty five"];

        GeneratedEmbeddings<Embedding<float>> result = await h.Generator.GenerateAsync(texts);

        for (int i = 0; i < texts.Length; i++)
        {
            AssertVector(texts[i], 4, result[i]);
        }
    }

    [Fact]
    public async Task GenerateAsync_Vectors_AreUnitLengthWithModelId()
    {
        var h = Create(dimensions: 16);

        GeneratedEmbeddings<Embedding<float>> result = await h.Generator.GenerateAsync(["a long product description", "x"]);

        foreach (Embedding<float> embedding in result)
        {
            Assert.Equal(16, embedding.Dimensions);
            double norm = Math.Sqrt(embedding.Vector.ToArray().Sum(v => (double)v * v));
            Assert.Equal(1.0, norm, 5);
            Assert.Equal("text-embedding-3-small", embedding.ModelId);
        }
    }

    [Fact]
    public async Task GenerateAsync_CharacterBudgetExceeded_SplitsRequestsAndKeepsOrder()
    {
        var handler = new FakeAzureOpenAIHandler();
        var client = new AzureOpenAIClient(Endpoint, new ApiKeyCredential(ApiKey), new AzureOpenAIClientOptions
        {
            Transport = new HttpClientPipelineTransport(new HttpClient(handler)),
        });
        using var generator = new AzureOpenAIEmbeddingGenerator(
            client.GetEmbeddingClient(Deployment), Endpoint, Deployment, dimensions: 4, batchSize: 100, maxCharactersPerRequest: 10);
        string[] texts = ["aaaa", "bbbb", "cccc", "twelve chars", "x"];

        GeneratedEmbeddings<Embedding<float>> result = await generator.GenerateAsync(texts);

        // 4+4 fits in 10, a third 4 would not; an input over the budget goes alone.
        string[][] expected = [["aaaa", "bbbb"], ["cccc"], ["twelve chars"], ["x"]];
        Assert.Equal(expected, handler.Requests.Select(r => r.Inputs));
        for (int i = 0; i < texts.Length; i++)
        {
            AssertVector(texts[i], 4, result[i]);
        }
    }

    [Fact]
    public async Task GenerateAsync_BatchSizeAboveServiceLimit_SendsAtMost2048InputsPerRequest()
    {
        var handler = new FakeAzureOpenAIHandler();
        var client = new AzureOpenAIClient(Endpoint, new ApiKeyCredential(ApiKey), new AzureOpenAIClientOptions
        {
            Transport = new HttpClientPipelineTransport(new HttpClient(handler)),
        });
        using var generator = new AzureOpenAIEmbeddingGenerator(
            client.GetEmbeddingClient(Deployment), Endpoint, Deployment, dimensions: 2, batchSize: 5000);
        string[] texts = [.. Enumerable.Range(0, 2050).Select(i => $"p{i}")];

        GeneratedEmbeddings<Embedding<float>> result = await generator.GenerateAsync(texts);

        Assert.Equal([2048, 2], handler.Requests.Select(r => r.Inputs.Length));
        Assert.Equal(2050, result.Count);
        AssertVector("p2049", 2, result[2049]);
    }

    [Fact]
    public async Task GenerateAsync_TooManyRequestsWithRetryAfter_WaitsThenSucceeds()
    {
        var h = Create();
        h.Handler.Then(_ => FakeAzureOpenAIHandler.TooManyRequests(("Retry-After", "1")));

        GeneratedEmbeddings<Embedding<float>> result = await h.Generator.GenerateAsync(["mug", "lamp"]);

        Assert.Equal(2, h.Handler.Requests.Count);
        Assert.Equal(h.Handler.Requests[0].Body, h.Handler.Requests[1].Body);
        Assert.Equal([TimeSpan.FromSeconds(1)], h.Time.Waits);
        AssertVector("lamp", 4, result[1]);
    }

    [Fact]
    public async Task GenerateAsync_RetryAfterMsAndRetryAfter_PrefersMilliseconds()
    {
        var h = Create();
        h.Handler.Then(_ => FakeAzureOpenAIHandler.TooManyRequests(("retry-after-ms", "250"), ("Retry-After", "1")));

        await h.Generator.GenerateAsync(["mug"]);

        Assert.Equal(2, h.Handler.Requests.Count);
        Assert.Equal([TimeSpan.FromMilliseconds(250)], h.Time.Waits);
    }

    [Fact]
    public async Task GenerateAsync_RetryAfterHttpDate_WaitsUntilThatTime()
    {
        var h = Create();
        h.Handler.Then(_ => FakeAzureOpenAIHandler.TooManyRequests(("Retry-After", Now.AddSeconds(3).ToString("r"))));

        await h.Generator.GenerateAsync(["mug"]);

        Assert.Equal([TimeSpan.FromSeconds(3)], h.Time.Waits);
    }

    [Fact]
    public async Task GenerateAsync_RetryAfterAboveMaxDelay_WaitIsCapped()
    {
        var h = Create(maxDelay: TimeSpan.FromSeconds(2));
        h.Handler.Then(_ => FakeAzureOpenAIHandler.TooManyRequests(("Retry-After", "86400")));

        await h.Generator.GenerateAsync(["mug"]);

        Assert.Equal([TimeSpan.FromSeconds(2)], h.Time.Waits);
    }

    [Fact]
    public async Task GenerateAsync_ServiceUnavailableWithoutRetryAfter_BacksOffAndRetries()
    {
        var h = Create();
        h.Handler.Then(_ => FakeAzureOpenAIHandler.Error(HttpStatusCode.ServiceUnavailable, "ServiceUnavailable", "busy"));

        await h.Generator.GenerateAsync(["mug"]);

        Assert.Equal(2, h.Handler.Requests.Count);
        TimeSpan wait = Assert.Single(h.Time.Waits);
        Assert.InRange(wait, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task GenerateAsync_ThrottledOnEveryTry_StopsAfterMaxRetriesWithStatus429()
    {
        var h = Create(maxRetries: 2);
        h.Handler.Fallback = _ => FakeAzureOpenAIHandler.TooManyRequests(("Retry-After", "1"));

        var ex = await Assert.ThrowsAsync<ClientResultException>(() => h.Generator.GenerateAsync(["mug"]));

        Assert.Equal(429, ex.Status);
        Assert.Equal(3, h.Handler.Requests.Count);
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)], h.Time.Waits);
        Assert.Contains("exceeded call rate limit", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_ClientOptionsWithSdkRetryPolicy_UsesRetryAfterPolicyWithFiveRetries()
    {
        var handler = new FakeAzureOpenAIHandler
        {
            // retry-after-ms 0: no waiting, so the count of tries alone tells which policy ran (the SDK's stops at 3 retries).
            Fallback = _ => FakeAzureOpenAIHandler.TooManyRequests(("retry-after-ms", "0")),
        };
        var clientOptions = new AzureOpenAIClientOptions { Transport = new HttpClientPipelineTransport(new HttpClient(handler)) };
        var generator = AzureOpenAIEmbeddingGeneratorFactory.Create(
            new AzureOpenAIEmbeddingOptions { Endpoint = Endpoint, Deployment = Deployment, Dimensions = 4, ApiKey = ApiKey },
            clientOptions: clientOptions);

        var ex = await Assert.ThrowsAsync<ClientResultException>(() => generator.GenerateAsync(["mug"]));

        Assert.Equal(429, ex.Status);
        Assert.Equal(AzureOpenAIRetryPolicy.DefaultMaxRetries + 1, handler.Requests.Count);
        Assert.IsType<AzureOpenAIRetryPolicy>(clientOptions.RetryPolicy);
    }

    [Fact]
    public async Task GenerateAsync_BadRequest_ThrowsClearExceptionWithoutRetrying()
    {
        var h = Create();
        h.Handler.Then(_ => FakeAzureOpenAIHandler.Error(
            HttpStatusCode.BadRequest, "InvalidRequest", "This model's maximum context length is 8192 tokens."));

        var ex = await Assert.ThrowsAsync<ClientResultException>(() => h.Generator.GenerateAsync(["mug", "lamp"]));

        Assert.Equal(400, ex.Status);
        Assert.Single(h.Handler.Requests);
        Assert.Empty(h.Time.Waits);
        Assert.Contains($"deployment '{Deployment}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("HTTP 400", ex.Message, StringComparison.Ordinal);
        Assert.Contains("InvalidRequest: This model's maximum context length is 8192 tokens.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GenerateAsync_WrongDimensionsReturned_Throws()
    {
        var h = Create(dimensions: 4);
        h.Handler.Then(r => FakeAzureOpenAIHandler.Embeddings(r, dimensionsOverride: 3));

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => h.Generator.GenerateAsync(["mug"]));

        Assert.Contains("returned 3 dimensions; 4 were requested", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GenerateAsync_DimensionsOption_OverridesConfiguredDimensions()
    {
        var h = Create(dimensions: 4);

        GeneratedEmbeddings<Embedding<float>> result = await h.Generator.GenerateAsync(
            ["mug"], new Microsoft.Extensions.AI.EmbeddingGenerationOptions { Dimensions = 6 });

        Assert.Equal(6, Assert.Single(h.Handler.Requests).Json.GetProperty("dimensions").GetInt32());
        AssertVector("mug", 6, Assert.Single(result));
    }

    [Fact]
    public async Task GenerateAsync_NoInputs_ReturnsEmptyWithoutRequest()
    {
        var h = Create();

        GeneratedEmbeddings<Embedding<float>> result = await h.Generator.GenerateAsync([]);

        Assert.Empty(result);
        Assert.Empty(h.Handler.Requests);
    }

    [Fact]
    public async Task GenerateAsync_EmptyText_ThrowsNamingInputWithoutRequest()
    {
        var h = Create();

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => h.Generator.GenerateAsync(["mug", ""]));

        Assert.Contains("Input 1", ex.Message, StringComparison.Ordinal);
        Assert.Empty(h.Handler.Requests);
    }

    [Fact]
    public void GetService_Metadata_ReportsProviderDeploymentAndDimensions()
    {
        var h = Create(dimensions: 1024);

        EmbeddingGeneratorMetadata? metadata = h.Generator.GetService<EmbeddingGeneratorMetadata>();

        Assert.NotNull(metadata);
        Assert.Equal("azure-openai", metadata.ProviderName);
        Assert.Equal(Deployment, metadata.DefaultModelId);
        Assert.Equal(1024, metadata.DefaultModelDimensions);
        Assert.Equal(Endpoint, metadata.ProviderUri);
        Assert.NotNull(h.Generator.GetService<EmbeddingClient>());
    }
}
