using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Embeddings.Onnx;

namespace ProductSimilarity.Functions.Tests.Infrastructure;

/// <summary>The bundled ONNX MiniLM generator, loaded once per test collection (about 1-2 s).</summary>
public sealed class OnnxGeneratorFixture : IDisposable
{
    /// <summary>The shared generator.</summary>
    public OnnxBertEmbeddingGenerator Generator { get; } = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions());

    /// <inheritdoc/>
    public void Dispose() => Generator.Dispose();
}

/// <summary>Tests that embed share one model.</summary>
[CollectionDefinition(Name)]
public sealed class OnnxCollection : ICollectionFixture<OnnxGeneratorFixture>
{
    /// <summary>The collection name.</summary>
    public const string Name = "Onnx";
}
