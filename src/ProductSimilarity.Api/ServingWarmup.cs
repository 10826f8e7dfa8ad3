using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ProductSimilarity.Core.Embeddings;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Similarity;
using ProductSimilarity.Search.Local;

namespace ProductSimilarity.Api;

/// <summary>
/// Readies a server before it takes requests: opens the index and loads what queries need (segment vectors, the HNSW
/// graph), loads the embedding model with one query embedding, and runs a few similar-items, search and recommendation
/// queries (<see cref="WarmUpRounds"/>, for at most <see cref="WarmUpQueryBudget"/>), so that the first requests pay
/// neither the loading nor the just-in-time compilation of the query path.
/// </summary>
/// <remarks>
/// A hosted service; ASP.NET Core starts hosted services before the server listens. A failure is logged, not thrown: the
/// server still starts and <c>/api/health</c> reports the problem. Thread-safe (runs once).
/// </remarks>
public sealed partial class ServingWarmup(
    IServiceProvider services,
    ILogger<ServingWarmup> logger) : IHostedService
{
    /// <summary>
    /// Rounds of warm-up queries (one similar-items query, one search and one recommendation each): enough for the .NET
    /// runtime to recompile the hot methods of the query path with full optimisation (tiered compilation does that after
    /// 30 calls) before the first request.
    /// </summary>
    public const int WarmUpRounds = 40;

    /// <summary>The most time the warm-up queries take; on a large or slow index fewer rounds run.</summary>
    public static readonly TimeSpan WarmUpQueryBudget = TimeSpan.FromSeconds(3);

    // A text no shopper types, so the warm-up leaves no useful entry in the query cache behind.
    private const string WarmUpText = "psim warm-up";

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
                _ = await generator.GenerateAsync([WarmUpText], EmbeddingInput.QueryOptions, cancellationToken).ConfigureAwait(false);
            }

            int queries = services.GetService(typeof(SimilarityService)) is SimilarityService similarity && services.GetService(typeof(IProductIndex)) is IProductIndex index
                ? await RunQueriesAsync(similarity, index, cancellationToken).ConfigureAwait(false)
                : 0;
            SettleHeap();
            LogWarmedUp(logger, Stopwatch.GetElapsedTime(started).TotalMilliseconds, queries);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogWarmUpFailed(logger, ex);
        }
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// One full, compacting garbage collection once the warm-up has loaded what queries need: the hundreds of megabytes
    /// of vectors, postings and graph it allocated move to the oldest generation now, before any request. Otherwise the
    /// first collections under traffic copy them, pausing requests for tens of milliseconds (34 ms for a gen0 collection
    /// after warming a 100,000-product index, measured with <c>psim bench</c>).
    /// </summary>
    public static void SettleHeap()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    /// <summary>
    /// Runs up to <see cref="WarmUpRounds"/> rounds of queries about a few of the index's products, straight through the
    /// service (so they count in no request metric or log), within <see cref="WarmUpQueryBudget"/>.
    /// </summary>
    /// <returns>How many queries ran (0 for an empty index).</returns>
    internal static async Task<int> RunQueriesAsync(SimilarityService similarity, IProductIndex index, CancellationToken cancellationToken)
    {
        var ids = new List<string>(4);
        await foreach (var id in index.GetAllIdsAsync(cancellationToken).ConfigureAwait(false))
        {
            ids.Add(id);
            if (ids.Count == 4)
            {
                break;
            }
        }

        if (ids.Count == 0)
        {
            return 0;
        }

        var history = ids.Select((id, i) => new HistoryEvent(id, i % 2 == 0 ? InteractionKind.View : InteractionKind.Cart, null)).ToList();
        var started = Stopwatch.GetTimestamp();
        int queries = 0;
        for (int round = 0; round < WarmUpRounds && Stopwatch.GetElapsedTime(started) < WarmUpQueryBudget; round++)
        {
            _ = await similarity.SimilarAsync(new SimilarRequest { Id = ids[round % ids.Count] }, cancellationToken).ConfigureAwait(false);
            // The query text is embedded once (a cloud embedding service is not called forty times).
            _ = await similarity.SearchAsync(new SearchRequest { Text = WarmUpText, Mode = round == 0 ? null : RankingMode.Keyword }, cancellationToken).ConfigureAwait(false);
            _ = await similarity.RecommendAsync(new RecommendationRequest { History = history, Top = 10 }, cancellationToken).ConfigureAwait(false);
            queries += 3;
        }

        return queries;
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Warmed up in {ElapsedMs:0} ms: index readers, vectors, graph and embedding model loaded, {Queries} warm-up queries run")]
    private static partial void LogWarmedUp(ILogger logger, double elapsedMs, int queries);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "Warm-up failed; the first requests will load what they need")]
    private static partial void LogWarmUpFailed(ILogger logger, Exception exception);
}
