using ProductSimilarity.Core.Indexing;

namespace ProductSimilarity.Core.Similarity;

/// <summary>The product id is not in the index.</summary>
public sealed class ProductNotFoundException(string id) : Exception($"Product '{id}' was not found in the index.")
{
    /// <summary>The id that was asked for.</summary>
    public string Id { get; } = id;
}

/// <summary>A request for items similar to one product.</summary>
public sealed record SimilarRequest
{
    /// <summary>The product id.</summary>
    public required string Id { get; init; }

    /// <summary>Number of results.</summary>
    public int Top { get; init; } = 10;

    /// <summary>Filters.</summary>
    public ProductFilter Filter { get; init; } = new();

    /// <summary>Ranking override; null uses the configured default.</summary>
    public RankingMode? Mode { get; init; }

    /// <summary>Fusion settings for this request; null uses the configured ones.</summary>
    public FusionOptions? Fusion { get; init; }

    /// <summary>Whether each hit carries a <see cref="ResultExplanation"/>.</summary>
    public bool Explain { get; init; }
}

/// <summary>A free-text search request.</summary>
public sealed record SearchRequest
{
    /// <summary>The search text.</summary>
    public required string Text { get; init; }

    /// <summary>Number of results.</summary>
    public int Top { get; init; } = 10;

    /// <summary>Filters.</summary>
    public ProductFilter Filter { get; init; } = new();

    /// <summary>Ranking override; null uses the configured default.</summary>
    public RankingMode? Mode { get; init; }

    /// <summary>Whether each hit carries a <see cref="ResultExplanation"/>.</summary>
    public bool Explain { get; init; }
}

/// <summary>A user interaction used for recommendations. Used for one request only; never stored or logged.</summary>
/// <param name="Id">Product id.</param>
/// <param name="Event">view, cart or purchase.</param>
/// <param name="At">When it happened; null counts as now.</param>
public sealed record HistoryEvent(string Id, InteractionKind Event, DateTimeOffset? At);

/// <summary>Kinds of interaction, weakest first.</summary>
public enum InteractionKind
{
    /// <summary>Viewed the product page.</summary>
    View,

    /// <summary>Added to the cart.</summary>
    Cart,

    /// <summary>Bought it.</summary>
    Purchase,
}

/// <summary>A recommendation request.</summary>
public sealed record RecommendationRequest
{
    /// <summary>The user's history (at most <c>ProductSimilarity:Limits:MaxHistory</c> events, default <see cref="MaxHistory"/>).</summary>
    public required IReadOnlyList<HistoryEvent> History { get; init; }

    /// <summary>Ids never to recommend.</summary>
    public IReadOnlyList<string> Exclude { get; init; } = [];

    /// <summary>Number of results.</summary>
    public int Top { get; init; } = 10;

    /// <summary>Filters.</summary>
    public ProductFilter Filter { get; init; } = new();

    /// <summary>Whether purchased products are excluded (default true).</summary>
    public bool ExcludePurchased { get; init; } = true;

    /// <summary>Whether each hit carries a <see cref="ResultExplanation"/>.</summary>
    public bool Explain { get; init; }

    /// <summary>Largest accepted history by default (<c>ProductSimilarity:Limits:MaxHistory</c> sets it).</summary>
    public const int MaxHistory = Configuration.LimitsOptions.DefaultMaxHistory;
}

/// <summary>The result of a similar-items or recommendation query.</summary>
/// <param name="Query">The product asked about, when there is one.</param>
/// <param name="Hits">Ranked results with score parts.</param>
/// <param name="RankingNote">Why the ranking departed from the configured fusion for this query, for the explanation
/// (for example: the embedding model cannot read most of the product's text, so keyword matching leads); null when it did
/// not.</param>
public sealed record SimilarityResult(IndexedProduct? Query, IReadOnlyList<SearchHit> Hits, string? RankingNote = null);
