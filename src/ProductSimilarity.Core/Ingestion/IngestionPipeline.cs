using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
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
/// <para>The four steps (read and normalise, hash lookup, embed, write) run at the same time as a pipeline of bounded
/// channels with back-pressure, so parsing, the index and the embedding model work on different batches at once while
/// memory stays flat.</para>
/// <para>Thread-safe for concurrent runs against different indexes; one run at a time per index. Crash safety comes
/// from the index: every <see cref="IngestionOptions.CommitEvery"/> batches the index commits atomically; after a crash
/// the rerun finds the committed products by content hash and embeds only the rest.</para>
/// </remarks>
public sealed partial class IngestionPipeline(
    IProductIndex index,
    IEmbeddingGenerator<string, Embedding<float>> generator,
    IOptions<ProductSimilarityOptions> options,
    ILogger<IngestionPipeline> logger)
{
    /// <summary>Batches that may wait between two stages; a full channel makes the stage before it wait.</summary>
    private const int ChannelCapacity = 2;

    /// <summary>
    /// At most this many embedded batches wait for the write stage: up to one checkpoint's worth
    /// (<see cref="IngestionOptions.CommitEvery"/>), so that the model goes on embedding while the index commits (a commit
    /// flushes, fsyncs and brings the HNSW graph up to date), instead of stopping two batches later.
    /// </summary>
    private const int MaxEmbeddedWaiting = 16;

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
        var run = new Run(modelId, counting, totalBytes) { Reembed = reembed };
        var deletes = new List<string>();
        var seen = effectiveMode == IngestionMode.Snapshot ? new HashSet<string>(StringComparer.Ordinal) : null;

        LogStarted(logger, fileName, effectiveMode, modelId);
        await RunStagesAsync(counting, fileName, errors, progress, run, deletes, seen, cancellationToken).ConfigureAwait(false);

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
            run.Add(Counter.Deleted, await index.DeleteAsync(chunk, cancellationToken).ConfigureAwait(false));
        }

        await CommitAsync(cancellationToken).ConfigureAwait(false);
        progress?.Report(run.Progress());
        var summary = new IngestionSummary
        {
            File = fileName,
            RowsRead = run[Counter.RowsRead],
            Embedded = run[Counter.Embedded],
            Unchanged = run[Counter.Unchanged],
            Updated = run[Counter.Updated],
            Rejected = run[Counter.Rejected],
            Warnings = run[Counter.Warnings],
            Deleted = run[Counter.Deleted],
            Duration = stopwatch.Elapsed,
            Model = ModelId,
            Adapter = Adapter,
            Mode = effectiveMode,
        };
        LogFinished(logger, fileName, summary.RowsRead, summary.Embedded, summary.Unchanged, summary.Rejected, summary.Deleted, summary.Duration.TotalSeconds);
        return summary;
    }

    /// <summary>
    /// Runs the four stages (read and normalise, hash lookup, embed, write) at once, joined by bounded channels, so that
    /// the next batch is parsed and looked up while this one is embedded and the last one is written.
    /// </summary>
    /// <remarks>
    /// A full channel blocks its writer (back-pressure), so at most <see cref="ChannelCapacity"/> batches wait between
    /// two stages (between embedding and writing, one checkpoint's batches, at most <see cref="MaxEmbeddedWaiting"/>)
    /// and memory stays flat whatever the file's size. The index sees the same calls in the same order as
    /// a one-batch-at-a-time loop: only the write stage writes and commits, every <see cref="IngestionOptions.CommitEvery"/>
    /// batches, so a crash loses only what came after the last commit. Ids are unique within a file (the reader rejects
    /// a repeated id), so a lookup that runs ahead of an earlier batch's write never needs that write. When a stage
    /// fails, the stages before it stop and the stages after it finish the batches already handed to them (committing
    /// at their checkpoints, as the loop did before the failing batch), then the first failure is thrown.
    /// </remarks>
    private async Task RunStagesAsync(
        CountingStream counting,
        string fileName,
        IRowErrorSink errors,
        IProgress<IngestionProgress>? progress,
        Run run,
        List<string> deletes,
        HashSet<string>? seen,
        CancellationToken cancellationToken)
    {
        var parsed = CreateChannel<List<Product>>();
        var looked = CreateChannel<Work>();
        var embedded = CreateChannel<Work>(Math.Clamp(options.Value.Ingestion.CommitEvery, ChannelCapacity, MaxEmbeddedWaiting));
        using var stages = new Stages(4, cancellationToken);
        await Task.WhenAll(
            stages.RunAsync(0, parsed.Writer, token => ReadStageAsync(counting, fileName, errors, run, deletes, seen, parsed.Writer, token)),
            stages.RunAsync(1, looked.Writer, token => LookupStageAsync(parsed.Reader, run, looked.Writer, token)),
            stages.RunAsync(2, embedded.Writer, token => EmbedStageAsync(looked.Reader, embedded.Writer, token)),
            stages.RunAsync<Work>(3, null, token => WriteStageAsync(embedded.Reader, run, progress, token))).ConfigureAwait(false);
        stages.ThrowIfFailed();
        cancellationToken.ThrowIfCancellationRequested();
    }

    private static Channel<T> CreateChannel<T>(int capacity = ChannelCapacity) => Channel.CreateBounded<T>(new BoundedChannelOptions(capacity)
    {
        SingleReader = true,
        SingleWriter = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    /// <summary>Stage 1: reads rows, reports rejected ones, normalises the rest and hands them on in batches.</summary>
    private async Task ReadStageAsync(
        CountingStream counting,
        string fileName,
        IRowErrorSink errors,
        Run run,
        List<string> deletes,
        HashSet<string>? seen,
        ChannelWriter<List<Product>> output,
        CancellationToken cancellationToken)
    {
        var settings = options.Value.Ingestion;
        var normalizer = new TextNormalizer(settings.ScrubPii ? PiiScrubber.Default : null, options.Value.Text);
        var batch = new List<Product>(settings.BatchSize);
        await foreach (var row in _reader.ReadAsync(counting, fileName, settings.ToReadOptions(), cancellationToken).ConfigureAwait(false))
        {
            run.Add(Counter.RowsRead, 1);
            foreach (var warning in row.Warnings)
            {
                run.Add(Counter.Warnings, 1);
                await errors.WriteAsync(warning, cancellationToken).ConfigureAwait(false);
            }

            if (row.Error is { } error)
            {
                run.Add(Counter.Rejected, 1);
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
                run.Add(Counter.Rejected, 1);
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
                await output.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
                batch = new List<Product>(settings.BatchSize);
            }
        }

        if (batch.Count > 0)
        {
            await output.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stage 2: looks up the stored content hashes and sorts each product into unchanged, fields-only or to embed.</summary>
    private async Task LookupStageAsync(ChannelReader<List<Product>> input, Run run, ChannelWriter<Work> output, CancellationToken cancellationToken)
    {
        await foreach (var batch in input.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            var ids = batch.ConvertAll(p => p.Id);
            var stored = await index.GetContentHashesAsync(ids, cancellationToken).ConfigureAwait(false);
            var work = new Work();
            foreach (var product in batch)
            {
                var hash = ProductText.ContentHash(product, run.ModelId);
                if (run.Reembed || !stored.TryGetValue(product.Id, out var existing))
                {
                    work.ToEmbed.Add((product, hash));
                }
                else if (existing == hash)
                {
                    run.Add(Counter.Unchanged, 1);
                }
                else if (ProductText.EmbeddingPart(existing) == ProductText.EmbeddingPart(hash))
                {
                    work.ToRewrite.Add((product, hash));
                }
                else
                {
                    work.ToEmbed.Add((product, hash));
                }
            }

            await output.WriteAsync(work, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stage 3: embeds the new and changed products of each batch.</summary>
    private async Task EmbedStageAsync(ChannelReader<Work> input, ChannelWriter<Work> output, CancellationToken cancellationToken)
    {
        await foreach (var work in input.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            work.Vectors = await EmbedAsync(work.ToEmbed, cancellationToken).ConfigureAwait(false);
            await output.WriteAsync(work, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stage 4: the only stage that writes. Rewrites fields, upserts embedded products, commits at checkpoints, reports progress.</summary>
    private async Task WriteStageAsync(ChannelReader<Work> input, Run run, IProgress<IngestionProgress>? progress, CancellationToken cancellationToken)
    {
        var commitEvery = options.Value.Ingestion.CommitEvery;
        var batchesSinceCommit = 0;
        await foreach (var work in input.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            await WriteBatchAsync(work, run, cancellationToken).ConfigureAwait(false);
            if (++batchesSinceCommit >= commitEvery)
            {
                await CommitAsync(cancellationToken).ConfigureAwait(false);
                batchesSinceCommit = 0;
            }

            progress?.Report(run.Progress());
        }
    }

    private async Task CommitAsync(CancellationToken cancellationToken)
    {
        using var timing = ProductSimilarityTelemetry.Commit();
        await index.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<IReadOnlyList<ReadOnlyMemory<float>>> EmbedAsync(List<(Product Product, string Hash)> products, CancellationToken cancellationToken)
    {
        if (products.Count == 0)
        {
            return [];
        }

        var texts = products.ConvertAll(x => ProductText.ForEmbedding(x.Product));
        GeneratedEmbeddings<Embedding<float>> embeddings;
        using (ProductSimilarityTelemetry.EmbedBatch(texts.Count))
        {
            embeddings = await generator.GenerateAsync(texts, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        if (embeddings.Count != texts.Count)
        {
            throw new InvalidOperationException($"The embedding generator returned {embeddings.Count} vectors for {texts.Count} texts.");
        }

        return [.. embeddings.Select(e => e.Vector)];
    }

    // Recorded with the product, so that ranking reads it instead of tokenising each candidate's text at every query; the
    // content hash holds the model id, so a model change re-embeds the product and records its share again.
    private double? UnknownTokenShare(Product product)
        => generator.GetService<ITokenCoverage>()?.UnknownTokenShare(ProductText.ForEmbedding(product));

    private async Task WriteBatchAsync(Work work, Run run, CancellationToken cancellationToken)
    {
        var toEmbed = work.ToEmbed;
        var vectors = work.Vectors;
        if (work.ToRewrite.Count > 0)
        {
            // Only stored fields changed: one call rewrites them and the store keeps each vector. (Gone since the hash
            // lookup? Then embed it like a new one, here: it is rare.)
            var rewrites = work.ToRewrite.ConvertAll(x => new IndexedProduct { Product = x.Product, ContentHash = x.Hash, Vector = ReadOnlyMemory<float>.Empty, UnknownTokenShare = UnknownTokenShare(x.Product) });
            var missing = new HashSet<string>(await index.UpdateFieldsAsync(rewrites, cancellationToken).ConfigureAwait(false), StringComparer.Ordinal);
            var gone = work.ToRewrite.FindAll(x => missing.Contains(x.Product.Id));
            run.Add(Counter.Updated, work.ToRewrite.Count - gone.Count);
            if (gone.Count > 0)
            {
                toEmbed = [.. toEmbed, .. gone];
                vectors = [.. vectors, .. await EmbedAsync(gone, cancellationToken).ConfigureAwait(false)];
            }
        }

        if (toEmbed.Count == 0)
        {
            return;
        }

        if (await index.GetDimensionsAsync(cancellationToken).ConfigureAwait(false) is null)
        {
            await index.EnsureCreatedAsync(vectors[0].Length, cancellationToken).ConfigureAwait(false);
        }

        var documents = new List<IndexedProduct>(toEmbed.Count);
        for (var i = 0; i < toEmbed.Count; i++)
        {
            documents.Add(new IndexedProduct { Product = toEmbed[i].Product, ContentHash = toEmbed[i].Hash, Vector = vectors[i], UnknownTokenShare = UnknownTokenShare(toEmbed[i].Product) });
        }

        run.Add(Counter.Embedded, toEmbed.Count);
        await index.UpsertAsync(documents, cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Ingesting {File} in {Mode} mode with model {Model}")]
    private static partial void LogStarted(ILogger logger, string file, IngestionMode mode, string model);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ingested {File}: {RowsRead} rows read, {Embedded} embedded, {Unchanged} unchanged, {Rejected} rejected, {Deleted} deleted in {Seconds:F1} s")]
    private static partial void LogFinished(ILogger logger, string file, long rowsRead, long embedded, long unchanged, long rejected, long deleted, double seconds);

    private enum Counter
    {
        RowsRead,
        Embedded,
        Unchanged,
        Updated,
        Rejected,
        Warnings,
        Deleted,
    }

    /// <summary>The counts of one run, updated by every stage.</summary>
    /// <remarks>Thread-safe.</remarks>
    private sealed class Run(string modelId, CountingStream counting, long? totalBytes)
    {
        private readonly long[] _counts = new long[Enum.GetValues<Counter>().Length];

        public string ModelId { get; } = modelId;

        public bool Reembed { get; init; }

        public long this[Counter counter] => Interlocked.Read(ref _counts[(int)counter]);

        public void Add(Counter counter, long count) => Interlocked.Add(ref _counts[(int)counter], count);

        public IngestionProgress Progress() =>
            new(this[Counter.RowsRead], this[Counter.Embedded], this[Counter.Unchanged], this[Counter.Rejected], counting.BytesRead, totalBytes);
    }

    /// <summary>One batch on its way from the lookup to the index: what to embed, the vectors once embedded, what to rewrite.</summary>
    private sealed class Work
    {
        public List<(Product Product, string Hash)> ToEmbed { get; } = [];

        public List<(Product Product, string Hash)> ToRewrite { get; } = [];

        public IReadOnlyList<ReadOnlyMemory<float>> Vectors { get; set; } = [];
    }

    /// <summary>
    /// Runs the stages of one ingestion and keeps the first failure: a stage that throws stops the stages before it (so
    /// nothing new enters), while the stages after it drain what they already hold.
    /// </summary>
    /// <remarks>Thread-safe.</remarks>
    private sealed class Stages : IDisposable
    {
        private readonly CancellationTokenSource[] _stops;
        private ExceptionDispatchInfo? _failure;

        public Stages(int count, CancellationToken cancellationToken)
        {
            _stops = new CancellationTokenSource[count];
            for (var i = 0; i < count; i++)
            {
                _stops[i] = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            }
        }

        /// <summary>Runs stage <paramref name="stage"/> on the thread pool; completes <paramref name="output"/> when it ends, however it ends.</summary>
        public Task RunAsync<T>(int stage, ChannelWriter<T>? output, Func<CancellationToken, Task> body) => Task.Run(async () =>
        {
            var token = _stops[stage].Token;
            try
            {
                await body(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                // Stopped by the caller or by a later stage's failure, which is recorded.
            }
            catch (Exception ex)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(ex), null);
                for (var i = 0; i < stage; i++)
                {
                    await _stops[i].CancelAsync().ConfigureAwait(false);
                }
            }
            finally
            {
                output?.TryComplete();
            }
        });

        public void ThrowIfFailed() => Volatile.Read(ref _failure)?.Throw();

        public void Dispose()
        {
            foreach (var stop in _stops)
            {
                stop.Dispose();
            }
        }
    }
}
