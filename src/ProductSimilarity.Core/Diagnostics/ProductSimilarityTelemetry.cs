using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ProductSimilarity.Core.Diagnostics;

/// <summary>
/// The traces and metrics of ProductSimilarity: one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both
/// named <see cref="Name"/>. Hosts export them (Application Insights in Azure; console or OTLP locally); the names are
/// a contract with the alert rules in <c>infra/</c> and are listed in <c>docs/telemetry.md</c>.
/// </summary>
/// <remarks>
/// Product text, search text and recommendation histories are never put on spans or metrics: only counts, routes,
/// statuses and file names. Thread-safe.
/// </remarks>
public static class ProductSimilarityTelemetry
{
    /// <summary>The name of the activity source and the meter.</summary>
    public const string Name = "ProductSimilarity";

    /// <summary>Span of one catalog ingestion run.</summary>
    public const string IngestActivity = "psim.ingest";

    /// <summary>Span of one embedding batch during ingestion.</summary>
    public const string EmbedBatchActivity = "psim.ingest.embed_batch";

    /// <summary>Span of one index commit during ingestion.</summary>
    public const string CommitActivity = "psim.ingest.commit";

    /// <summary>Span of one query (similar items, search, recommendations); tag <see cref="RouteTag"/>.</summary>
    public const string QueryActivity = "psim.query";

    /// <summary>Tag: the query route (<c>similar</c>, <c>search</c>, <c>recommendations</c>).</summary>
    public const string RouteTag = "psim.route";

    /// <summary>Tag: how an ingestion run ended (<c>succeeded</c>, <c>failed</c>, <c>cancelled</c>).</summary>
    public const string StatusTag = "psim.status";

    /// <summary>Tag: whether a query fell back to another ranking (true/false).</summary>
    public const string FallbackTag = "psim.fallback";

    /// <summary>Counter: catalog rows read; its rate is rows/s.</summary>
    public const string RowsReadMetric = "psim.ingestion.rows";

    /// <summary>Counter: catalog rows rejected (bad input).</summary>
    public const string RowsRejectedMetric = "psim.ingestion.rows.rejected";

    /// <summary>Counter: products embedded.</summary>
    public const string EmbeddedMetric = "psim.ingestion.products.embedded";

    /// <summary>Histogram: rows per second of each finished ingestion run.</summary>
    public const string ThroughputMetric = "psim.ingestion.throughput";

    /// <summary>Counter: ingestion runs, tag <see cref="StatusTag"/>.</summary>
    public const string RunsMetric = "psim.ingestion.runs";

    /// <summary>Histogram: seconds per embedding batch.</summary>
    public const string EmbedBatchDurationMetric = "psim.ingestion.embedding.duration";

    /// <summary>Histogram: seconds per index commit.</summary>
    public const string CommitDurationMetric = "psim.ingestion.commit.duration";

    /// <summary>Histogram: seconds per query, tag <see cref="RouteTag"/>.</summary>
    public const string QueryDurationMetric = "psim.query.duration";

    /// <summary>Histogram: results returned per query, tag <see cref="RouteTag"/>.</summary>
    public const string QueryResultsMetric = "psim.query.results";

    /// <summary>Counter: queries that fell back to another ranking, tag <see cref="RouteTag"/>.</summary>
    public const string QueryFallbackMetric = "psim.query.fallbacks";

    /// <summary>The activity source.</summary>
    public static ActivitySource Source { get; } = new(Name);

    internal static readonly Meter Meter = new(Name);
    private static readonly Counter<long> RowsRead = Meter.CreateCounter<long>(RowsReadMetric, "{row}", "Catalog rows read by ingestion.");
    private static readonly Counter<long> RowsRejected = Meter.CreateCounter<long>(RowsRejectedMetric, "{row}", "Catalog rows rejected by ingestion.");
    private static readonly Counter<long> Embedded = Meter.CreateCounter<long>(EmbeddedMetric, "{product}", "Products embedded by ingestion.");
    private static readonly Histogram<double> Throughput = Meter.CreateHistogram<double>(ThroughputMetric, "{row}/s", "Rows per second of an ingestion run.");
    private static readonly Counter<long> Runs = Meter.CreateCounter<long>(RunsMetric, "{run}", "Ingestion runs by outcome.");
    private static readonly Histogram<double> EmbedBatchDuration = Meter.CreateHistogram<double>(EmbedBatchDurationMetric, "s", "Duration of one embedding batch during ingestion.");
    private static readonly Histogram<double> CommitDuration = Meter.CreateHistogram<double>(CommitDurationMetric, "s", "Duration of one index commit during ingestion.");
    private static readonly Histogram<double> QueryDuration = Meter.CreateHistogram<double>(QueryDurationMetric, "s", "Duration of one query by route.");
    private static readonly Histogram<int> QueryResults = Meter.CreateHistogram<int>(QueryResultsMetric, "{result}", "Results returned by one query.");
    private static readonly Counter<long> QueryFallbacks = Meter.CreateCounter<long>(QueryFallbackMetric, "{query}", "Queries whose list the filter fallback filled.");

    /// <summary>Starts the span of an ingestion run (null when nobody listens).</summary>
    public static Activity? StartIngestion(string fileName, string mode)
    {
        var activity = Source.StartActivity(IngestActivity, ActivityKind.Internal);
        activity?.SetTag("psim.file", Path.GetFileName(fileName));
        activity?.SetTag("psim.mode", mode);
        return activity;
    }

