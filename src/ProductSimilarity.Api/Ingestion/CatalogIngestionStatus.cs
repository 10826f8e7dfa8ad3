using System.Text.Json;
using System.Text.Json.Serialization;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Ingestion;

namespace ProductSimilarity.Api.Ingestion;

/// <summary>State of one ingestion run, as written to the status document.</summary>
public enum IngestionRunState
{
    /// <summary>The run started and has not finished (or its process died).</summary>
    Running,

    /// <summary>The run finished; rejected rows (if any) are in the error report.</summary>
    Succeeded,

    /// <summary>The run stopped on an error; see <see cref="CatalogIngestionStatus.Error"/>.</summary>
    Failed,
}

/// <summary>
/// The status document of one catalog blob, written to <c>catalog-status/{name}.json</c> when a run starts and
/// again when it ends.
/// </summary>
/// <remarks>Immutable; thread-safe.</remarks>
public sealed record CatalogIngestionStatus
{
    /// <summary>The catalog blob name.</summary>
    public required string Blob { get; init; }

    /// <summary>The container the catalog blob is in.</summary>
    public required string Container { get; init; }

    /// <summary>The ETag of the blob version that was read.</summary>
    [JsonPropertyName("etag")]
    public required string ETag { get; init; }

    /// <summary>Running, succeeded or failed.</summary>
    public required IngestionRunState Status { get; init; }

    /// <summary>Why the run failed.</summary>
    public string? Error { get; init; }

    /// <summary>How many runs of this blob version (ETag) have started, this one included; a new upload starts again at 1.</summary>
    public int Attempts { get; init; } = 1;

    /// <summary>
    /// True on a failure that is not retried: the file cannot be read, or it failed
    /// <c>ProductSimilarity:Ingestion:MaxAttempts</c> times. Re-delivered events for this ETag are skipped; upload the
    /// blob again to retry.
    /// </summary>
    public bool Final { get; init; }

    /// <summary>Upsert, or Snapshot (products missing from the file are removed); known when the run starts.</summary>
    public IngestionMode Mode { get; init; }

    /// <summary>The embedding model id; known when the run starts.</summary>
    public string? Model { get; init; }

    /// <summary>The adapter applied on top of the model, if any; known when the run starts.</summary>
    public string? Adapter { get; init; }

    /// <summary>What the run did (counters and duration) once it has ended; null while running. After a failure only the
    /// rejected rows and the duration are known.</summary>
    public IngestionSummary? Summary { get; init; }

    /// <summary><c>container/name</c> of the rejected-row report, when rows were rejected.</summary>
    public string? ErrorReport { get; init; }

    /// <summary>When the run started (UTC).</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>When the run ended (UTC), or null while running.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>JSON settings of status documents: camelCase, enums as camelCase strings, indented, nulls omitted.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };
}

/// <summary>What <see cref="BlobCatalogIngestor.IngestAsync"/> did.</summary>
/// <param name="Status">The status document as written (or as found, when skipped).</param>
/// <param name="Skipped">True when this blob version had already been ingested successfully, so nothing was done.</param>
public sealed record CatalogIngestionResult(CatalogIngestionStatus Status, bool Skipped);
