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
/// <param name="Event">view, cart, purchase or not interested.</param>
/// <param name="At">When it happened; null counts as now (events without a time are equally recent).</param>
/// <param name="Category">The product's category as the shop knows it, optional: the categories cold-start fallback uses
/// it for products the index does not hold (yet).</param>
public sealed record HistoryEvent(string Id, InteractionKind Event, DateTimeOffset? At, string? Category = null);

/// <summary>Kinds of interaction, weakest first.</summary>
public enum InteractionKind
{
    /// <summary>Viewed the product page.</summary>
    View,

    /// <summary>Added to the cart.</summary>
    Cart,

    /// <summary>Bought it.</summary>
    Purchase,

    /// <summary>Said "not interested": a negative signal that pushes the product and its near neighbours down.</summary>
    NotInterested,
}

/// <summary>A recommendation request.</summary>
public sealed record RecommendationRequest
{
    /// <summary>The user's history (at most <see cref="MaxHistory"/> events).</summary>
    public required IReadOnlyList<HistoryEvent> History { get; init; }

    /// <summary>Ids never to recommend.</summary>
    public IReadOnlyList<string> Exclude { get; init; } = [];

    /// <summary>Number of results.</summary>
    public int Top { get; init; } = 10;

    /// <summary>Filters.</summary>
    public ProductFilter Filter { get; init; } = new();

    /// <summary>
    /// Whether purchased products, their variants (<c>group_id</c>) and other ids with their GTIN are excluded (default
    /// true); false asks for replenishment.
    /// </summary>
    public bool ExcludePurchased { get; init; } = true;

    /// <summary>How the history becomes candidates; null uses <see cref="Configuration.RecommendationOptions.Strategy"/>.</summary>
    public RecommendationStrategy? Strategy { get; init; }

    /// <summary>Whether each hit carries a <see cref="ResultExplanation"/>.</summary>
    public bool Explain { get; init; }

    /// <summary>Largest accepted history.</summary>
    public const int MaxHistory = 200;
}

/// <summary>The result of a similar-items or recommendation query.</summary>
/// <param name="Query">The product asked about, when there is one.</param>
/// <param name="Hits">Ranked results with score parts.</param>
/// <param name="RankingNote">Why the ranking departed from the configured fusion for this query, for the explanation
/// (for example: the embedding model cannot read most of the product's text, so keyword matching leads); null when it did
/// not.</param>
public sealed record SimilarityResult(IndexedProduct? Query, IReadOnlyList<SearchHit> Hits, string? RankingNote = null)
{
    /// <summary>
    /// Recommendations only: the cold-start fallback that supplied results (<c>categories</c> or <c>popular</c>), or
    /// <c>none</c> when the history gave no signal and no fallback found anything; null when the history alone filled the
    /// list.
    /// </summary>
    public string? Fallback { get; init; }
}

/// <summary>How a recommendation turns the history into candidates.</summary>
public enum RecommendationStrategy
{
    /// <summary>
    /// One retrieval per interest (a history item, or a cluster of near-identical ones), merged by event weight x time
    /// decay x cosine similarity, so a shopper with a knife and headphones gets both kinds.
    /// </summary>
    MultiInterest,

    /// <summary>One retrieval around the weighted centroid of the whole history (the midpoint of all interests).</summary>
    Centroid,
}

/// <summary>A cold-start fallback, tried in the configured order when the history gives no (or too few) results.</summary>
public enum ColdStartFallback
{
    /// <summary>Products from the categories of the history items the index knows, most popular first when the catalog has a popularity column.</summary>
    Categories,

    /// <summary>The most popular products (the catalog's <c>popularity</c> column).</summary>
    Popular,
}
