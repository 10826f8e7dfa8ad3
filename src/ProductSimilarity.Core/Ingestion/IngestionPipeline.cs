#pragma warning disable CS9113 // TEMP: implementation in progress
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Core.Ingestion;

/// <summary>
/// Reads a catalog, normalises it, skips unchanged products by content hash, embeds the rest in batches and
/// upserts them, committing at checkpoints so an interrupted run can simply be run again.
/// Shared by <c>psim ingest</c> and the blob-triggered function.
/// </summary>
/// <remarks>Thread-safe for concurrent runs against different indexes; one run at a time per index.</remarks>
public sealed class IngestionPipeline(
    IProductIndex index,
    IEmbeddingGenerator<string, Embedding<float>> generator,
    IOptions<ProductSimilarityOptions> options,
    ILogger<IngestionPipeline> logger)
{
    /// <summary>Ingests one catalog stream.</summary>
    public Task<IngestionSummary> IngestAsync(
        Stream catalog,
        string fileName,
        IRowErrorSink errors,
        IProgress<IngestionProgress>? progress = null,
        IngestionMode? mode = null,
        CancellationToken cancellationToken = default) => throw new NotImplementedException();
}
