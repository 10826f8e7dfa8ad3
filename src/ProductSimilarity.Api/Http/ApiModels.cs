using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using ProductSimilarity.Core.Similarity;

namespace ProductSimilarity.Api.Http;

/// <summary>Body of <c>POST /api/recommendations</c>.</summary>
/// <remarks>The history is used for this request only: it is never stored or logged.</remarks>
public sealed record RecommendationBody
{
    /// <summary>
    /// What the user looked at, carted, bought or was not interested in (0..<see cref="ApiLimits.MaxHistory"/> events); an
    /// empty or missing history gets the cold-start fallback.
    /// </summary>
    /// <remarks>The limit attributes here describe the body in the OpenAPI document; <see cref="RequestParsing"/> enforces the same <see cref="ApiLimits"/>.</remarks>
    [MaxLength(ApiLimits.MaxHistory)]
    public IReadOnlyList<HistoryItemBody?>? History { get; init; }

    /// <summary>Ids never to recommend (at most <see cref="ApiLimits.MaxExclude"/>).</summary>
    [MaxLength(ApiLimits.MaxExclude)]
    public IReadOnlyList<string?>? Exclude { get; init; }

    /// <summary>Number of results (1..100, default 10).</summary>
    [Range(ApiLimits.MinTop, ApiLimits.MaxTop)]
    public int? Top { get; init; }

    /// <summary>Structured filters.</summary>
    public FilterBody? Filters { get; init; }

    /// <summary>Whether purchased products are excluded (default true); the opposite of <see cref="Replenish"/>.</summary>
    public bool? ExcludePurchased { get; init; }

    /// <summary>Whether purchased products and their variants may be recommended again (default false).</summary>
    public bool? Replenish { get; init; }

    /// <summary><c>multiInterest</c> (default: the configured strategy) or <c>centroid</c>.</summary>
    public string? Strategy { get; init; }

    /// <summary>Whether each item carries an <c>explanation</c> (default false).</summary>
    public bool? Explain { get; init; }
}

/// <summary>One history event in a <see cref="RecommendationBody"/>.</summary>
public sealed record HistoryItemBody
{
    /// <summary>The product id.</summary>
    public string? Id { get; init; }

    /// <summary><c>view</c>, <c>cart</c>, <c>purchase</c> or <c>not_interested</c> (default <c>view</c>).</summary>
    public string? Event { get; init; }

    /// <summary>When it happened (ISO 8601); missing counts as now, so events without a time are equally recent.</summary>
    public DateTimeOffset? At { get; init; }

    /// <summary>The product's category, optional: the categories cold-start fallback uses it for ids the index does not hold.</summary>
    [MaxLength(ApiLimits.MaxFilterLength)]
    public string? Category { get; init; }
}

/// <summary>Filters in a JSON body; the same conditions as the query-string filters.</summary>
public sealed record FilterBody
{
    /// <summary>Exact category (case-insensitive).</summary>
    public string? Category { get; init; }

    /// <summary>Exact brand (case-insensitive).</summary>
    public string? Brand { get; init; }

    /// <summary>Inclusive lower price bound.</summary>
    public decimal? MinPrice { get; init; }

    /// <summary>Inclusive upper price bound.</summary>
    public decimal? MaxPrice { get; init; }

    /// <summary>Only products with this stock flag.</summary>
    public bool? InStock { get; init; }

    /// <summary>Only products from this source (exact).</summary>
    public string? Source { get; init; }

    /// <summary>Catalog columns the product must have with these values (case-insensitive), at most <see cref="ApiLimits.MaxAttributeFilters"/>.</summary>
    public IReadOnlyDictionary<string, string?>? Attributes { get; init; }
}

/// <summary>Response of the similar-items, search and recommendation routes.</summary>
/// <param name="Query">The product asked about (similar items only).</param>
/// <param name="Items">Ranked results, best first, each with its score parts.</param>
public sealed record ResultsResponse(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ProductView? Query,
    IReadOnlyList<HitView> Items)
{
    /// <summary>
    /// Recommendations only: the cold-start fallback that supplied items (<c>categories</c>, <c>popular</c>, both
    /// comma-separated), or <c>none</c> when the history gave no signal and no fallback found anything; absent otherwise.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Fallback { get; init; }

    /// <summary>Maps a service result.</summary>
    public static ResultsResponse From(SimilarityResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new(result.Query is null ? null : ProductView.From(result.Query), [.. result.Hits.Select(HitView.From)]) { Fallback = result.Fallback };
    }
}

/// <summary>Response of <c>GET /api/products/{id}</c>: the stored product, without its vector.</summary>
/// <param name="Product">The product fields, with the description.</param>
/// <param name="Attributes">Every other catalog column, verbatim.</param>
/// <param name="ContentHash">Hash of what the embedding was computed from.</param>
public sealed record ProductResponse(ProductView Product, IReadOnlyDictionary<string, string> Attributes, string ContentHash);

/// <summary>Response of <c>GET /api/health</c>.</summary>
/// <param name="Status"><c>healthy</c> or <c>unhealthy</c>.</param>
/// <param name="Documents">Products in the index, when it answered.</param>
/// <param name="Model">The embedding model id, when known.</param>
/// <param name="Dimensions">The model's vector dimensions, when known.</param>
/// <param name="IndexDimensions">The dimensions the index stores, when it holds vectors.</param>
/// <param name="Error">What failed, when unhealthy.</param>
public sealed record HealthResponse(
    string Status,
    long? Documents,
    string? Model,
    int? Dimensions,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? IndexDimensions,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error)
{
    /// <summary>The weight quantisation of the local ONNX model (<c>None</c> or <c>Int8</c>); absent for a cloud embedding service.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Quantization { get; init; }

    /// <summary>The last ingestion run of this process (file, status, when, rows, rejected), when there was one.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ProductSimilarity.Core.Diagnostics.IngestionRunRecord? LastIngestion { get; init; }

    /// <summary>The status value of a healthy service.</summary>
    public const string Healthy = "healthy";

    /// <summary>The status value of an unhealthy service.</summary>
    public const string Unhealthy = "unhealthy";
}
