using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ProductSimilarity.Core.Embeddings;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Search.Local;

namespace ProductSimilarity.Api;

/// <summary>
/// Readies a server before it takes requests: opens the index and loads what queries need (segment vectors, the HNSW
/// graph), and loads the embedding model with one query embedding, so the first requests do not pay seconds for it.
/// </summary>
/// <remarks>
/// A hosted service; ASP.NET Core starts hosted services before the server listens. A failure is logged, not thrown: the
/// server still starts and <c>/api/health</c> reports the problem. Thread-safe (runs once).
/// </remarks>
public sealed partial class ServingWarmup(
    IServiceProvider services,
    ILogger<ServingWarmup> logger) : IHostedService
{
    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            if (services.GetService(typeof(IProductIndex)) is LocalProductIndex local)
            {
                await Task.Run(() => local.WarmUp(cancellationToken), cancellationToken).ConfigureAwait(false);
            }

            if (services.GetService(typeof(IEmbeddingGenerator<string, Embedding<float>>)) is IEmbeddingGenerator<string, Embedding<float>> generator)
            {
                // A text no shopper types, so the warm-up leaves no useful entry in the query cache behind.
                _ = await generator.GenerateAsync(["psim warm-up"], EmbeddingInput.QueryOptions, cancellationToken).ConfigureAwait(false);
            }

            LogWarmedUp(logger, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogWarmUpFailed(logger, ex);
        }
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Warmed up in {ElapsedMs:0} ms: index readers, vectors, graph and embedding model loaded")]
    private static partial void LogWarmedUp(ILogger logger, double elapsedMs);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "Warm-up failed; the first requests will load what they need")]
    private static partial void LogWarmUpFailed(ILogger logger, Exception exception);
}
