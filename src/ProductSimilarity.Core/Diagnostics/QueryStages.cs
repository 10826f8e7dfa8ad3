using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace ProductSimilarity.Core.Diagnostics;

/// <summary>The parts of a query that are timed separately (<see cref="QueryStages"/>).</summary>
public enum QueryStage
{
    /// <summary>Embedding the query text (a cache hit is nearly free).</summary>
    Embed,

    /// <summary>Bringing the index reader up to the latest commit on the request thread (only when the index refreshes
    /// on every read; a background refresh keeps this at zero).</summary>
    Refresh,

    /// <summary>Loading a segment's vectors, or a queried term's postings and a field's norms, into memory on the request thread.</summary>
    SegmentLoad,

    /// <summary>Bringing the HNSW graph up to the reader's commit on the request thread.</summary>
    GraphSync,

    /// <summary>The vector candidate list (graph or exact scan), including the two stages above when they happen.</summary>
    Vector,

    /// <summary>The keyword (BM25) candidate list.</summary>
    Keyword,

    /// <summary>Reading products (by id or for a cold-start fallback) from the index.</summary>
    Lookup,
}

/// <summary>
/// The time one query spent in each <see cref="QueryStage"/>: collected for the query in flight (an ambient,
/// <see cref="AsyncLocal{T}"/> collector started by <see cref="ProductSimilarityTelemetry.StartQuery"/>), recorded in the
/// <c>psim.query.stage.duration</c> histogram (tags <c>psim.route</c>, <c>psim.stage</c>), and written into the slow-query
/// log line of the HTTP API.
/// </summary>
/// <remarks>
/// Thread-safe: a query may time stages from several threads. Outside a query <see cref="Time"/> costs one
/// <see cref="AsyncLocal{T}"/> read and records nothing.
/// </remarks>
public sealed class QueryStages
{
    /// <summary>The histogram of stage durations.</summary>
    public const string StageDurationMetric = "psim.query.stage.duration";

    /// <summary>Tag: the stage (<see cref="QueryStage"/> in lower case with dashes, e.g. <c>graph-sync</c>).</summary>
    public const string StageTag = "psim.stage";

    private static readonly AsyncLocal<QueryStages?> CurrentQuery = new();
    private static readonly string[] Names = [.. Enum.GetValues<QueryStage>().Select(Name)];
    private static readonly Histogram<double> StageDuration = ProductSimilarityTelemetry.Meter.CreateHistogram<double>(
        StageDurationMetric, "s", "Time one query spent in one stage, by route and stage.");

    private readonly long[] _ticks = new long[Names.Length];
    private readonly string _route;

    private QueryStages(string route) => _route = route;

    /// <summary>The collector of the query in flight on this async flow, or null.</summary>
    public static QueryStages? Current => CurrentQuery.Value;

    /// <summary>Starts collecting for a new query on this async flow (and the calls it makes).</summary>
    /// <param name="route">The route, for the histogram tag.</param>
    /// <returns>The collector.</returns>
    internal static QueryStages Begin(string route)
    {
        var stages = new QueryStages(route);
        CurrentQuery.Value = stages;
        return stages;
    }

    /// <summary>Stops collecting on this async flow.</summary>
    internal static void End(QueryStages stages)
    {
        if (ReferenceEquals(CurrentQuery.Value, stages))
        {
            CurrentQuery.Value = null;
        }
    }

    /// <summary>Times <paramref name="stage"/> until the returned value is disposed; a no-op outside a query.</summary>
    /// <param name="stage">The stage.</param>
    /// <returns>The timer; dispose it when the stage ends.</returns>
    public static Timer Time(QueryStage stage) => new(CurrentQuery.Value, stage);

    /// <summary>The time spent in <paramref name="stage"/> so far.</summary>
    public TimeSpan this[QueryStage stage] => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _ticks[(int)stage]));

    /// <summary>Adds <paramref name="elapsed"/> to <paramref name="stage"/> (and to the histogram).</summary>
    /// <param name="stage">The stage.</param>
    /// <param name="elapsed">The time, in <see cref="Stopwatch"/> ticks.</param>
    public void Add(QueryStage stage, long elapsed)
    {
        Interlocked.Add(ref _ticks[(int)stage], elapsed);
        StageDuration.Record(
            Stopwatch.GetElapsedTime(0, elapsed).TotalSeconds,
            new KeyValuePair<string, object?>(ProductSimilarityTelemetry.RouteTag, _route),
            new KeyValuePair<string, object?>(StageTag, Names[(int)stage]));
    }

    /// <summary>The stages that took any time, as <c>embed 3.1 ms, vector 12.0 ms</c>; <c>none</c> when none did.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        for (int i = 0; i < _ticks.Length; i++)
        {
            long ticks = Interlocked.Read(ref _ticks[i]);
            if (ticks > 0)
            {
                text.Append(text.Length > 0 ? ", " : string.Empty)
                    .Append(Names[i]).Append(' ')
                    .Append(Stopwatch.GetElapsedTime(0, ticks).TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture)).Append(" ms");
            }
        }

        return text.Length == 0 ? "none" : text.ToString();
    }

    private static string Name(QueryStage stage) => stage switch
    {
        QueryStage.SegmentLoad => "segment-load",
        QueryStage.GraphSync => "graph-sync",
        _ => stage.ToString().ToLowerInvariant(),
    };

    /// <summary>Times one stage of the current query; dispose it when the stage ends.</summary>
    public readonly struct Timer : IDisposable
    {
        private readonly QueryStages? _stages;
        private readonly QueryStage _stage;
        private readonly long _started;

        internal Timer(QueryStages? stages, QueryStage stage)
        {
            _stages = stages;
            _stage = stage;
            _started = stages is null ? 0 : Stopwatch.GetTimestamp();
        }

        /// <inheritdoc/>
        public void Dispose() => _stages?.Add(_stage, Stopwatch.GetTimestamp() - _started);
    }
}
