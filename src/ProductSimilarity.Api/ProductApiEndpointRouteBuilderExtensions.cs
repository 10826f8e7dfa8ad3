using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ProductSimilarity.Api.Http;

namespace ProductSimilarity.Api;

/// <summary>Maps the HTTP API onto an ASP.NET Core app (<c>psim serve</c>), with the same routes as the Functions app.</summary>
public static class ProductApiEndpointRouteBuilderExtensions
{
    /// <summary>The route prefix shared with the Functions host's default <c>api</c> prefix.</summary>
    public const string RoutePrefix = "/api";

    /// <summary>
    /// Maps <c>/api/products/{id}/similar</c>, <c>/api/recommendations</c>, <c>/api/search</c>, <c>/api/products/{id}</c>
    /// (GET and DELETE), <c>/api/health</c>, <c>/api/products/{id}/explain</c> and <c>/api/map</c> onto <see cref="ProductApi"/>.
    /// Needs the services of <c>AddProductSimilarity</c> and <see cref="ProductApiServiceCollectionExtensions.AddProductApi"/>
    /// (the handlers, one singleton, as in the Functions app).
    /// </summary>
    /// <returns>The route group, for adding conventions (authorization, rate limits).</returns>
    public static RouteGroupBuilder MapProductApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var api = endpoints.MapGroup(RoutePrefix);
        // Each route carries its OpenAPI description (parameters and limits from ApiLimits, responses, error shapes):
        // /openapi.json is generated from these definitions.
        api.MapGet("/products/{id}/similar", (HttpRequest request, string id, CancellationToken ct) =>
            Handlers(request).SimilarAsync(request, id, ct))
            .WithName("SimilarProducts").WithTags("Similarity")
            .WithSummary("Items most like one product (never the product itself or its variants), with their score parts.")
            .WithQueryParameters([ApiOpenApi.Top, .. ApiOpenApi.Filters, ApiOpenApi.Mode, .. ApiOpenApi.Shaping])
            .Produces<ResultsResponse>().WithValidationErrors().WithProductNotFound();
        api.MapPost("/recommendations", (HttpRequest request, CancellationToken ct) =>
            Handlers(request).RecommendAsync(request, ct))
            .WithName("Recommendations").WithTags("Similarity")
            .WithSummary("What a user should see next, from their history (used for this request only, never stored).")
            .WithDescription($"The body is JSON of at most {ApiLimits.MaxBodyBytes} bytes: 1 to {ApiLimits.MaxHistory} history events, at most {ApiLimits.MaxExclude} excluded ids.")
            .Accepts<RecommendationBody>("application/json")
            .Produces<ResultsResponse>().WithValidationErrors().ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        api.MapGet("/search", (HttpRequest request, CancellationToken ct) =>
            Handlers(request).SearchAsync(request, ct))
            .WithName("Search").WithTags("Similarity")
            .WithSummary("Products matching free text (meaning and keywords).")
            .WithQueryParameters([ApiOpenApi.SearchText, ApiOpenApi.Top, .. ApiOpenApi.Filters, ApiOpenApi.Mode, .. ApiOpenApi.Shaping])
            .Produces<ResultsResponse>().WithValidationErrors();
        api.MapGet("/products/{id}", (HttpRequest request, string id, CancellationToken ct) =>
            Handlers(request).GetProductAsync(id, ct))
            .WithName("GetProduct").WithTags("Products")
            .WithSummary("One stored product, without its vector.")
            .WithQueryParameters()
            .Produces<ProductResponse>().WithValidationErrors().WithProductNotFound();
        api.MapDelete("/products/{id}", (HttpRequest request, string id, CancellationToken ct) =>
            Handlers(request).DeleteProductAsync(id, ct))
            .WithName("DeleteProduct").WithTags("Products")
            .WithSummary("Removes one product from the index and commits.")
            .WithQueryParameters()
            .Produces(StatusCodes.Status204NoContent).WithValidationErrors().WithProductNotFound();
        api.MapGet("/health", (HttpRequest request, CancellationToken ct) => Handlers(request).HealthAsync(ct))
            .WithName("Health").WithTags("Operations")
            .WithSummary("Readiness: the index answers and the embedding model is loaded (anonymous on Functions).")
            .Produces<HealthResponse>().Produces<HealthResponse>(StatusCodes.Status503ServiceUnavailable);
        api.MapGet("/products/{id}/explain", (HttpRequest request, string id, CancellationToken ct) =>
            Explorer(request).ExplainAsync(request, id, ct))
            .WithName("ExplainProducts").WithTags("Exploration")
            .WithSummary("What each listed product has in common with one product: shared terms, matching attributes, embedding cosine.")
            .WithQueryParameters(ApiOpenApi.ExplainIds)
            .Produces<ExplainResponse>().WithValidationErrors().WithProductNotFound();
        api.MapGet("/map", (HttpRequest request, CancellationToken ct) => Explorer(request).MapAsync(request, ct))
            .WithName("CatalogMap").WithTags("Exploration")
            .WithSummary("The product vectors projected to 2-D by PCA, for drawing the catalog.")
            .WithQueryParameters(ApiOpenApi.MapLimit)
            .Produces<MapResponse>().WithValidationErrors();
        return api;
    }

    private static ProductApi Handlers(HttpRequest request) => request.HttpContext.RequestServices.GetRequiredService<ProductApi>();

    private static ExplorerApi Explorer(HttpRequest request) =>
        request.HttpContext.RequestServices.GetService<ExplorerApi>()
        ?? ActivatorUtilities.CreateInstance<ExplorerApi>(request.HttpContext.RequestServices);
}
