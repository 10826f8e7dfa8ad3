using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Indexing;

namespace ProductSimilarity.Core.Similarity;

/// <summary>A filter condition the fallback can relax, as one step.</summary>
public enum RelaxableFilter
{
    /// <summary>Every attribute condition (<c>attr.color=black</c>) at once.</summary>
    Attributes,

    /// <summary>Both price bounds.</summary>
    Price,

    /// <summary>The brand.</summary>
    Brand,

    /// <summary>The category.</summary>
    Category,

    /// <summary>The source (never <see cref="ProductFilter.ExcludeSource"/>, which only evaluation sets).</summary>
    Source,

    /// <summary>The stock flag: relaxed only when the configured order lists it.</summary>
    InStock,
}

/// <summary>
/// Fills a filtered list that is short of <c>top</c>: when fewer results pass every filter, the filters are relaxed one
/// step at a time in a configured order (default <see cref="DefaultOrder"/>) and the list is filled up with the best
/// results of the looser query. Results that pass every filter always come first; each later one says which filters it
/// does not meet (<see cref="SearchHit.RelaxedFilters"/>).
/// </summary>
/// <remarks>
/// Stateless; thread-safe. Written for every ranked list, not only similar items and search: a recommender calls
/// <see cref="FillAsync"/> with its own query step, and <see cref="ResultDiversity"/> for diversity, so the rules stay
/// in one place.
/// </remarks>
public static class FilterFallback
{
    /// <summary>The default relax order: attributes, then price, brand, category and source; never the stock flag.</summary>
    public static IReadOnlyList<RelaxableFilter> DefaultOrder { get; } =
        [RelaxableFilter.Attributes, RelaxableFilter.Price, RelaxableFilter.Brand, RelaxableFilter.Category, RelaxableFilter.Source];

