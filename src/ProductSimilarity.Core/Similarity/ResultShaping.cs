using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Indexing;

namespace ProductSimilarity.Core.Similarity;

/// <summary>
/// A request's choices for filling and diversifying its list; each null value takes the configured default
/// (<see cref="ResultOptions"/>, <c>ProductSimilarity:Results</c>).
/// </summary>
/// <remarks>Immutable; thread-safe.</remarks>
public sealed record ResultShaping
{
    /// <summary>Everything from configuration.</summary>
    public static ResultShaping Default { get; } = new();

    /// <summary>Whether a short filtered list is filled by relaxing filters (HTTP <c>fallback</c>, CLI <c>--no-fallback</c>).</summary>
    public bool? Fallback { get; init; }

    /// <summary>The MMR trade-off, 0..1 (HTTP <c>mmr</c>, CLI <c>--mmr</c>); null takes the configured one (off by default).</summary>
    public double? MmrLambda { get; init; }

    /// <summary>Whether near-duplicates are left out (HTTP <c>dedupe</c>, CLI <c>--dedupe</c>).</summary>
    public bool? SuppressNearDuplicates { get; init; }
}

/// <summary>
/// A ranked query with the filter fallback (<see cref="FilterFallback"/>) and diversity (<see cref="ResultDiversity"/>)
/// around it: the one pipeline of similar items and text search, for every host.
/// </summary>
/// <remarks>Stateless; thread-safe. A recommender or an export can run its own queries through it as well.</remarks>
public static class ShapedSearch
{
    /// <summary>
    /// Runs <paramref name="search"/> (a ranked, variant-collapsed query) once when neither the fallback nor diversity has
    /// anything to do, which leaves the list exactly as the ranking made it. Otherwise fills the list with
    /// <see cref="FilterFallback.FillAsync"/>, each step asking for the missing places (or, with diversity, a pool of at
    /// least <see cref="ResultOptions.DiversityCandidates"/> and three times as many candidates, with their vectors) and
    /// choosing among them with <see cref="ResultDiversity.Select"/>.
    /// </summary>
    /// <param name="query">The query, with the request's filter and top.</param>
    /// <param name="shaping">The request's choices.</param>
    /// <param name="options">The configured defaults.</param>
    /// <param name="search">The ranked search: returns at most <see cref="ProductQuery.Top"/> hits, best first.</param>
    /// <param name="cancellationToken">Cancels the queries.</param>
    /// <returns>At most <see cref="ProductQuery.Top"/> hits.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The MMR lambda is outside 0..1.</exception>
    public static async Task<IReadOnlyList<SearchHit>> RunAsync(
        ProductQuery query,
        ResultShaping shaping,
        ResultOptions options,
        Func<ProductQuery, CancellationToken, Task<IReadOnlyList<SearchHit>>> search,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(shaping);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(search);
        var lambda = shaping.MmrLambda ?? options.MmrLambda;
        if (lambda is { } l && (double.IsNaN(l) || l is < 0 or > 1))
        {
            throw new ArgumentOutOfRangeException(nameof(shaping), lambda, "The MMR lambda must be between 0 and 1.");
        }

        double? threshold = (shaping.SuppressNearDuplicates ?? options.SuppressNearDuplicates) ? options.NearDuplicateThreshold : null;
        bool diverse = lambda is not null || threshold is not null;
        IReadOnlyList<RelaxableFilter> order = (shaping.Fallback ?? options.Fallback) ? options.ParsedRelaxOrder() : [];
        if (!diverse && !order.Any(step => FilterFallback.Sets(query.Filter, step)))
        {
            return await search(query, cancellationToken).ConfigureAwait(false);
        }

        return await FilterFallback.FillAsync(query.Filter, query.Top, order, async (filter, kept, need, token) =>
        {
            var step = query with
            {
                Filter = filter,
                Top = diverse ? Math.Max(need * 3, options.DiversityCandidates) : need,
                IncludeVectors = query.IncludeVectors || diverse,
            };
            if (kept.Count > 0)
            {
                var ids = new HashSet<string>(query.ExcludeIds, StringComparer.Ordinal);
                var groups = new HashSet<string>(query.ExcludeGroupIds, StringComparer.Ordinal);
                foreach (var hit in kept)
                {
                    ids.Add(hit.Product.Id);
                    if (hit.Product.Product.GroupId is { Length: > 0 } group)
                    {
                        groups.Add(group);
                    }
                }

                step = step with { ExcludeIds = ids, ExcludeGroupIds = groups };
            }

            var candidates = await search(step, token).ConfigureAwait(false);
            return diverse ? ResultDiversity.Select(candidates, need, lambda, threshold, kept) : candidates;
        }, cancellationToken).ConfigureAwait(false);
    }
}
