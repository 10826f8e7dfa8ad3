#pragma warning disable CS9113 // TEMP: implementation in progress
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Indexing;

namespace ProductSimilarity.Core.Similarity;

/// <summary>Similar items, text search and recommendations over an <see cref="IProductIndex"/>. Shared by every host.</summary>
/// <remarks>Thread-safe.</remarks>
public sealed class SimilarityService(
    IProductIndex index,
    IEmbeddingGenerator<string, Embedding<float>> generator,
    IOptions<ProductSimilarityOptions> options,
    TimeProvider timeProvider)
{
    /// <summary>Items most like one product, excluding itself and its variants.</summary>
    /// <exception cref="ProductNotFoundException">The id is not in the index.</exception>
    public Task<SimilarityResult> SimilarAsync(SimilarRequest request, CancellationToken cancellationToken = default)
        => throw new NotImplementedException();

    /// <summary>Products matching free text.</summary>
    public Task<SimilarityResult> SearchAsync(string text, int top, ProductFilter? filter = null, RankingMode? mode = null, CancellationToken cancellationToken = default)
        => throw new NotImplementedException();

    /// <summary>What a user should see next, given their history. The history is not stored or logged.</summary>
    public Task<SimilarityResult> RecommendAsync(RecommendationRequest request, CancellationToken cancellationToken = default)
        => throw new NotImplementedException();
}
