using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Diagnostics;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Similarity;

namespace ProductSimilarity.Api.Http;

/// <summary>
/// The HTTP API, written once: the Azure Functions call these handlers and <c>psim serve</c> maps them with
/// <see cref="ProductApiEndpointRouteBuilderExtensions.MapProductApi"/>. Each handler validates its input against
/// <see cref="ApiLimits"/>, makes one call into the Core and returns a typed result (JSON, camelCase) or a ProblemDetails.
/// </summary>
/// <remarks>
/// Stateless; thread-safe; register as a singleton. Recommendation histories are never logged: the only thing logged
/// about them is their length.
/// </remarks>
public sealed partial class ProductApi(
    SimilarityService similarity,
    IProductIndex index,
    IEmbeddingGenerator<string, Embedding<float>> generator,
    IOptions<ProductSimilarityOptions> options,
    ILogger<ProductApi> logger)
{
    /// <summary><c>GET /api/products/{id}/similar?top=&amp;category=&amp;brand=&amp;minPrice=&amp;maxPrice=&amp;inStock=&amp;source=&amp;attr.NAME=&amp;mode=&amp;explain=&amp;fallback=&amp;mmr=&amp;dedupe=</c>.</summary>
    public async Task<IResult> SimilarAsync(HttpRequest request, string? id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new ValidationErrors(options.Value.Limits);
        RequestParsing.ValidateId(id, "id", errors);
        var top = RequestParsing.ParseTop(request.Query, errors);
        var filter = RequestParsing.ParseFilter(request.Query, errors);
        var mode = RequestParsing.ParseMode(request.Query, errors);
        var explain = RequestParsing.ParseExplain(request.Query, errors);
        var shaping = RequestParsing.ParseShaping(request.Query, errors);
        if (errors.HasErrors)
        {
            LogRejected(logger, "similar", errors.Count);
            return errors.ToResult();
        }

        try
        {
            using var telemetry = ProductSimilarityTelemetry.StartQuery("similar");
            var result = await similarity.SimilarAsync(
                new SimilarRequest { Id = id!, Top = top, Filter = filter, Mode = mode, Explain = explain, Shaping = shaping }, cancellationToken).ConfigureAwait(false);
            telemetry.Complete(result.Hits.Count, Relaxed(result));
            LogIfSlow(telemetry, "similar");
            LogSimilar(logger, id!, result.Hits.Count);
            return TypedResults.Ok(ResultsResponse.From(result));
        }
        catch (ProductNotFoundException)
        {
            return ProductNotFound(id!);
        }
    }

    /// <summary><c>POST /api/recommendations</c> with a <see cref="RecommendationBody"/>.</summary>
    public async Task<IResult> RecommendAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (body, error) = await RequestParsing.ReadJsonBodyAsync<RecommendationBody>(request, options.Value.Limits.MaxRequestBodyBytes, cancellationToken).ConfigureAwait(false);
        if (error is not null)
        {
            LogRejected(logger, "recommendations", 1);
            return error;
        }

        var errors = new ValidationErrors(options.Value.Limits);
        var recommendation = RequestParsing.ToRecommendationRequest(body!, errors);
        if (errors.HasErrors)
        {
            LogRejected(logger, "recommendations", errors.Count);
            return errors.ToResult();
        }

        using var telemetry = ProductSimilarityTelemetry.StartQuery("recommendations");
        var result = await similarity.RecommendAsync(recommendation, cancellationToken).ConfigureAwait(false);
        telemetry.Complete(result.Hits.Count);
        LogIfSlow(telemetry, "recommendations");
        LogRecommended(logger, recommendation.History.Count, result.Hits.Count);
        return TypedResults.Ok(ResultsResponse.From(result));
    }

    /// <summary><c>GET /api/search?q=&amp;top=</c> plus the filters of the similar-items route.</summary>
    public async Task<IResult> SearchAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new ValidationErrors(options.Value.Limits);
        var text = RequestParsing.ParseSearchText(request.Query, errors);
        var top = RequestParsing.ParseTop(request.Query, errors);
        var filter = RequestParsing.ParseFilter(request.Query, errors);
        var mode = RequestParsing.ParseMode(request.Query, errors);
        var explain = RequestParsing.ParseExplain(request.Query, errors);
        var shaping = RequestParsing.ParseShaping(request.Query, errors);
        if (errors.HasErrors)
        {
            LogRejected(logger, "search", errors.Count);
            return errors.ToResult();
        }

        using var telemetry = ProductSimilarityTelemetry.StartQuery("search");
        var result = await similarity.SearchAsync(new SearchRequest { Text = text, Top = top, Filter = filter, Mode = mode, Explain = explain, Shaping = shaping }, cancellationToken).ConfigureAwait(false);
        telemetry.Complete(result.Hits.Count, Relaxed(result));
        LogIfSlow(telemetry, "search");
        LogSearchText(logger, text);
        LogSearched(logger, result.Hits.Count);
        return TypedResults.Ok(ResultsResponse.From(result));
    }

    /// <summary><c>GET /api/products/{id}</c>: the stored product, or 404.</summary>
    public async Task<IResult> GetProductAsync(string? id, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors(options.Value.Limits);
        RequestParsing.ValidateId(id, "id", errors);
        if (errors.HasErrors)
        {
            LogRejected(logger, "product", errors.Count);
            return errors.ToResult();
        }

        var product = await index.GetAsync(id!, cancellationToken).ConfigureAwait(false);
        if (product is null)
        {
            return ProductNotFound(id!);
        }

        return TypedResults.Ok(new ProductResponse(ProductView.From(product, withDescription: true), product.Product.Attributes, product.ContentHash));
    }

    /// <summary><c>DELETE /api/products/{id}</c>: removes the product and commits; 204, or 404 when it is not there.</summary>
    public async Task<IResult> DeleteProductAsync(string? id, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors(options.Value.Limits);
        RequestParsing.ValidateId(id, "id", errors);
        if (errors.HasErrors)
        {
            LogRejected(logger, "delete", errors.Count);
            return errors.ToResult();
        }

        // Some stores cannot say how many documents a delete removed, so existence is checked first.
        if (await index.GetAsync(id!, cancellationToken).ConfigureAwait(false) is null)
        {
            return ProductNotFound(id!);
        }

        try
        {
            await index.DeleteAsync([id!], cancellationToken).ConfigureAwait(false);
            await index.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ProductIndexException)
        {
            // The embedded index takes one writer at a time: an ingestion run in another process holds it.
            return TypedResults.Problem(
                title: "The index is busy",
                detail: "The index is being written by another process (an ingestion run); retry when it has finished.",
                statusCode: StatusCodes.Status409Conflict);
        }

        LogDeleted(logger, id!);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// <c>GET /api/health</c> (anonymous, so it says what failed but not the store's error text): 200 when the index answers and the embedding model is loaded (and both agree on the
    /// vector dimensions); 503 with what failed otherwise.
    /// </summary>
    public async Task<IResult> HealthAsync(CancellationToken cancellationToken)
    {
        var metadata = generator.GetService<EmbeddingGeneratorMetadata>();
        var model = metadata?.DefaultModelId;
        var dimensions = metadata?.DefaultModelDimensions;
        long documents;
        int? indexDimensions;
        try
        {
            documents = await index.CountAsync(cancellationToken).ConfigureAwait(false);
            indexDimensions = await index.GetDimensionsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogUnhealthy(logger, "index unreachable", ex);
            return Unhealthy(new HealthResponse(HealthResponse.Unhealthy, null, model, dimensions, null, $"The index did not answer ({ex.GetType().Name}); see the logs.")
            {
                Quantization = Quantization(),
                LastIngestion = ProductSimilarityTelemetry.LastIngestion,
            });
        }

        string? problem = null;
        if (model is null || dimensions is null)
        {
            problem = "The embedding model is not loaded (the generator reports no model id or dimensions).";
        }
        else if (indexDimensions is { } stored && stored != dimensions)
        {
            problem = $"The index holds {stored}-dimensional vectors but the model produces {dimensions}; re-ingest the catalog.";
        }

        if (problem is not null)
        {
            LogUnhealthy(logger, problem, null);
            return Unhealthy(new HealthResponse(HealthResponse.Unhealthy, documents, model, dimensions, indexDimensions, problem)
            {
                Quantization = Quantization(),
                LastIngestion = ProductSimilarityTelemetry.LastIngestion,
            });
        }

        return TypedResults.Ok(new HealthResponse(HealthResponse.Healthy, documents, model, dimensions, indexDimensions, null)
        {
            Quantization = Quantization(),
            LastIngestion = ProductSimilarityTelemetry.LastIngestion,
        });
    }

    // Whether the filter fallback filled the list (the query counts as a fallback in telemetry).
    private static bool Relaxed(SimilarityResult result) => result.Hits.Any(h => h.RelaxedFilters.Count > 0);

    // The local ONNX model's weight quantisation; a cloud embedding service has none to report.
    private string? Quantization() => options.Value.Embeddings.Provider == EmbeddingProvider.Onnx
        ? options.Value.Embeddings.Onnx.Quantization.ToString()
        : null;

    // The slow-query log (ProductSimilarity:Serving:SlowQueryMilliseconds): where the time of one slow query went.
    private void LogIfSlow(ProductSimilarityTelemetry.Query query, string route)
    {
        var threshold = options.Value.Serving.SlowQueryMilliseconds;
        var elapsed = query.Elapsed;
        if (threshold > 0 && elapsed.TotalMilliseconds >= threshold)
        {
            LogSlowQuery(logger, route, elapsed.TotalMilliseconds, query.Stages.ToString());
        }
    }

    private static IResult Unhealthy(HealthResponse response) =>
        TypedResults.Json(response, statusCode: StatusCodes.Status503ServiceUnavailable);

    private static IResult ProductNotFound(string id) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Product not found.",
        detail: $"No product with id '{id}' is in the index.");

    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "Similar items for product {ProductId}: {HitCount} results")]
    private static partial void LogSimilar(ILogger logger, [RequestIdentifier] string productId, int hitCount);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "Recommendations from a history of {HistoryCount} events: {HitCount} results")]
    private static partial void LogRecommended(ILogger logger, int historyCount, int hitCount);

    [LoggerMessage(EventId = 3, Level = LogLevel.Trace, Message = "Search text {SearchText}")]
    private static partial void LogSearchText(ILogger logger, [FreeText] string searchText);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "Search: {HitCount} results")]
    private static partial void LogSearched(ILogger logger, int hitCount);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Product {ProductId} deleted from the index")]
    private static partial void LogDeleted(ILogger logger, [RequestIdentifier] string productId);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "Health check failed: {Problem}")]
    private static partial void LogUnhealthy(ILogger logger, string problem, Exception? exception);

    [LoggerMessage(EventId = 7, Level = LogLevel.Debug, Message = "Rejected a {Route} request: {ErrorCount} invalid fields")]
    private static partial void LogRejected(ILogger logger, string route, int errorCount);

    [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "Slow {Route} query: {ElapsedMs:0.0} ms ({Stages})")]
    private static partial void LogSlowQuery(ILogger logger, string route, double elapsedMs, string stages);
}
