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
    /// (GET and DELETE) and <c>/api/health</c> onto <see cref="ProductApi"/>. Needs the services of <c>AddProductSimilarity</c>
    /// and <see cref="ProductApiServiceCollectionExtensions.AddProductApi"/> (the handlers, one singleton, as in the Functions app).
    /// </summary>
    /// <returns>The route group, for adding conventions (authorization, rate limits).</returns>
    public static RouteGroupBuilder MapProductApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var api = endpoints.MapGroup(RoutePrefix);
        api.MapGet("/products/{id}/similar", (HttpRequest request, string id, CancellationToken ct) =>
            Handlers(request).SimilarAsync(request, id, ct));
        api.MapPost("/recommendations", (HttpRequest request, CancellationToken ct) =>
            Handlers(request).RecommendAsync(request, ct));
        api.MapGet("/search", (HttpRequest request, CancellationToken ct) =>
            Handlers(request).SearchAsync(request, ct));
        api.MapGet("/products/{id}", (HttpRequest request, string id, CancellationToken ct) =>
            Handlers(request).GetProductAsync(id, ct));
        api.MapDelete("/products/{id}", (HttpRequest request, string id, CancellationToken ct) =>
            Handlers(request).DeleteProductAsync(id, ct));
        api.MapGet("/health", (HttpRequest request, CancellationToken ct) => Handlers(request).HealthAsync(ct));
        return api;
    }

    private static ProductApi Handlers(HttpRequest request) => request.HttpContext.RequestServices.GetRequiredService<ProductApi>();
}
