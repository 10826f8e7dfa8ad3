using Microsoft.Extensions.Options;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Indexing;

namespace ProductSimilarity.Core.Similarity;

/// <summary>
/// The catalog ranked by popularity, for the cold-start fallbacks of <see cref="Recommender"/>: every product of the index,
/// most popular first (the catalog's <c>popularity</c> column, see <see cref="CatalogPopularity"/>), then by id.
/// </summary>
/// <remarks>
/// Thread-safe. The ranking is read from the index (every id, then each product) on first use, and read again when the
/// index's product count changes or after <see cref="RecommendationOptions.PopularityRefreshSeconds"/>. Vectors are not
/// kept. The read costs one lookup per product, so on a large Azure AI Search index the first cold-start request is slow;
/// later ones reuse the ranking.
/// </remarks>
public sealed class PopularProducts(IProductIndex index, IOptions<ProductSimilarityOptions> options, TimeProvider timeProvider)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Ranking? _ranking;

    /// <summary>Every product, most popular first, then by id; products without a popularity come last.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The ranking and whether any product has a popularity.</returns>
    public async Task<(IReadOnlyList<IndexedProduct> Products, bool HasPopularity)> GetAsync(CancellationToken cancellationToken = default)
    {
        var count = await index.CountAsync(cancellationToken).ConfigureAwait(false);
        if (Fresh(_ranking, count) is { } cached)
        {
            return (cached.Products, cached.HasPopularity);
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Fresh(_ranking, count) is { } again)
            {
                return (again.Products, again.HasPopularity);
            }

            var products = new List<(IndexedProduct Product, double? Popularity)>();
            await foreach (var id in index.GetAllIdsAsync(cancellationToken).ConfigureAwait(false))
            {
                if (await index.GetAsync(id, cancellationToken).ConfigureAwait(false) is { } product)
                {
                    products.Add((product with { Vector = ReadOnlyMemory<float>.Empty }, CatalogPopularity.Of(product.Product)));
                }
            }

            products.Sort(static (a, b) =>
            {
                var byPopularity = (b.Popularity ?? double.NegativeInfinity).CompareTo(a.Popularity ?? double.NegativeInfinity);
                return byPopularity != 0 ? byPopularity : string.CompareOrdinal(a.Product.Id, b.Product.Id);
            });
            var ranking = new Ranking(timeProvider.GetUtcNow(), count, [.. products.Select(p => p.Product)], products.Any(p => p.Popularity is not null));
            _ranking = ranking;
            return (ranking.Products, ranking.HasPopularity);
        }
        finally
        {
            _gate.Release();
        }
    }

    private Ranking? Fresh(Ranking? ranking, long count) =>
        ranking is not null && ranking.Count == count
            && timeProvider.GetUtcNow() - ranking.ReadAt < TimeSpan.FromSeconds(options.Value.Recommendations.PopularityRefreshSeconds)
            ? ranking
            : null;

    private sealed record Ranking(DateTimeOffset ReadAt, long Count, IReadOnlyList<IndexedProduct> Products, bool HasPopularity);
}
