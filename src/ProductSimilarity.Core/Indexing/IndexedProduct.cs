using ProductSimilarity.Core.Catalog;

namespace ProductSimilarity.Core.Indexing;

/// <summary>A product as stored in an index: the normalised product, its content hash and its embedding.</summary>
/// <remarks>Immutable; thread-safe. <see cref="Vector"/> is L2-normalised at write time, so cosine is a dot product.</remarks>
public sealed record IndexedProduct
{
    /// <summary>The product (text fields already normalised for embedding).</summary>
    public required Product Product { get; init; }

    /// <summary>Hash of everything that influences the embedding (text fields and the embedding model id).</summary>
    public required string ContentHash { get; init; }

    /// <summary>The L2-normalised embedding.</summary>
    public required ReadOnlyMemory<float> Vector { get; init; }

    /// <summary>
    /// The share (0..1) of the embedding model's tokens for this product's embedded text
    /// (<see cref="Text.ProductText.ForEmbedding"/>) that are its unknown token, recorded at ingest with the model that
    /// made <see cref="Vector"/> (<see cref="Text.ITokenCoverage"/>); null when none was recorded (a product written before
    /// it was, or a model that cannot say). The per-candidate lean of hybrid ranking reads it instead of tokenising the text
    /// again.
    /// </summary>
    public double? UnknownTokenShare { get; init; }

    /// <summary>The id of the product (same as <c>Product.Id</c>).</summary>
    public string Id => Product.Id;
}
