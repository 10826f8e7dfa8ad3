using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Configuration;

namespace ProductSimilarity.Api.Http;

/// <summary>
/// Input limits of the HTTP API. A request outside them gets a 400 ProblemDetails naming the field. The configurable ones
/// (<c>ProductSimilarity:Limits</c>, <see cref="LimitsOptions"/>) are checked against the configured value; the constants
/// here are their defaults, as the OpenAPI document states them.
/// </summary>
public static class ApiLimits
{
    /// <summary>Smallest accepted <c>top</c>.</summary>
    public const int MinTop = 1;

    /// <summary>Largest accepted <c>top</c>.</summary>
    public const int MaxTop = LimitsOptions.DefaultMaxTop;

    /// <summary>The <c>top</c> used when the request does not say.</summary>
    public const int DefaultTop = 10;

    /// <summary>Longest accepted product id (the catalog limit).</summary>
    public const int MaxIdLength = CatalogLimits.MaxIdLength;

    /// <summary>Longest accepted search text, in characters.</summary>
    public const int MaxQueryLength = LimitsOptions.DefaultMaxQueryLength;

    /// <summary>Longest accepted category or brand filter, in characters.</summary>
    public const int MaxFilterLength = LimitsOptions.DefaultMaxFilterLength;

    /// <summary>Most attribute filters (<c>attr.NAME=value</c>) in one request.</summary>
    public const int MaxAttributeFilters = 10;

    /// <summary>Most history events in one recommendation request.</summary>
    public const int MaxHistory = LimitsOptions.DefaultMaxHistory;

    /// <summary>Most ids in one recommendation request's <c>exclude</c> list.</summary>
    public const int MaxExclude = 1_000;

    /// <summary>Largest accepted request body, in bytes.</summary>
    public const int MaxBodyBytes = LimitsOptions.DefaultMaxRequestBodyBytes;

    /// <summary>Most ids compared in one <c>/api/products/{id}/explain</c> request.</summary>
    public const int MaxExplainIds = 100;

    /// <summary>The number of products <c>/api/map</c> projects when the request does not say.</summary>
    public const int DefaultMapProducts = 2_000;

    /// <summary>Most products <c>/api/map</c> projects; larger catalogs are cut at this many (in the index's id order) and flagged <c>truncated</c>.</summary>
    public const int MaxMapProducts = 5_000;
}
