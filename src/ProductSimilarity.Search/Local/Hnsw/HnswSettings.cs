using ProductSimilarity.Core.Configuration;

namespace ProductSimilarity.Search.Local;

/// <summary>
/// When and how <see cref="LocalProductIndex"/> answers vector queries from an HNSW graph instead of an exact scan.
/// </summary>
/// <remarks>
/// Immutable; thread-safe. Exact search stays below <see cref="MinProducts"/>: it is exact, needs no extra memory and is
/// fast enough there. The defaults were chosen by measured recall@10 against exact search (see docs/configuration.md).
/// </remarks>
public sealed record HnswSettings
{
    /// <summary>The defaults.</summary>
    public static HnswSettings Default { get; } = new();

    /// <summary>
    /// The graph is used once the index holds at least this many products with vectors; below it, search is exact.
    /// 0 always uses the graph; <see cref="int.MaxValue"/> never does.
    /// </summary>
    public int MinProducts { get; init; } = 50_000;

    /// <summary>Links per node (HNSW <c>M</c>): more raise recall and memory.</summary>
    public int Connectivity { get; init; } = 16;

    /// <summary>Candidate list size while inserting (<c>efConstruction</c>): more build a better graph, slower. 64 inserts
    /// about twice as fast as 128 for a recall@10 lower by about 0.002 at 100,000 products (docs/configuration.md).</summary>
    public int ExpansionAdd { get; init; } = 64;

    /// <summary>Candidate list size while searching (<c>ef</c>): more raise recall, slower. At least the number of
    /// candidates asked for is always used.</summary>
    public int ExpansionSearch { get; init; } = 128;

    /// <summary>
    /// A filter that the sampled products pass less often than this goes to exact search (which applies the filter
    /// before scoring); above it the graph is searched with oversampling and the hits filtered.
    /// </summary>
    public double MinFilterFraction { get; init; } = 0.02;

    /// <summary>When removed (tombstoned) nodes exceed this share of the graph, it is rebuilt from the live vectors.</summary>
    public double CompactionRatio { get; init; } = 0.2;

    /// <summary>
    /// A query that finds the graph behind the index by at most this many changed vectors brings it up to date itself;
    /// more (another process wrote a large batch, or no saved graph was found) are applied in the background while
    /// queries use exact search. Commits of this process always update the graph at once.
    /// </summary>
    public int InlineSyncLimit { get; init; } = 5_000;

    /// <summary>
    /// How the graph stores its copy of each vector. The graph only picks candidates: their scores always come from the
    /// exact float32 vectors, so a smaller kind costs little recall and saves memory, disk and insert time. A change
    /// rebuilds the saved graph.
    /// </summary>
    public HnswScalar Scalar { get; init; } = HnswScalar.F16;

    /// <summary>Concurrent graph searches; a search that finds every slot busy uses exact search.</summary>
    public int Threads { get; init; } = Math.Max(16, Environment.ProcessorCount * 4);
}
