using System.Text.Json;
using ProductSimilarity.Core.Indexing;

namespace ProductSimilarity.Core.Similarity;

/// <summary>The file format of a similarity export.</summary>
public enum ExportFormat
{
    /// <summary>JSON Lines: one object per product, <c>{"id":…,"similar":[{"id":…,"rank":1,"score":…},…]}</c>.</summary>
    Jsonl,

    /// <summary>CSV with a header: one row per (product, similar product) pair.</summary>
    Csv,

    /// <summary>Apache Parquet: one row per (product, similar product) pair; see <see cref="ExportWriter.ParquetSchema"/>.</summary>
    Parquet,
}

/// <summary>What to export and where.</summary>
public sealed record ExportOptions
{
    /// <summary>The file to write. It appears only when the export is complete; until then the rows go to
    /// <c>OUT.partial</c> and the progress to <c>OUT.checkpoint.json</c>.</summary>
    public required string OutputPath { get; init; }

    /// <summary>The file format.</summary>
    public ExportFormat Format { get; init; } = ExportFormat.Jsonl;

    /// <summary>
    /// The request asked for every product, as the API would be asked: <see cref="SimilarRequest.Top"/>, filters, ranking
    /// mode and fusion. Its <see cref="SimilarRequest.Id"/> is replaced by each product's id.
    /// </summary>
    public required SimilarRequest Request { get; init; }

    /// <summary>Products queried at once (at least 1).</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Products per chunk: the unit written, made durable and recorded in the checkpoint (at least 1). A resumed
    /// run repeats at most one chunk's queries.</summary>
    public int ChunkSize { get; init; } = DefaultChunkSize;

    /// <summary>Ignore a checkpoint left by an interrupted run and start over.</summary>
    public bool Restart { get; init; }

    /// <summary>Default <see cref="ChunkSize"/>.</summary>
    public const int DefaultChunkSize = 256;
}

/// <summary>How far an export is.</summary>
/// <param name="Done">Products exported so far (a resumed run counts those of the earlier run too).</param>
/// <param name="Total">Products in the index.</param>
/// <param name="Rows">Similar-product pairs written so far.</param>
public readonly record struct ExportProgress(long Done, long Total, long Rows);

/// <summary>The outcome of an export.</summary>
/// <param name="OutputPath">The finished file.</param>
/// <param name="Products">Products exported (each product of the index once).</param>
/// <param name="Rows">Similar-product pairs written.</param>
/// <param name="ResumedFrom">Products already done by an interrupted run that this one resumed; 0 for a fresh run.</param>
public sealed record ExportResult(string OutputPath, long Products, long Rows, long ResumedFrom);

/// <summary>A checkpoint does not fit the export asked for (other settings, a changed index, a damaged file).</summary>
public sealed class ExportResumeException(string message) : Exception(message);

/// <summary>
/// The similarity-matrix export: each product's top-K similar products, computed by
/// <see cref="SimilarityService.SimilarAsync"/> exactly as the API computes them (same ranking, filters, variant collapsing
/// and same-product rule), written as JSON Lines, CSV or Parquet.
/// </summary>
/// <remarks>
/// <para><b>Order and memory.</b> Products are taken in ordinal order of their ids, in chunks of
/// <see cref="ExportOptions.ChunkSize"/>. The products of one chunk are queried in parallel (at most
/// <see cref="ExportOptions.Parallelism"/> at a time) and then written in id order, so memory holds the id list and one
/// chunk of results whatever the catalog size, and the output is the same whatever the parallelism.</para>
/// <para><b>Resume.</b> Rows are appended to <c>OUT.partial</c>. After each chunk the file is flushed to disk, then
/// <c>OUT.checkpoint.json</c> is replaced atomically with the last id written, the counts and the file's length. A run
/// that finds a checkpoint with the same settings (format, request, product count and embedding model) cuts the partial
/// file back to the recorded length, which drops a chunk half-written by a killed process, and goes on after the
/// recorded id: no row is written twice or lost. A Parquet file is closed (its footer written) after every chunk, so the
/// recorded length always ends a valid file that the next chunk appends a row group to. When the last chunk is done,
/// the partial file becomes <c>OUT</c> and the checkpoint is deleted.</para>
/// <para>Thread-safe for distinct output paths; one export per path at a time.</para>
/// </remarks>
public sealed class SimilarityExporter(IProductIndex index, SimilarityService service)
{
    /// <summary>The file rows are written to until the export completes.</summary>
    public static string PartialPath(string outputPath) => outputPath + ".partial";

    /// <summary>The checkpoint of an export in progress.</summary>
    public static string CheckpointPath(string outputPath) => outputPath + ".checkpoint.json";

