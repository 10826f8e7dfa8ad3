using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Configuration;

namespace ProductSimilarity.Core.Ingestion;

/// <summary>What one ingestion run did.</summary>
public sealed record IngestionSummary
{
    /// <summary>The catalog file or blob name.</summary>
    public required string File { get; init; }

    /// <summary>Data rows read (good and rejected).</summary>
    public long RowsRead { get; init; }

    /// <summary>Products embedded and written (new or changed).</summary>
    public long Embedded { get; init; }

    /// <summary>Products whose content hash matched the index, so were not re-embedded.</summary>
    public long Unchanged { get; init; }

    /// <summary>Products whose stored fields changed (price, stock...) but whose embedded text did not: rewritten with the stored vector.</summary>
    public long Updated { get; init; }

    /// <summary>Rows rejected (see the error report).</summary>
    public long Rejected { get; init; }

    /// <summary>Problems in kept rows, such as an invalid GTIN left out (in the error report with <c>"severity":"warning"</c>).</summary>
    public long Warnings { get; init; }

    /// <summary>Products removed (the <c>deleted</c> column, or missing from a snapshot).</summary>
    public long Deleted { get; init; }

    /// <summary>Wall-clock duration.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>The embedding model id.</summary>
    public string? Model { get; init; }

    /// <summary>The adapter applied on top of the model, if any.</summary>
    public string? Adapter { get; init; }

    /// <summary>The ingestion mode used.</summary>
    public IngestionMode Mode { get; init; }
}

/// <summary>Progress reported during ingestion.</summary>
/// <param name="RowsRead">Rows read so far.</param>
/// <param name="Embedded">Products embedded so far.</param>
/// <param name="Unchanged">Products skipped as unchanged so far.</param>
/// <param name="Rejected">Rows rejected so far.</param>
/// <param name="BytesRead">Bytes of the (compressed) input consumed so far, when known.</param>
/// <param name="TotalBytes">Input size, when known.</param>
public readonly record struct IngestionProgress(long RowsRead, long Embedded, long Unchanged, long Rejected, long? BytesRead, long? TotalBytes);

/// <summary>Receives rejected rows (a JSON Lines file locally, a blob in the cloud).</summary>
public interface IRowErrorSink
{
    /// <summary>Records one rejected row.</summary>
    ValueTask WriteAsync(RowError error, CancellationToken cancellationToken = default);
}
