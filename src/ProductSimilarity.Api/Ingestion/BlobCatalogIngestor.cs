using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Ingestion;

namespace ProductSimilarity.Api.Ingestion;

/// <summary>
/// Ingests one catalog blob through the same <see cref="IngestionPipeline"/> as <c>psim ingest</c>, streaming it
/// (never loading it whole), and records the run in a status document and a rejected-row report next to it.
/// </summary>
/// <remarks>
/// <para>
/// Re-delivery is idempotent: when the status document says this blob version (ETag) already succeeded, the run is
/// skipped; otherwise the pipeline's content hashes make re-ingesting unchanged products a no-op.
/// </para>
/// <para>
/// Deletion: a row with <c>deleted=true</c> removes its product; in snapshot mode (<c>ProductSimilarity:Ingestion:Mode=Snapshot</c>,
/// or blob metadata <c>mode=snapshot</c>) every product missing from the file is removed too. Metadata <c>mode=upsert</c>
/// forces upsert mode for one blob.
/// </para>
/// <para>Stateless apart from its dependencies; thread-safe for different blobs. Product text is never logged.</para>
/// </remarks>
public sealed partial class BlobCatalogIngestor(
    IngestionPipeline pipeline,
    IOptions<ProductSimilarityOptions> options,
    TimeProvider timeProvider,
    ILogger<BlobCatalogIngestor> logger)
{
    /// <summary>The blob metadata key that selects the ingestion mode for one blob.</summary>
    public const string ModeMetadataKey = "mode";

    /// <summary>Suffix of status documents: <c>{name}.json</c>.</summary>
    public const string StatusSuffix = ".json";

    /// <summary>Suffix of rejected-row reports: <c>{name}.errors.jsonl</c>.</summary>
    public const string ErrorReportSuffix = ".errors.jsonl";

    /// <summary>Azure's longest blob name, in characters.</summary>
    public const int MaxBlobNameLength = 1024;

    /// <summary>
    /// Ingests <paramref name="catalog"/>. The status and error containers are taken from
    /// <c>ProductSimilarity:Ingestion</c> in the same storage account (created when missing).
    /// </summary>
    /// <exception cref="RequestFailedException">Storage failed; the host retries the trigger.</exception>
    /// <remarks>
    /// A file that cannot be read at all (<see cref="CatalogFormatException"/>) is recorded as failed and not thrown,
    /// since a retry cannot help. Other failures are recorded and rethrown so the host retries.
    /// </remarks>
    public async Task<CatalogIngestionResult> IngestAsync(BlobClient catalog, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var settings = options.Value.Ingestion;
        var service = catalog.GetParentBlobContainerClient().GetParentBlobServiceClient();
        var statusContainer = service.GetBlobContainerClient(settings.StatusContainer);
        var errorContainer = service.GetBlobContainerClient(settings.ErrorContainer);
        var statusBlob = statusContainer.GetBlobClient(SafeBlobName(catalog.Name, StatusSuffix));
        var errorBlob = errorContainer.GetBlobClient(SafeBlobName(catalog.Name, ErrorReportSuffix));

        BlobProperties properties = await catalog.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var etag = properties.ETag.ToString();
        await statusContainer.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);

        var previous = await ReadStatusAsync(statusBlob, cancellationToken).ConfigureAwait(false);
        if (previous is { Status: IngestionRunState.Succeeded } && previous.ETag == etag)
        {
            LogSkipped(logger, catalog.Name, etag, previous.FinishedAt);
            return new CatalogIngestionResult(previous, Skipped: true);
        }

        if (previous is { Status: IngestionRunState.Failed, Final: true } && previous.ETag == etag)
        {
            // Poison: this version failed for good. Only a new upload (a new ETag) is tried again.
            LogPoisonSkipped(logger, catalog.Name, etag, previous.Attempts);
            return new CatalogIngestionResult(previous, Skipped: true);
        }

        // A run of this version that failed, or whose process died while Running, counts as an attempt.
        var attempt = previous is not null && previous.ETag == etag ? Math.Max(previous.Attempts, 1) + 1 : 1;

        var mode = ModeFor(properties.Metadata, settings.Mode);
        var status = new CatalogIngestionStatus
        {
            Blob = catalog.Name,
            Container = catalog.BlobContainerName,
            ETag = etag,
            Status = IngestionRunState.Running,
            Mode = mode,
            Model = pipeline.ModelId,
            Adapter = pipeline.Adapter,
            StartedAt = timeProvider.GetUtcNow(),
            Attempts = attempt,
        };
        await WriteStatusAsync(statusBlob, status, cancellationToken).ConfigureAwait(false);
        LogStarting(logger, catalog.Name, etag, mode, properties.ContentLength);

        await using var errors = new BlobRowErrorSink();
        IngestionSummary summary;
        try
        {
            // Pinned to the ETag read above: if the blob is overwritten mid-read the read fails (and the new
            // version's own event ingests it) instead of mixing two versions.
            await using var stream = await catalog.OpenReadAsync(
                new BlobOpenReadOptions(allowModifications: false), cancellationToken).ConfigureAwait(false);
            summary = await pipeline.IngestAsync(stream, catalog.Name, errors, progress: null, mode, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A file that cannot be read will not read better next time; anything else is retried by the host until
            // MaxAttempts, then recorded as a final failure and not thrown, so that the host stops retrying.
            var final = ex is CatalogFormatException || attempt >= settings.MaxAttempts;
            var failed = await FinishFailedAsync(status with { Final = final }, ex, errors, errorContainer, errorBlob, statusBlob).ConfigureAwait(false);
            if (final)
            {
                if (ex is not CatalogFormatException)
                {
                    LogPoisoned(logger, catalog.Name, etag, attempt);
                }

                return new CatalogIngestionResult(failed, Skipped: false);
            }

            throw;
        }
        catch (OperationCanceledException ex)
        {
            await FinishFailedAsync(status, ex, errors, errorContainer, errorBlob, statusBlob).ConfigureAwait(false);
            throw;
        }

        var report = await UploadErrorsAsync(errors, errorContainer, errorBlob, cancellationToken).ConfigureAwait(false);
        var done = status with
        {
            Status = IngestionRunState.Succeeded,
            Summary = summary,
            ErrorReport = report,
            FinishedAt = timeProvider.GetUtcNow(),
        };
        await WriteStatusAsync(statusBlob, done, cancellationToken).ConfigureAwait(false);
        LogSucceeded(logger, catalog.Name, summary.RowsRead, summary.Embedded, summary.Unchanged, summary.Rejected, summary.Deleted);
        return new CatalogIngestionResult(done, Skipped: false);
    }

    /// <summary>
    /// The name of a catalog's status or error-report blob: the catalog's name plus <paramref name="suffix"/>, unless that
    /// name could escape its container or prefix (<c>.</c> or <c>..</c> segments, which URIs collapse; a backslash,
    /// which they read as <c>/</c>; an empty segment, control characters or surrogates) or would be longer than Azure's 1,024 characters; then <c>_unsafe/{SHA-256 of the name}{suffix}</c>.
    /// The status document keeps the original name in <see cref="CatalogIngestionStatus.Blob"/>.
    /// </summary>
    public static string SafeBlobName(string catalogName, string suffix)
    {
        ArgumentNullException.ThrowIfNull(catalogName);
        ArgumentNullException.ThrowIfNull(suffix);
        var name = catalogName + suffix;
        var safe = name.Length <= MaxBlobNameLength
            && !name.StartsWith('/')
            && !name.Contains('\\', StringComparison.Ordinal)
            && !name.Contains("//", StringComparison.Ordinal)
            && !name.Any(c => char.IsControl(c) || char.IsSurrogate(c))
            && !name.Split('/').Any(segment => segment is "." or "..");
        if (safe)
        {
            return name;
        }

        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(catalogName)));
        return "_unsafe/" + hash + suffix;
    }

    /// <summary>Reads a status document, or null when there is none (or it cannot be parsed).</summary>
    public static async Task<CatalogIngestionStatus?> ReadStatusAsync(BlobClient statusBlob, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(statusBlob);
        try
        {
            var content = await statusBlob.DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return JsonSerializer.Deserialize<CatalogIngestionStatus>(content.Value.Content.ToMemory().Span, CatalogIngestionStatus.JsonOptions);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
        catch (JsonException)
        {
            return null; // a damaged status document must not block ingestion; the next write replaces it
        }
    }

    private static IngestionMode ModeFor(IDictionary<string, string>? metadata, IngestionMode configured)
    {
        if (metadata is null)
        {
            return configured;
        }

        foreach (var (key, value) in metadata)
        {
            if (string.Equals(key, ModeMetadataKey, StringComparison.OrdinalIgnoreCase)
                && Enum.TryParse<IngestionMode>(value, ignoreCase: true, out var mode) && Enum.IsDefined(mode))
            {
                return mode;
            }
        }

        return configured;
    }

    private async Task<CatalogIngestionStatus> FinishFailedAsync(
        CatalogIngestionStatus status, Exception ex, BlobRowErrorSink errors, BlobContainerClient errorContainer, BlobClient errorBlob, BlobClient statusBlob)
    {
        LogFailed(logger, status.Blob, ex);
        var failed = status with
        {
            Status = IngestionRunState.Failed,
            Error = ex is OperationCanceledException ? "The run was cancelled (the host is shutting down or the function timed out)." : ex.Message,
            FinishedAt = timeProvider.GetUtcNow(),

            // What is known of a run that stopped: the rows it rejected and the time it took.
            Summary = new IngestionSummary
            {
                File = status.Blob,
                Rejected = errors.Count,
                Duration = timeProvider.GetUtcNow() - status.StartedAt,
                Model = status.Model,
                Adapter = status.Adapter,
                Mode = status.Mode,
            },
        };

        // Best effort with a fresh token: the record of a failure matters most when the run's token has fired.
        try
        {
            failed = failed with { ErrorReport = await UploadErrorsAsync(errors, errorContainer, errorBlob, CancellationToken.None).ConfigureAwait(false) };
            await WriteStatusAsync(statusBlob, failed, CancellationToken.None).ConfigureAwait(false);
        }
        catch (RequestFailedException writeFailure)
        {
            LogStatusWriteFailed(logger, status.Blob, writeFailure);
        }

        return failed;
    }

    private static async Task<string?> UploadErrorsAsync(BlobRowErrorSink errors, BlobContainerClient container, BlobClient target, CancellationToken cancellationToken)
    {
        if (errors.Count > 0)
        {
            await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        else if (!await container.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return await errors.UploadAsync(target, cancellationToken).ConfigureAwait(false)
            ? $"{target.BlobContainerName}/{target.Name}"
            : null;
    }

    private static async Task WriteStatusAsync(BlobClient statusBlob, CatalogIngestionStatus status, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(status, CatalogIngestionStatus.JsonOptions);
        await statusBlob.UploadAsync(new BinaryData(json), new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/json; charset=utf-8" },
        }, cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Catalog {Blob} at ETag {ETag} was already ingested at {FinishedAt}; skipping the re-delivered event")]
    private static partial void LogSkipped(ILogger logger, string blob, string etag, DateTimeOffset? finishedAt);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Ingesting catalog {Blob} at ETag {ETag} in {Mode} mode ({Bytes} bytes)")]
    private static partial void LogStarting(ILogger logger, string blob, string etag, IngestionMode mode, long bytes);

    [LoggerMessage(EventId = 12, Level = LogLevel.Information, Message = "Catalog {Blob} ingested: {RowsRead} rows read, {Embedded} embedded, {Unchanged} unchanged, {Rejected} rejected, {Deleted} deleted")]
    private static partial void LogSucceeded(ILogger logger, string blob, long rowsRead, long embedded, long unchanged, long rejected, long deleted);

    [LoggerMessage(EventId = 13, Level = LogLevel.Error, Message = "Catalog {Blob} failed to ingest")]
    private static partial void LogFailed(ILogger logger, string blob, Exception exception);

    [LoggerMessage(EventId = 15, Level = LogLevel.Warning, Message = "Catalog {Blob} at ETag {ETag} failed {Attempts} times and is not retried until it is uploaded again")]
    private static partial void LogPoisonSkipped(ILogger logger, string blob, string etag, int attempts);

    [LoggerMessage(EventId = 16, Level = LogLevel.Error, Message = "Catalog {Blob} at ETag {ETag} failed on attempt {Attempts}, the last one; it is marked failed for good until it is uploaded again")]
    private static partial void LogPoisoned(ILogger logger, string blob, string etag, int attempts);

    [LoggerMessage(EventId = 14, Level = LogLevel.Error, Message = "Could not record the failed run of catalog {Blob}")]
    private static partial void LogStatusWriteFailed(ILogger logger, string blob, Exception exception);
}