    /// <summary>Exports every product's similar products.</summary>
    /// <exception cref="ExportResumeException">A checkpoint exists but does not fit this export.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the completed chunks stay, and a rerun resumes after them.</exception>
    public async Task<ExportResult> ExportAsync(ExportOptions options, IProgress<ExportProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.OutputPath);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Parallelism, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ChunkSize, 1);

        var ids = new List<string>();
        await foreach (var id in index.GetAllIdsAsync(cancellationToken).ConfigureAwait(false))
        {
            ids.Add(id);
        }

        ids.Sort(StringComparer.Ordinal);
        var settings = Settings(options, ids.Count);
        var partial = PartialPath(options.OutputPath);
        var checkpointPath = CheckpointPath(options.OutputPath);
        var writer = ExportWriter.For(options.Format);

        var checkpoint = options.Restart ? null : await ReadCheckpointAsync(checkpointPath, cancellationToken).ConfigureAwait(false);
        var start = 0;
        if (checkpoint is not null)
        {
            if (checkpoint.Settings != settings)
            {
                throw new ExportResumeException(
                    $"'{checkpointPath}' is the checkpoint of an interrupted export with other settings or another index ({checkpoint.Settings}); pass --restart to start over.");
            }

            var length = File.Exists(partial) ? new FileInfo(partial).Length : -1;
            if (length < checkpoint.Bytes)
            {
                throw new ExportResumeException($"'{partial}' is shorter than its checkpoint records ({length} < {checkpoint.Bytes} bytes); pass --restart to start over.");
            }

            await using (var truncate = new FileStream(partial, FileMode.Open, FileAccess.Write, FileShare.None))
            {
                truncate.SetLength(checkpoint.Bytes);
            }

            start = checkpoint.LastId is null ? 0 : UpperBound(ids, checkpoint.LastId);
        }
        else
        {
            File.Delete(checkpointPath);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(partial))!);
            await using (var create = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                await writer.WriteHeaderAsync(create, cancellationToken).ConfigureAwait(false);
                await create.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            checkpoint = new ExportCheckpoint(settings, null, 0, 0, new FileInfo(partial).Length);
            await WriteCheckpointAsync(checkpointPath, checkpoint, cancellationToken).ConfigureAwait(false);
        }

        var resumedFrom = checkpoint.Done;
        var done = checkpoint.Done;
        var rows = checkpoint.Rows;
        progress?.Report(new ExportProgress(done, ids.Count, rows));
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Parallelism, CancellationToken = cancellationToken };
        for (var offset = start; offset < ids.Count; offset += options.ChunkSize)
        {
            var count = Math.Min(options.ChunkSize, ids.Count - offset);
            var results = new ExportedProduct[count];
            await Parallel.ForAsync(0, count, parallel, async (i, ct) =>
            {
                var id = ids[offset + i];
                results[i] = new ExportedProduct(id, await SimilarAsync(options.Request with { Id = id }, ct).ConfigureAwait(false));
            }).ConfigureAwait(false);

            long bytes;
            await using (var stream = new FileStream(partial, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
            {
                stream.Seek(0, SeekOrigin.End);
                rows += await writer.WriteChunkAsync(stream, results, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
                bytes = stream.Length;
            }

            done += count;
            checkpoint = new ExportCheckpoint(settings, ids[offset + count - 1], done, rows, bytes);
            await WriteCheckpointAsync(checkpointPath, checkpoint, cancellationToken).ConfigureAwait(false);
            progress?.Report(new ExportProgress(done, ids.Count, rows));
        }

        await using (var stream = new FileStream(partial, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            await writer.CompleteAsync(stream, cancellationToken).ConfigureAwait(false);
        }

        File.Move(partial, options.OutputPath, overwrite: true);
        File.Delete(checkpointPath);
        return new ExportResult(options.OutputPath, done, rows, resumedFrom);
    }

    private async Task<IReadOnlyList<SearchHit>> SimilarAsync(SimilarRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return (await service.SimilarAsync(request, cancellationToken).ConfigureAwait(false)).Hits;
        }
        catch (ProductNotFoundException)
        {
            return []; // deleted since the id list was read: exported with no similar products
        }
    }

    /// <summary>Everything a resumed run must share with the interrupted one for its rows to belong to the same file.</summary>
    private string Settings(ExportOptions options, int products) =>
        string.Join(
            "; ",
            $"format={options.Format}",
            $"request={options.Request with { Id = string.Empty, Explain = false }}",
            $"products={products}",
            $"model={index.EmbeddingModel ?? "-"}");

    /// <summary>The position of the first id after <paramref name="lastId"/> in the sorted list.</summary>
    private static int UpperBound(List<string> ids, string lastId)
    {
        var at = ids.BinarySearch(lastId, StringComparer.Ordinal);
        return at >= 0 ? at + 1 : ~at;
    }

    private static async Task<ExportCheckpoint?> ReadCheckpointAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            await using var stream = File.OpenRead(path);
            return await JsonSerializer.DeserializeAsync<ExportCheckpoint>(stream, CheckpointJson, cancellationToken).ConfigureAwait(false)
                ?? throw new ExportResumeException($"'{path}' is empty; pass --restart to start over.");
        }
        catch (JsonException ex)
        {
            throw new ExportResumeException($"'{path}' is not a readable export checkpoint ({ex.Message}); pass --restart to start over.");
        }
    }

    private static async Task WriteCheckpointAsync(string path, ExportCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        // Written whole to a temporary file and moved over the old one, so a kill leaves the old or the new checkpoint.
        var temporary = path + ".tmp";
        await using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            await JsonSerializer.SerializeAsync(stream, checkpoint, CheckpointJson, cancellationToken).ConfigureAwait(false);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    private static readonly JsonSerializerOptions CheckpointJson = new(JsonSerializerDefaults.Web);

    private sealed record ExportCheckpoint(string Settings, string? LastId, long Done, long Rows, long Bytes);
}

/// <summary>One product of an export and its similar products, best first.</summary>
/// <param name="Id">The product id.</param>
/// <param name="Hits">Its similar products, as <see cref="SimilarityService.SimilarAsync"/> ranked them.</param>
public sealed record ExportedProduct(string Id, IReadOnlyList<SearchHit> Hits);
