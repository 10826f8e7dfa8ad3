using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using ProductSimilarity.Api.Http;

namespace ProductSimilarity.Functions;

/// <summary>The HTTP API in the cloud. Each function is one call into <see cref="ProductApi"/>, which <c>psim serve</c> maps too.</summary>
/// <remarks>Every route needs a function key (<c>x-functions-key</c>) except <c>/api/health</c>, which probes call anonymously.</remarks>
public sealed class HttpFunctions(ProductApi api)
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
}
