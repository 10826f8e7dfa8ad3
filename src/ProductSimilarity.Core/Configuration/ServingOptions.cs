using System.ComponentModel.DataAnnotations;

namespace ProductSimilarity.Core.Configuration;

/// <summary>
/// <c>ProductSimilarity:Serving</c>: how queries are served (<c>psim serve</c>, the Functions app): the query-embedding
/// cache and the slow-query log.
/// </summary>
/// <remarks>Bound once at start; read-only afterwards, so thread-safe.</remarks>
public sealed class ServingOptions
{
    /// <summary>Default <see cref="QueryEmbeddingCacheSize"/>.</summary>
    public const int DefaultQueryEmbeddingCacheSize = 1024;

    /// <summary>Default <see cref="SlowQueryMilliseconds"/>.</summary>
    public const int DefaultSlowQueryMilliseconds = 1000;

    /// <summary>
    /// Search texts whose query embedding is kept (least recently used first out), keyed by the embedding model id and
    /// the text; 0 turns the cache off. Each entry holds one vector (1.5 KB for 384 dimensions).
    /// </summary>
    [Range(0, 1_000_000)]
    public int QueryEmbeddingCacheSize { get; set; } = DefaultQueryEmbeddingCacheSize;

    /// <summary>
    /// A query that takes longer than this is logged (Information) with the time it spent in each stage (embedding,
    /// index refresh, vector and keyword lists...); 0 turns the log off. Every query's stages are also recorded in the
    /// <c>psim.query.stage.duration</c> histogram.
    /// </summary>
    [Range(0, 3_600_000)]
    public int SlowQueryMilliseconds { get; set; } = DefaultSlowQueryMilliseconds;
}
