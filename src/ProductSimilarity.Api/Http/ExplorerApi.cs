using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Exploration;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Similarity;

namespace ProductSimilarity.Api.Http;

/// <summary>Response of <c>GET /api/products/{id}/explain?ids=</c>.</summary>
/// <param name="Query">The product the others are compared with.</param>
/// <param name="Items">One explanation per requested id that is in the index, in request order.</param>
/// <param name="Missing">Requested ids that are not in the index.</param>
public sealed record ExplainResponse(ProductView Query, IReadOnlyList<MatchExplanation> Items, IReadOnlyList<string> Missing);

/// <summary>Response of <c>GET /api/map</c>.</summary>
/// <param name="Points">One point per product.</param>
/// <param name="ExplainedVariance">Share of the variance on each axis.</param>
/// <param name="Total">Products in the index.</param>
/// <param name="Truncated">True when the index holds more products than were projected.</param>
public sealed record MapResponse(IReadOnlyList<CatalogMapPoint> Points, IReadOnlyList<double> ExplainedVariance, long Total, bool Truncated);

/// <summary>
/// The routes that help people look at a catalog and its rankings: the catalog map (PCA of the product vectors) and
/// pairwise explanations (shared terms, matching attributes, embedding cosine). Used by the demo page.
/// </summary>
/// <remarks>Stateless; thread-safe; register as a singleton.</remarks>
public sealed partial class ExplorerApi(IProductIndex index, IOptions<ProductSimilarityOptions> options, ILogger<ExplorerApi> logger)
{
    /// <summary><c>GET /api/products/{id}/explain?ids=A,B</c>: what each of the listed products has in common with product <c>id</c>.</summary>
    public async Task<IResult> ExplainAsync(HttpRequest request, string? id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new ValidationErrors(options.Value.Limits);
        RequestParsing.ValidateId(id, "id", errors);
        var ids = new List<string>();
        var raw = request.Query["ids"];
        if (raw.Count > 1)
        {
            errors.Add("ids", "ids must be given once, as a comma-separated list.");
        }
        else if (string.IsNullOrWhiteSpace(raw.ToString()))
        {
            errors.Add("ids", "ids is required: a comma-separated list of product ids.");
        }
        else
        {
            foreach (var part in raw.ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (part.Length > errors.Limits.MaxIdLength)
                {
                    errors.Add("ids", $"A product id has at most {errors.Limits.MaxIdLength} characters.");
                    break;
                }

                if (!ids.Contains(part, StringComparer.Ordinal))
                {
                    ids.Add(part);
                }
            }

            if (ids.Count > ApiLimits.MaxExplainIds)
            {
                errors.Add("ids", $"ids lists at most {ApiLimits.MaxExplainIds} products.");
            }
        }

        if (errors.HasErrors)
        {
            LogRejected(logger, "explain", errors.Count);
            return errors.ToResult();
        }

        var query = await index.GetAsync(id!, cancellationToken).ConfigureAwait(false);
        if (query is null)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status404NotFound,
                title: "Product not found.",
                detail: $"No product with id '{id}' is in the index.");
        }

        var items = new List<MatchExplanation>(ids.Count);
        var missing = new List<string>();
        foreach (var other in ids)
        {
            if (await index.GetAsync(other, cancellationToken).ConfigureAwait(false) is { } product)
            {
                items.Add(MatchExplainer.Explain(query, product));
            }
            else
            {
                missing.Add(other);
            }
        }

        return TypedResults.Ok(new ExplainResponse(ProductView.From(query), items, missing));
    }

    /// <summary>
    /// <c>GET /api/map?limit=</c>: the product vectors projected to 2-D by PCA, at most <c>limit</c> products
    /// (default <see cref="ApiLimits.DefaultMapProducts"/>, at most <see cref="ApiLimits.MaxMapProducts"/>).
    /// </summary>
    public async Task<IResult> MapAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new ValidationErrors(options.Value.Limits);
        var limit = ApiLimits.DefaultMapProducts;
        var raw = request.Query["limit"];
        if (raw.Count > 1)
        {
            errors.Add("limit", "limit must be given once.");
        }
        else if (raw.Count == 1
            && (!int.TryParse(raw.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > ApiLimits.MaxMapProducts))
        {
            errors.Add("limit", $"limit must be a whole number from 1 to {ApiLimits.MaxMapProducts}.");
        }

        if (errors.HasErrors)
        {
            LogRejected(logger, "map", errors.Count);
            return errors.ToResult();
        }

        var products = new List<IndexedProduct>(Math.Min(limit, 1024));
        var seen = 0;
        await foreach (var id in index.GetAllIdsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (++seen > limit)
            {
                break;
            }

            if (await index.GetAsync(id, cancellationToken).ConfigureAwait(false) is { Vector.Length: > 0 } product
                && (products.Count == 0 || product.Vector.Length == products[0].Vector.Length))
            {
                products.Add(product);
            }
        }

        var total = seen > limit ? await index.CountAsync(cancellationToken).ConfigureAwait(false) : products.Count;
        var map = CatalogMapProjector.Project(products);
        LogMapped(logger, map.Points.Count);
        return TypedResults.Ok(new MapResponse(map.Points, map.ExplainedVariance, total, seen > limit));
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Debug, Message = "Rejected a {Route} request: {ErrorCount} invalid fields")]
    private static partial void LogRejected(ILogger logger, string route, int errorCount);

    [LoggerMessage(EventId = 21, Level = LogLevel.Debug, Message = "Catalog map of {PointCount} products")]
    private static partial void LogMapped(ILogger logger, int pointCount);
}
