using System.Numerics.Tensors;
using System.Security.Cryptography;
using Microsoft.Extensions.AI;
using ProductSimilarity.Core.Ingestion;
using ProductSimilarity.Embeddings.Training;

namespace ProductSimilarity.Embeddings.Adapters;

/// <summary>
/// Applies a trained linear adapter (<c>psim train --adapter</c>) to every vector of an inner generator:
/// <c>y = normalise(W·x + b)</c>. It adapts embeddings that cannot be fine-tuned (Azure OpenAI, an operator's model)
/// to the shop's own notion of "the same product".
/// </summary>
/// <remarks>
/// <para>
/// The model id it reports is the inner id followed by <c>+</c> and the adapter id, so content hashes, the index
/// record and status documents all change when the adapter does, and <see cref="GetService"/> answers
/// <see cref="EmbeddingAdapterMetadata"/>.
/// </para>
/// <para>Thread-safe: the weights are read-only after <see cref="Load"/>.</para>
/// </remarks>
public sealed class LinearAdapterEmbeddingGenerator : DelegatingEmbeddingGenerator<string, Embedding<float>>
{
    private readonly float[] _weight;
    private readonly float[] _bias;
    private readonly int _dimensions;
    private readonly EmbeddingGeneratorMetadata _metadata;
    private readonly EmbeddingAdapterMetadata _adapter;

    private LinearAdapterEmbeddingGenerator(IEmbeddingGenerator<string, Embedding<float>> inner, float[] weight, float[] bias, string adapterId)
        : base(inner)
    {
        _weight = weight;
        _bias = bias;
        _dimensions = bias.Length;
        var innerMetadata = inner.GetService<EmbeddingGeneratorMetadata>();
        var baseId = innerMetadata?.DefaultModelId ?? inner.GetType().Name;
        _adapter = new EmbeddingAdapterMetadata(adapterId, baseId);
        _metadata = new EmbeddingGeneratorMetadata(innerMetadata?.ProviderName, innerMetadata?.ProviderUri, $"{baseId}+{adapterId}", _dimensions);
    }

    /// <summary>The adapter's id: its file name and the first 12 hex digits of its SHA-256.</summary>
    public string AdapterId => _adapter.AdapterId;

    /// <summary>Reads an adapter file (safetensors with <c>weight</c> [d, d] and <c>bias</c> [d]) and wraps <paramref name="inner"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist; the message names it and the setting.</exception>
    /// <exception cref="InvalidDataException">The file is not an adapter; the message says why.</exception>
    public static LinearAdapterEmbeddingGenerator Load(IEmbeddingGenerator<string, Embedding<float>> inner, string path)
    {
        ArgumentNullException.ThrowIfNull(inner);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"The embedding adapter '{full}' (ProductSimilarity:Embeddings:AdapterPath) does not exist.", full);
        }

        var tensors = SafeTensors.Read(full);
        if (!tensors.TryGetValue("weight", out var weight) || !tensors.TryGetValue("bias", out var bias)
            || weight.Shape.Length != 2 || bias.Shape.Length != 1 || weight.Shape[0] != bias.Shape[0])
        {
            throw new InvalidDataException($"'{full}' is not a psim adapter: it needs a 'weight' [out, in] and a 'bias' [out] tensor.");
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(full)))[..12];
        return new LinearAdapterEmbeddingGenerator(inner, weight.Values, bias.Values, $"{Path.GetFileNameWithoutExtension(full)}-{hash}");
    }

    /// <summary>Maps one vector (as the inner model produced it) through the adapter and L2-normalises the result.</summary>
    /// <exception cref="InvalidOperationException">The vector does not have the adapter's input length.</exception>
    public float[] Apply(ReadOnlySpan<float> vector)
    {
        int inputs = _weight.Length / _dimensions;
        if (vector.Length != inputs)
        {
            throw new InvalidOperationException(
                $"The adapter {AdapterId} maps {inputs}-dimensional vectors, but model {_adapter.BaseModelId} returned {vector.Length}; it was trained for another model.");
        }

        var result = new float[_dimensions];
        for (int o = 0; o < _dimensions; o++)
        {
            result[o] = TensorPrimitives.Dot(_weight.AsSpan(o * inputs, inputs), vector) + _bias[o];
        }

        var norm = TensorPrimitives.Norm(result);
        if (norm > 0)
        {
            TensorPrimitives.Divide(result, norm, result);
        }

        return result;
    }

    /// <inheritdoc/>
    public override async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var inner = await base.GenerateAsync(values, options, cancellationToken).ConfigureAwait(false);
        var adapted = new GeneratedEmbeddings<Embedding<float>>(inner.Count) { Usage = inner.Usage, AdditionalProperties = inner.AdditionalProperties };
        foreach (var embedding in inner)
        {
            adapted.Add(new Embedding<float>(Apply(embedding.Vector.Span))
            {
                CreatedAt = embedding.CreatedAt,
                ModelId = _metadata.DefaultModelId,
                AdditionalProperties = embedding.AdditionalProperties,
            });
        }

        return adapted;
    }

    /// <inheritdoc/>
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is null && serviceType == typeof(EmbeddingGeneratorMetadata))
        {
            return _metadata;
        }

        if (serviceKey is null && serviceType == typeof(EmbeddingAdapterMetadata))
        {
            return _adapter;
        }

        return base.GetService(serviceType, serviceKey);
    }
}