    /// <summary>The last ingestion run of this process, or null before the first one ends.</summary>
    public static IngestionRunRecord? LastIngestion => _lastIngestion;

    private static volatile IngestionRunRecord? _lastIngestion;

    /// <summary>Records a finished ingestion run on its span and in the metrics.</summary>
    public static void IngestionFinished(Activity? activity, string fileName, long rowsRead, long rejected, long embedded, TimeSpan duration)
    {
        _lastIngestion = new IngestionRunRecord(Path.GetFileName(fileName), "succeeded", DateTimeOffset.UtcNow, rowsRead, rejected, null);
        RowsRead.Add(rowsRead);
        RowsRejected.Add(rejected);
        Embedded.Add(embedded);
        if (duration > TimeSpan.Zero)
        {
            Throughput.Record(rowsRead / duration.TotalSeconds);
        }

        Runs.Add(1, new KeyValuePair<string, object?>(StatusTag, "succeeded"));
        if (activity is not null)
        {
            activity.SetTag("psim.rows", rowsRead);
            activity.SetTag("psim.rejected", rejected);
            activity.SetTag("psim.embedded", embedded);
            activity.SetTag(StatusTag, "succeeded");
            activity.SetStatus(ActivityStatusCode.Ok);
        }
    }

    /// <summary>Records a failed or cancelled ingestion run.</summary>
    public static void IngestionFailed(Activity? activity, string fileName, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var status = exception is OperationCanceledException ? "cancelled" : "failed";
        _lastIngestion = new IngestionRunRecord(Path.GetFileName(fileName), status, DateTimeOffset.UtcNow, null, null, exception.GetType().Name);
        Runs.Add(1, new KeyValuePair<string, object?>(StatusTag, status));
        if (activity is not null)
        {
            activity.SetTag(StatusTag, status);
            activity.SetTag("error.type", exception.GetType().FullName);
            activity.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
        }
    }

    /// <summary>Times one embedding batch of <paramref name="count"/> texts: a span and a histogram sample when disposed.</summary>
    public static Measurement EmbedBatch(int count) => new(Source.StartActivity(EmbedBatchActivity)?.SetTag("psim.batch_size", count), EmbedBatchDuration);

    /// <summary>Times one index commit: a span and a histogram sample when disposed.</summary>
    public static Measurement Commit() => new(Source.StartActivity(CommitActivity), CommitDuration);

    /// <summary>Starts timing one query on <paramref name="route"/>; call <see cref="Query.Complete"/> with the result count.</summary>
    public static Query StartQuery(string route) => new(route, Source.StartActivity(QueryActivity)?.SetTag(RouteTag, route));

    /// <summary>A timed operation recorded into one histogram (and its span ended) on dispose.</summary>
    public readonly struct Measurement : IDisposable
    {
        private readonly Activity? _activity;
        private readonly Histogram<double> _histogram;
        private readonly long _started;

        internal Measurement(Activity? activity, Histogram<double> histogram)
        {
            _activity = activity;
            _histogram = histogram;
            _started = Stopwatch.GetTimestamp();
        }

        /// <inheritdoc/>
        public void Dispose()
        {
            _histogram.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds);
            _activity?.Dispose();
        }
    }

    /// <summary>One timed query. Dispose it; call <see cref="Complete"/> first when it succeeded.</summary>
    public sealed class Query : IDisposable
    {
        private readonly string _route;
        private readonly Activity? _activity;
        private readonly long _started = Stopwatch.GetTimestamp();
        private bool _disposed;

        internal Query(string route, Activity? activity)
        {
            _route = route;
            _activity = activity;
            Stages = QueryStages.Begin(route);
        }

        /// <summary>The time spent so far in each stage of this query (embedding, vector and keyword lists...).</summary>
        public QueryStages Stages { get; }

        /// <summary>The time since the query started.</summary>
        public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_started);

        /// <summary>Records the result count (and whether the filter fallback filled the list).</summary>
        public void Complete(int results, bool fallback = false)
        {
            var route = new KeyValuePair<string, object?>(RouteTag, _route);
            QueryResults.Record(results, route);
            if (fallback)
            {
                QueryFallbacks.Add(1, route);
            }

            _activity?.SetTag("psim.results", results);
            _activity?.SetTag(FallbackTag, fallback);
            _activity?.SetStatus(ActivityStatusCode.Ok);
        }

        /// <inheritdoc/>
        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            QueryStages.End(Stages);
            QueryDuration.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds, new KeyValuePair<string, object?>(RouteTag, _route));
            _activity?.Dispose();
        }
    }
}

/// <summary>How an ingestion run ended, as <c>/api/health</c> reports it.</summary>
/// <param name="File">The catalog file or blob name (no folders).</param>
/// <param name="Status"><c>succeeded</c>, <c>failed</c> or <c>cancelled</c>.</param>
/// <param name="FinishedAt">When it ended.</param>
/// <param name="RowsRead">Rows read, when it succeeded.</param>
/// <param name="Rejected">Rows rejected, when it succeeded.</param>
/// <param name="Error">The exception type, when it failed.</param>
public sealed record IngestionRunRecord(string File, string Status, DateTimeOffset FinishedAt, long? RowsRead, long? Rejected, string? Error);
