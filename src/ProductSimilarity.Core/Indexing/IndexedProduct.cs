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

    /// <summary>The id of the product (same as <c>Product.Id</c>).</summary>
    public string Id => Product.Id;
}
