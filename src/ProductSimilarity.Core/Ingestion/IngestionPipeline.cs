using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Diagnostics;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Core.Ingestion;

/// <summary>
/// Reads a catalog, normalises it, skips unchanged products by content hash, embeds the rest in batches and
/// upserts them, committing at checkpoints so an interrupted run can simply be run again.
/// Shared by <c>psim ingest</c>, <c>psim eval</c> and the blob-triggered function.
/// </summary>
/// <remarks>
/// Thread-safe for concurrent runs against different indexes; one run at a time per index. Crash safety comes from the
/// index: every <see cref="IngestionOptions.CommitEvery"/> batches the index commits atomically; after a crash the rerun
/// finds the committed products by content hash and embeds only the rest.
/// </remarks>
public sealed partial class IngestionPipeline(
    IProductIndex index,
    IEmbeddingGenerator<string, Embedding<float>> generator,
    IOptions<ProductSimilarityOptions> options,
    ILogger<IngestionPipeline> logger)
{
    private readonly CatalogReader _reader = new();

    /// <summary>The model id recorded in content hashes and status documents.</summary>
    public string ModelId =>
        generator.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelId ?? generator.GetType().Name;

    /// <summary>The trained adapter applied on top of the model (<see cref="EmbeddingAdapterMetadata.AdapterId"/>), or null for none.</summary>
    public string? Adapter => generator.GetService<EmbeddingAdapterMetadata>()?.AdapterId;

    /// <summary>Ingests one catalog stream.</summary>
    /// <param name="catalog">The catalog bytes (CSV or JSON Lines, optionally gzip; see <see cref="CatalogReader"/>).</param>
    /// <param name="fileName">File or blob name: picks the format and names the source in errors.</param>
    /// <param name="errors">Receives rejected rows.</param>
    /// <param name="progress">Optional progress, reported after every batch.</param>
    /// <param name="mode">Overrides <see cref="IngestionOptions.Mode"/>.</param>
    /// <param name="cancellationToken">Cancels the run; committed batches stay.</param>
    /// <param name="reembed">
    /// Re-embed every product with the configured model, whatever the content hashes say, and remove products missing from
    /// the catalog (a snapshot): the way to move an index to another model, quantisation or adapter. An interrupted run is
    /// finished by running it again.
    /// </param>
    /// <exception cref="CatalogFormatException">The file as a whole cannot be read.</exception>
    /// <exception cref="EmbeddingModelMismatchException">The index holds another model's vectors and <paramref name="reembed"/> is false.</exception>
    public async Task<IngestionSummary> IngestAsync(
        Stream catalog,
        string fileName,
        IRowErrorSink errors,
        IProgress<IngestionProgress>? progress = null,
        IngestionMode? mode = null,
        CancellationToken cancellationToken = default,
        bool reembed = false)
    {
        // Traces and metrics (psim.ingest span, runs by status, rows, rejected) wrap the whole run, failures included.
        using var activity = ProductSimilarityTelemetry.StartIngestion(fileName, (mode ?? options.Value.Ingestion.Mode).ToString());
        try
        {
            var summary = await IngestCoreAsync(catalog, fileName, errors, progress, mode, cancellationToken, reembed).ConfigureAwait(false);
            ProductSimilarityTelemetry.IngestionFinished(activity, fileName, summary.RowsRead, summary.Rejected, summary.Embedded, summary.Duration);
            return summary;
        }
        catch (Exception ex)
        {
            ProductSimilarityTelemetry.IngestionFailed(activity, fileName, ex);
            throw;
        }
    }

    private async Task<IngestionSummary> IngestCoreAsync(
        Stream catalog,
        string fileName,
        IRowErrorSink errors,
        IProgress<IngestionProgress>? progress,
        IngestionMode? mode,
        CancellationToken cancellationToken,
        bool reembed)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(errors);
        var settings = options.Value.Ingestion;
        var effectiveMode = reembed ? IngestionMode.Snapshot : mode ?? settings.Mode;
        var stopwatch = Stopwatch.StartNew();
        var modelId = ModelId;
        if (!reembed)
        {
            EmbeddingModelMismatchException.ThrowIfMismatch(index, modelId);
        }

        if (reembed || index.EmbeddingModel is null)
        {
            await index.SetEmbeddingModelAsync(modelId, cancellationToken).ConfigureAwait(false);
        }

        var counting = new CountingStream(catalog);
        long? totalBytes = catalog.CanSeek ? catalog.Length : null;
        var run = new Run(modelId) { Reembed = reembed };
        var seen = effectiveMode == IngestionMode.Snapshot ? new HashSet<string>(StringComparer.Ordinal) : null;
        var batch = new List<Product>(settings.BatchSize);
        var deletes = new List<string>();
        var batchesSinceCommit = 0;
        var normalizer = new TextNormalizer(settings.ScrubPii ? PiiScrubber.Default : null, options.Value.Text);

        LogStarted(logger, fileName, effectiveMode, modelId);
        await foreach (var row in _reader.ReadAsync(counting, fileName, settings.ToReadOptions(), cancellationToken).ConfigureAwait(false))
        {
            run.RowsRead++;
            foreach (var warning in row.Warnings)
            {
                run.Warnings++;
                await errors.WriteAsync(warning, cancellationToken).ConfigureAwait(false);
            }

            if (row.Error is { } error)
            {
                run.Rejected++;
                if (error.Id is { } rejectedId)
                {
                    seen?.Add(rejectedId); // a rejected row must not delete its product in snapshot mode
                }

                await errors.WriteAsync(error, cancellationToken).ConfigureAwait(false);
                continue;
            }

            var product = normalizer.Normalize(row.Product!);
            seen?.Add(product.Id);
            if (product.Title.Length == 0 && !product.Deleted)
            {
                // The reader saw a title, but it was only markup, control or invisible characters.
                run.Rejected++;
                await errors.WriteAsync(new RowError(fileName, row.Line, "title", "the title is empty once markup and control characters are removed", product.Id), cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (product.Deleted)
            {
                deletes.Add(product.Id);
                continue;
            }

            batch.Add(product);
            if (batch.Count >= settings.BatchSize)
            {
                await WriteBatchAsync(batch, run, cancellationToken).ConfigureAwait(false);
                batch.Clear();
                if (++batchesSinceCommit >= settings.CommitEvery)
                {
                    await CommitAsync(cancellationToken).ConfigureAwait(false);
                    batchesSinceCommit = 0;
                }

                progress?.Report(run.Progress(counting.BytesRead, totalBytes));
            }
        }

        if (batch.Count > 0)
        {
            await WriteBatchAsync(batch, run, cancellationToken).ConfigureAwait(false);
        }

        if (seen is not null)
        {
            await foreach (var id in index.GetAllIdsAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!seen.Contains(id))
                {
                    deletes.Add(id);
                }
            }
        }

        for (var i = 0; i < deletes.Count; i += settings.BatchSize)
        {
            var chunk = deletes.GetRange(i, Math.Min(settings.BatchSize, deletes.Count - i));
            run.Deleted += await index.DeleteAsync(chunk, cancellationToken).ConfigureAwait(false);
        }

        await CommitAsync(cancellationToken).ConfigureAwait(false);
        progress?.Report(run.Progress(counting.BytesRead, totalBytes));
        var summary = new IngestionSummary
        {
            File = fileName,
            RowsRead = run.RowsRead,
            Embedded = run.Embedded,
            Unchanged = run.Unchanged,
            Updated = run.Updated,
            Rejected = run.Rejected,
            Warnings = run.Warnings,
            Deleted = run.Deleted,
            Duration = stopwatch.Elapsed,
            Model = ModelId,
            Adapter = Adapter,
            Mode = effectiveMode,
        };
        LogFinished(logger, fileName, summary.RowsRead, summary.Embedded, summary.Unchanged, summary.Rejected, summary.Deleted, summary.Duration.TotalSeconds);
        return summary;
    }

    private async Task CommitAsync(CancellationToken cancellationToken)
    {
        using var timing = ProductSimilarityTelemetry.Commit();
        await index.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<GeneratedEmbeddings<Embedding<float>>> EmbedAsync(List<string> texts, CancellationToken cancellationToken)
    {
        using var timing = ProductSimilarityTelemetry.EmbedBatch(texts.Count);
        return await generator.GenerateAsync(texts, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private async Task WriteBatchAsync(List<Product> batch, Run run, CancellationToken cancellationToken)
    {
        var ids = batch.ConvertAll(p => p.Id);
        var stored = await index.GetContentHashesAsync(ids, cancellationToken).ConfigureAwait(false);
        var toEmbed = new List<(Product Product, string Hash)>(batch.Count);
        var toRewrite = new List<(Product Product, string Hash)>();
        foreach (var product in batch)
        {
            var hash = ProductText.ContentHash(product, run.ModelId);
            if (run.Reembed || !stored.TryGetValue(product.Id, out var existing))
            {
                toEmbed.Add((product, hash));
            }
            else if (existing == hash)
            {
                run.Unchanged++;
            }
            else if (ProductText.EmbeddingPart(existing) == ProductText.EmbeddingPart(hash))
            {
                toRewrite.Add((product, hash));
            }
            else
            {
                toEmbed.Add((product, hash));
            }
        }

        if (toRewrite.Count > 0)
        {
            // Only stored fields changed: one call rewrites them and the store keeps each vector. (Gone since the hash
            // lookup? Then embed it like a new one.)
            var rewrites = toRewrite.ConvertAll(x => new IndexedProduct { Product = x.Product, ContentHash = x.Hash, Vector = ReadOnlyMemory<float>.Empty });
            var missing = new HashSet<string>(await index.UpdateFieldsAsync(rewrites, cancellationToken).ConfigureAwait(false), StringComparer.Ordinal);
            foreach (var rewrite in toRewrite)
            {
                if (missing.Contains(rewrite.Product.Id))
                {
                    toEmbed.Add(rewrite);
                }
                else
                {
                    run.Updated++;
                }
            }
        }

        if (toEmbed.Count == 0)
        {
            return;
        }

        var texts = toEmbed.ConvertAll(x => ProductText.ForEmbedding(x.Product));
        var embeddings = await EmbedAsync(texts, cancellationToken).ConfigureAwait(false);
        if (embeddings.Count != texts.Count)
        {
            throw new InvalidOperationException($"The embedding generator returned {embeddings.Count} vectors for {texts.Count} texts.");
        }

        if (await index.GetDimensionsAsync(cancellationToken).ConfigureAwait(false) is null)
        {
            await index.EnsureCreatedAsync(embeddings[0].Vector.Length, cancellationToken).ConfigureAwait(false);
        }

        var documents = new List<IndexedProduct>(toEmbed.Count);
        for (var i = 0; i < toEmbed.Count; i++)
        {
            documents.Add(new IndexedProduct { Product = toEmbed[i].Product, ContentHash = toEmbed[i].Hash, Vector = embeddings[i].Vector });
        }

        run.Embedded += toEmbed.Count;
        await index.UpsertAsync(documents, cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Ingesting {File} in {Mode} mode with model {Model}")]
    private static partial void LogStarted(ILogger logger, string file, IngestionMode mode, string model);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ingested {File}: {RowsRead} rows read, {Embedded} embedded, {Unchanged} unchanged, {Rejected} rejected, {Deleted} deleted in {Seconds:F1} s")]
    private static partial void LogFinished(ILogger logger, string file, long rowsRead, long embedded, long unchanged, long rejected, long deleted, double seconds);

    private sealed class Run(string modelId)
    {
        public string ModelId { get; } = modelId;

        public bool Reembed { get; init; }

        public long RowsRead { get; set; }

        public long Embedded { get; set; }

        public long Unchanged { get; set; }

        public long Updated { get; set; }

        public long Rejected { get; set; }

        public long Warnings { get; set; }

        public long Deleted { get; set; }

        public IngestionProgress Progress(long bytesRead, long? totalBytes) =>
            new(RowsRead, Embedded, Unchanged, Rejected, bytesRead, totalBytes);
    }
}
