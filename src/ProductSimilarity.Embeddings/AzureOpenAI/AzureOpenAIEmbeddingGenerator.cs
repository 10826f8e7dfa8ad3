using System.ClientModel;
using System.Globalization;
using System.Numerics.Tensors;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI.Embeddings;
using GenerationOptions = Microsoft.Extensions.AI.EmbeddingGenerationOptions;
using RequestOptions = OpenAI.Embeddings.EmbeddingGenerationOptions;

namespace ProductSimilarity.Embeddings.AzureOpenAI;

/// <summary>
/// An <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> over an Azure OpenAI <see cref="EmbeddingClient"/>:
/// it splits the inputs into requests the service accepts, keeps their order, and L2-normalises every vector.
/// </summary>
/// <remarks>
/// <para>
/// Written over <see cref="EmbeddingClient"/> rather than Microsoft.Extensions.AI.OpenAI's <c>AsIEmbeddingGenerator</c>:
/// that one sends every input in one request (no batching) and needs OpenAI 2.14, newer than the 2.1.0 that
/// Azure.AI.OpenAI 2.1.0 is built against.
/// </para>
/// <para>
/// Batches are sent one after another, which keeps a large catalog from bursting through the deployment's
/// tokens-per-minute quota; throttling is left to the client pipeline's retry policy (<see cref="AzureOpenAIRetryPolicy"/>).
/// </para>
/// <para>Thread-safe: it keeps no per-call state, and <see cref="EmbeddingClient"/> is thread-safe.</para>
/// </remarks>
internal sealed class AzureOpenAIEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>The most inputs the service accepts in one request.</summary>
    internal const int ServiceMaxInputsPerRequest = 2048;

    /// <summary>
    /// The most UTF-16 characters sent in one request. The service caps the tokens summed over a request's inputs
    /// (300,000 for the text-embedding-3 models). English runs about 4 characters a token, Chinese about 1 to 1.5
    /// tokens a character; 100,000 characters stays under the cap even at 2 tokens a character, and a catalog's short
    /// product texts fill a 256-input batch long before it.
    /// </summary>
    internal const int DefaultMaxCharactersPerRequest = 100_000;

    private readonly EmbeddingClient _client;
    private readonly string _deployment;
    private readonly int _dimensions;
    private readonly int _batchSize;
    private readonly int _maxCharactersPerRequest;
    private readonly EmbeddingGeneratorMetadata _metadata;

    /// <summary>Creates the generator.</summary>
    /// <param name="client">The embedding client, already bound to the deployment.</param>
    /// <param name="endpoint">The resource endpoint, reported in the metadata.</param>
    /// <param name="deployment">The deployment name.</param>
    /// <param name="dimensions">Requested output dimensions.</param>
    /// <param name="batchSize">Most inputs per request (capped at 2,048).</param>
    /// <param name="maxCharactersPerRequest">Most characters per request; an input longer than this goes alone.</param>
    internal AzureOpenAIEmbeddingGenerator(
        EmbeddingClient client,
        Uri endpoint,
        string deployment,
        int dimensions,
        int batchSize,
        int maxCharactersPerRequest = DefaultMaxCharactersPerRequest)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(deployment);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCharactersPerRequest, 1);
        _client = client;
        _deployment = deployment;
        _dimensions = dimensions;
        _batchSize = Math.Min(batchSize, ServiceMaxInputsPerRequest);
        _maxCharactersPerRequest = maxCharactersPerRequest;
        _metadata = new EmbeddingGeneratorMetadata(
            AzureOpenAIEmbeddingGeneratorFactory.ProviderName, endpoint, deployment, dimensions);
    }

    /// <inheritdoc/>
    /// <remarks><see cref="GenerationOptions.Dimensions"/> overrides the configured dimensions for one call;
    /// <see cref="GenerationOptions.ModelId"/> is ignored because the deployment fixes the model.</remarks>
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values,
        GenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        string[] inputs = [.. values];
        for (int i = 0; i < inputs.Length; i++)
        {
            // The service answers 400 for an empty input and fails the whole request; say which one up front.
            if (string.IsNullOrEmpty(inputs[i]))
            {
                throw new ArgumentException(
                    $"Input {i} is null or empty; Azure OpenAI cannot embed an empty text.", nameof(values));
            }
        }

        int dimensions = options?.Dimensions ?? _dimensions;
        var result = new GeneratedEmbeddings<Embedding<float>>(inputs.Length);
        long inputTokens = 0, totalTokens = 0;

        foreach (ArraySegment<string> batch in Batch(inputs))
        {
            OpenAIEmbeddingCollection response = await SendAsync(batch, dimensions, cancellationToken).ConfigureAwait(false);
            AppendInOrder(response, batch.Count, dimensions, result);
            if (response.Usage is { } usage)
            {
                inputTokens += usage.InputTokenCount;
                totalTokens += usage.TotalTokenCount;
            }
        }

        if (inputs.Length > 0)
        {
            result.Usage = new UsageDetails { InputTokenCount = inputTokens, TotalTokenCount = totalTokens };
        }

        return result;
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(EmbeddingGeneratorMetadata))
        {
            return _metadata;
        }

        if (serviceType.IsInstanceOfType(_client))
        {
            return _client;
        }

        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <inheritdoc/>
    /// <remarks>Nothing to release: the client owns no unmanaged resources and may be shared.</remarks>
    public void Dispose()
    {
    }

    /// <summary>Splits the inputs into consecutive runs within the count and character limits.</summary>
    internal IEnumerable<ArraySegment<string>> Batch(string[] inputs)
    {
        int start = 0;
        while (start < inputs.Length)
        {
            int end = start;
            long characters = 0;
            while (end < inputs.Length
                && end - start < _batchSize
                && (end == start || characters + inputs[end].Length <= _maxCharactersPerRequest))
            {
                characters += inputs[end].Length;
                end++;
            }

            yield return new ArraySegment<string>(inputs, start, end - start);
            start = end;
        }
    }

    private async Task<OpenAIEmbeddingCollection> SendAsync(
        ArraySegment<string> batch,
        int dimensions,
        CancellationToken cancellationToken)
    {
        // A fresh options object per request: the SDK writes the input and model into the one it is given.
        var requestOptions = new RequestOptions { Dimensions = dimensions };
        try
        {
            ClientResult<OpenAIEmbeddingCollection> response = await _client
                .GenerateEmbeddingsAsync(batch, requestOptions, cancellationToken)
                .ConfigureAwait(false);
            return response.Value;
        }
        catch (ClientResultException ex)
        {
            // Same type and status, so callers can still branch on Status; the message says what was asked of whom.
            throw new ClientResultException(
                $"Azure OpenAI embeddings request to deployment '{_deployment}' ({batch.Count} inputs) failed with HTTP {ex.Status}: "
                + (ServiceErrorMessage(ex) ?? ex.Message),
                ex.GetRawResponse(),
                ex);
        }
    }

    private void AppendInOrder(OpenAIEmbeddingCollection response, int expected, int dimensions, GeneratedEmbeddings<Embedding<float>> result)
    {
        if (response.Count != expected)
        {
            throw new InvalidOperationException(
                $"Azure OpenAI deployment '{_deployment}' returned {response.Count} embeddings for {expected} inputs.");
        }

        // The service's "index" field, not the array position, says which input a vector belongs to.
        var ordered = new OpenAIEmbedding?[expected];
        foreach (OpenAIEmbedding embedding in response)
        {
            if ((uint)embedding.Index >= (uint)expected || ordered[embedding.Index] is not null)
            {
                throw new InvalidOperationException(
                    $"Azure OpenAI deployment '{_deployment}' returned an unexpected or repeated embedding index {embedding.Index}.");
            }

            ordered[embedding.Index] = embedding;
        }

        string modelId = response.Model is { Length: > 0 } model ? model : _deployment;
        foreach (OpenAIEmbedding? embedding in ordered)
        {
            ReadOnlySpan<float> source = embedding!.ToFloats().Span;
            if (source.Length != dimensions)
            {
                throw new InvalidOperationException(
                    $"Azure OpenAI deployment '{_deployment}' returned {source.Length} dimensions; {dimensions} were requested. "
                    + "Check that the deployment's model supports the configured Dimensions.");
            }

            float[] vector = source.ToArray();
            Normalize(vector);
            result.Add(new Embedding<float>(vector) { ModelId = modelId });
        }
    }

    /// <summary>Scales the vector to unit length, leaving an all-zero vector as it is.</summary>
    internal static void Normalize(Span<float> vector)
    {
        float norm = TensorPrimitives.Norm(vector);
        if (norm > 0 && float.IsFinite(norm))
        {
            TensorPrimitives.Divide(vector, norm, vector);
        }
    }

    private static string? ServiceErrorMessage(ClientResultException ex)
    {
        try
        {
            BinaryData? content = ex.GetRawResponse()?.Content;
            if (content is null || content.ToMemory().IsEmpty)
            {
                return null;
            }

            using JsonDocument document = JsonDocument.Parse(content);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out JsonElement error)
                && error.ValueKind == JsonValueKind.Object)
            {
                string? code = error.TryGetProperty("code", out JsonElement c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                string? message = error.TryGetProperty("message", out JsonElement m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
                // Throttling answers carry the status again as the code; only a distinct code adds anything.
                return code is null || code == ex.Status.ToString(CultureInfo.InvariantCulture) ? message : $"{code}: {message}";
            }
        }
        catch (JsonException)
        {
            // Not the documented error shape; the SDK's own message (status and raw content) is used instead.
        }
        catch (InvalidOperationException)
        {
            // The response content was not buffered; same fallback.
        }

        return null;
    }
}
