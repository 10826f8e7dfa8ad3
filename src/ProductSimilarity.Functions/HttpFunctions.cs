using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using ProductSimilarity.Api;
using ProductSimilarity.Api.Http;

namespace ProductSimilarity.Functions;

/// <summary>The HTTP API in the cloud. Each function is one call into <see cref="ProductApi"/>, which <c>psim serve</c> maps too.</summary>
/// <remarks>Every route needs a function key (<c>x-functions-key</c>) except <c>/api/health</c>, which probes call anonymously.</remarks>
public sealed class HttpFunctions(ProductApi api, ExplorerApi explorer)
{
    /// <summary>Items similar to one product.</summary>
    [Function(nameof(SimilarProducts))]
    public Task<IResult> SimilarProducts(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "products/{id}/similar")] HttpRequest request,
        string id,
        CancellationToken cancellationToken) => api.SimilarAsync(request, id, cancellationToken);

    /// <summary>Recommendations for a user history (used for this request only).</summary>
    [Function(nameof(Recommendations))]
    public Task<IResult> Recommendations(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "recommendations")] HttpRequest request,
        CancellationToken cancellationToken) => api.RecommendAsync(request, cancellationToken);

    /// <summary>Free-text search.</summary>
    [Function(nameof(Search))]
    public Task<IResult> Search(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "search")] HttpRequest request,
        CancellationToken cancellationToken) => api.SearchAsync(request, cancellationToken);

    /// <summary>One stored product.</summary>
    [Function(nameof(GetProduct))]
    public Task<IResult> GetProduct(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "products/{id}")] HttpRequest request,
        string id,
        CancellationToken cancellationToken) => api.GetProductAsync(id, cancellationToken);

    /// <summary>Removes one product from the index.</summary>
    [Function(nameof(DeleteProduct))]
    public Task<IResult> DeleteProduct(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = "products/{id}")] HttpRequest request,
        string id,
        CancellationToken cancellationToken) => api.DeleteProductAsync(id, cancellationToken);

    /// <summary>Liveness and readiness: index reachable, model loaded.</summary>
    [Function(nameof(Health))]
    public Task<IResult> Health(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request,
        CancellationToken cancellationToken) => api.HealthAsync(cancellationToken);

    /// <summary>What listed products have in common with one product (shared terms, matching attributes, cosine).</summary>
    [Function(nameof(ExplainProducts))]
    public Task<IResult> ExplainProducts(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "products/{id}/explain")] HttpRequest request,
        string id,
        CancellationToken cancellationToken) => explorer.ExplainAsync(request, id, cancellationToken);

    /// <summary>The catalog map: product vectors projected to 2-D.</summary>
    [Function(nameof(CatalogMap))]
    public Task<IResult> CatalogMap(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "map")] HttpRequest request,
        CancellationToken cancellationToken) => explorer.MapAsync(request, cancellationToken);

    /// <summary>The OpenAPI 3.1 document of these routes, generated from the same endpoint definitions as <c>psim serve</c>'s.</summary>
    /// <remarks>Anonymous: it describes the routes and holds no catalog data. Generated once per process.</remarks>
    [Function(nameof(OpenApiDocument))]
    public async Task<IResult> OpenApiDocument(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "openapi.json")] HttpRequest request,
        CancellationToken cancellationToken) =>
        TypedResults.Text(await OpenApiJson.Value.WaitAsync(cancellationToken).ConfigureAwait(false), "application/json; charset=utf-8");

    private static readonly Lazy<Task<string>> OpenApiJson = new(() => ProductApiOpenApiExtensions.GenerateProductApiOpenApiJsonAsync());
}
