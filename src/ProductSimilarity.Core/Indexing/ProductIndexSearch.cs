using ProductSimilarity.Core.Ranking;

namespace ProductSimilarity.Core.Indexing;

/// <summary>Ranked search over any <see cref="IProductIndex"/>: the store finds the candidates, the Core ranks them.</summary>
/// <remarks>Stateless; thread-safe as far as the index is.</remarks>
public static class ProductIndexSearch
{
    /// <summary>
    /// Runs a vector, keyword or hybrid query: <see cref="IProductIndex.GetCandidatesAsync"/> on the store, then
    /// <see cref="RankFusion.Rank"/>. So a hybrid score means the same on every store.
    /// </summary>
    /// <param name="index">The index.</param>
    /// <param name="query">The query.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>At most <see cref="ProductQuery.Top"/> hits, best first.</returns>
    /// <exception cref="ArgumentException">The query is not valid (<see cref="ProductQuery.Validate"/>).</exception>
    public static async Task<IReadOnlyList<SearchHit>> SearchAsync(this IProductIndex index, ProductQuery query, CancellationToken cancellationToken = default)
    {
        var ranked = await index.RankAsync(query, cancellationToken).ConfigureAwait(false);
        return ranked.Hits(0, ranked.Count);
    }

    /// <summary>
    /// The same ranking as <see cref="SearchAsync"/>, with each hit's product read only when
    /// <see cref="RankedCandidates.Hits"/> asks for it (<see cref="RankFusion.Order"/>): a caller that keeps fewer hits
    /// than it ranks (group collapsing) reads fewer stored products.
    /// </summary>
    /// <param name="index">The index.</param>
    /// <param name="query">The query.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>At most <see cref="ProductQuery.Top"/> ranked candidates, best first.</returns>
    /// <exception cref="ArgumentException">The query is not valid (<see cref="ProductQuery.Validate"/>).</exception>
    public static async Task<RankedCandidates> RankAsync(this IProductIndex index, ProductQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(query);
        query.Validate();
        if (query.Top == 0 || (!query.UsesVector && !query.UsesKeyword))
        {
            return RankFusion.Order(CandidateLists.Empty, query);
        }

        var candidates = await index.GetCandidatesAsync(query, cancellationToken).ConfigureAwait(false);
        return RankFusion.Order(candidates, query);
    }
}