    /// <summary>The name of a step in <c>ProductSimilarity:Results:RelaxOrder</c>: <c>attributes</c>, <c>price</c>, <c>brand</c>, <c>category</c>, <c>source</c>, <c>inStock</c>.</summary>
    public static string Name(RelaxableFilter filter) => filter switch
    {
        RelaxableFilter.Attributes => "attributes",
        RelaxableFilter.Price => "price",
        RelaxableFilter.Brand => "brand",
        RelaxableFilter.Category => "category",
        RelaxableFilter.Source => "source",
        RelaxableFilter.InStock => "inStock",
        _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, "Unknown filter."),
    };

    /// <summary>Writes an order as its comma-separated names.</summary>
    public static string FormatOrder(IEnumerable<RelaxableFilter> order) => string.Join(',', order.Select(Name));

    /// <summary>Reads a comma-separated order (names as <see cref="Name"/> writes them, any case, spaces allowed; empty: relax nothing).</summary>
    /// <exception cref="FormatException">A name is unknown or given twice; the message lists the valid names.</exception>
    public static IReadOnlyList<RelaxableFilter> ParseOrder(string? text)
    {
        var order = new List<RelaxableFilter>();
        foreach (var part in (text ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var match = Enum.GetValues<RelaxableFilter>().Where(f => string.Equals(Name(f), part, StringComparison.OrdinalIgnoreCase)).ToList();
            if (match.Count == 0)
            {
                throw new FormatException($"'{part}' is not a filter the fallback can relax; use {FormatOrder(Enum.GetValues<RelaxableFilter>())}.");
            }

            if (order.Contains(match[0]))
            {
                throw new FormatException($"'{part}' is listed twice.");
            }

            order.Add(match[0]);
        }

        return order;
    }

    /// <summary>Whether <paramref name="filter"/> sets the condition <paramref name="step"/> relaxes.</summary>
    public static bool Sets(ProductFilter filter, RelaxableFilter step)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return step switch
        {
            RelaxableFilter.Attributes => filter.Attributes.Count > 0,
            RelaxableFilter.Price => filter.MinPrice is not null || filter.MaxPrice is not null,
            RelaxableFilter.Brand => filter.Brand is not null,
            RelaxableFilter.Category => filter.Category is not null,
            RelaxableFilter.Source => filter.Source is not null,
            RelaxableFilter.InStock => filter.InStock is not null,
            _ => false,
        };
    }

    /// <summary><paramref name="filter"/> without the condition <paramref name="step"/> relaxes.</summary>
    public static ProductFilter Without(ProductFilter filter, RelaxableFilter step)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return step switch
        {
            RelaxableFilter.Attributes => filter with { Attributes = new Dictionary<string, string>() },
            RelaxableFilter.Price => filter with { MinPrice = null, MaxPrice = null },
            RelaxableFilter.Brand => filter with { Brand = null },
            RelaxableFilter.Category => filter with { Category = null },
            RelaxableFilter.Source => filter with { Source = null },
            RelaxableFilter.InStock => filter with { InStock = null },
            _ => filter,
        };
    }

    /// <summary>
    /// The conditions of <paramref name="filter"/> that <paramref name="product"/> does not meet, by the rules of
    /// <see cref="ProductFilter.Matches"/>: <c>attr.NAME</c> for each attribute (NAME as the filter spells it), then <c>price</c>, <c>brand</c>,
    /// <c>category</c>, <c>source</c>, <c>inStock</c>.
    /// </summary>
    public static IReadOnlyList<string> Unmet(ProductFilter filter, Product product)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(product);
        var unmet = new List<string>();
        foreach (var (name, value) in filter.Attributes)
        {
            if (!ProductFilter.HasAttribute(product, name, value))
            {
                unmet.Add("attr." + name.Trim());
            }
        }

        if (!new ProductFilter { MinPrice = filter.MinPrice, MaxPrice = filter.MaxPrice }.Matches(product))
        {
            unmet.Add("price");
        }

        if (!new ProductFilter { Brand = filter.Brand }.Matches(product))
        {
            unmet.Add("brand");
        }

        if (!new ProductFilter { Category = filter.Category }.Matches(product))
        {
            unmet.Add("category");
        }

        if (!new ProductFilter { Source = filter.Source }.Matches(product))
        {
            unmet.Add("source");
        }

        if (!new ProductFilter { InStock = filter.InStock }.Matches(product))
        {
            unmet.Add("inStock");
        }

        return unmet;
    }

    /// <summary>
    /// Runs <paramref name="step"/> with <paramref name="filter"/>; while the list is short of <paramref name="top"/>,
    /// relaxes the next condition of <paramref name="order"/> that the filter sets (the relaxed ones stay relaxed) and
    /// runs <paramref name="step"/> again for the missing places. Conditions the filter does not set are skipped, so a
    /// request without filters makes exactly one call.
    /// </summary>
    /// <param name="filter">The request's filter.</param>
    /// <param name="top">How many results are wanted.</param>
    /// <param name="order">The relax order; empty turns the fallback off.</param>
    /// <param name="step">
    /// One query: the filter of this step, the hits kept so far (which it must not return again, nor their variants) and
    /// how many more are wanted; returns at most that many new hits, best first.
    /// </param>
    /// <param name="cancellationToken">Cancels the steps.</param>
    /// <returns>The strict hits, then each step's new hits with <see cref="SearchHit.RelaxedFilters"/> set.</returns>
    public static async Task<IReadOnlyList<SearchHit>> FillAsync(
        ProductFilter filter,
        int top,
        IReadOnlyList<RelaxableFilter> order,
        Func<ProductFilter, IReadOnlyList<SearchHit>, int, CancellationToken, Task<IReadOnlyList<SearchHit>>> step,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(step);
        var kept = new List<SearchHit>(top);
        kept.AddRange(await step(filter, [], top, cancellationToken).ConfigureAwait(false));
        var current = filter;
        foreach (var relax in order)
        {
            if (kept.Count >= top)
            {
                break;
            }

            if (!Sets(current, relax))
            {
                continue;
            }

            current = Without(current, relax);
            var more = await step(current, kept, top - kept.Count, cancellationToken).ConfigureAwait(false);
            foreach (var hit in more.Take(top - kept.Count))
            {
                kept.Add(hit with { RelaxedFilters = Unmet(filter, hit.Product.Product) });
            }
        }

        return kept;
    }
}
