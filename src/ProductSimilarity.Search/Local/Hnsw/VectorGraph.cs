using System.Globalization;
using System.Numerics.Tensors;
using System.Text;
using Lucene.Net.Index;
using ProductSimilarity.Search.Local.Hnsw;

namespace ProductSimilarity.Search.Local;

/// <summary>
/// The HNSW side of <see cref="LocalProductIndex"/>: one graph over the vectors of one Lucene commit, kept in step with
/// the commit a query reads, saved in the index folder and reconciled with Lucene whenever it is loaded.
/// </summary>
/// <remarks>
/// <para><b>Keys.</b> Graph keys are numbers handed out in order; the graph records for each key the product id and a
/// fingerprint of its vector. Lucene doc ids are not used as keys because merges renumber them.</para>
/// <para><b>In step with Lucene.</b> The graph carries the Lucene commit generation it reflects and a query uses it only
/// for a reader of that generation. Bringing it to another generation compares it with the stored vectors of that
/// commit, by product id and vector fingerprint: products gone or re-embedded are removed (tombstoned), new ones added.
/// So a graph loaded from disk, whatever commit it was saved at, never answers for products Lucene does not hold, and
/// a crash at any point leaves at worst an older graph file that the next load reconciles. When no graph file is usable
/// (missing, unreadable, other settings), it is rebuilt from the stored vectors.</para>
/// <para><b>Files.</b> <c>hnsw/graph-{generation}.usearch</c> (USearch's format) and <c>graph-{generation}.keys</c>
/// (a format version, the settings the graph was built with, its scalar kind, the keys, ids and fingerprints, with the
/// graph file's length; a file of another version or other settings is rebuilt from the stored vectors), each written to a temporary name and renamed, the
/// keys file last: a graph without its keys file is never loaded. Older generations are deleted after a save.</para>
/// <para><b>Deletes.</b> Removed products are tombstoned in the graph (USearch keeps the node for routing and skips it in
/// results); when tombstones pass <see cref="HnswSettings.CompactionRatio"/> of the graph it is rebuilt from the live
/// vectors.</para>
/// <para><b>Thread-safety.</b> Thread-safe. Searches share a read lock; bringing the graph to a new generation takes the
/// write lock, and a search that cannot take the read lock at once returns null so the caller searches exactly.</para>
/// <para><b>Who updates it.</b> The writer's commit (<see cref="SyncAfterCommit"/>). For another process's commit: a query
/// that finds the graph behind brings it up to date itself when the change is small (<c>syncOnQuery</c>, the default),
/// or a background refresh does it (<c>syncOnQuery</c> false: queries never update the graph, they search exactly
/// until it is in step).</para>
/// </remarks>
internal sealed class VectorGraph(string folder, HnswSettings settings, bool syncOnQuery = true) : IDisposable
{
    private const string Magic = "PSIMHNSW";
    // 2: the header records the vectors' scalar kind (version 1 graphs held float32 and are rebuilt, never read).
    private const int FormatVersion = 2;
    private const int FilterSample = 1024;

    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly CancellationTokenSource _stopping = new();
    private State? _state;
    private Task? _background;
    private bool _dirty;
    private string? _unavailable;
    private long _answered;
    private long _declined;
    private long _deltaSyncs;
    private long _fullSyncs;
    private int _disposed;

    /// <summary>The settings.</summary>
    public HnswSettings Settings => settings;

    /// <summary>The generation the in-memory graph reflects, or null when none is loaded.</summary>
    public long? Generation => Volatile.Read(ref _state)?.Generation;

    /// <summary>Bytes the in-memory graph uses (native graph and vectors, plus the key tables), 0 when none.</summary>
    public long MemoryBytes
    {
        get
        {
            if (!_lock.TryEnterReadLock(TimeSpan.FromSeconds(10)))
            {
                return 0;
            }

            try
            {
                return _state is { } s ? s.Graph.MemoryBytes + ((long)s.Ids.Length * (8 + 8 + 24)) : 0;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <summary>Why the graph cannot be used in this process (the native library did not load), or null.</summary>
    public string? Unavailable => Volatile.Read(ref _unavailable);

    /// <summary>Queries the graph answered, and queries it left to the exact scan (for tests and diagnostics).</summary>
    internal (long Answered, long Declined) Counts => (Interlocked.Read(ref _answered), Interlocked.Read(ref _declined));

    /// <summary>Commits of this process applied to the graph from the writer's own changes, and by comparing it with every
    /// stored vector (for tests and diagnostics).</summary>
    internal (long FromChanges, long FromStoredVectors) CommitSyncs => (Interlocked.Read(ref _deltaSyncs), Interlocked.Read(ref _fullSyncs));

    /// <summary>Live nodes and tombstones of the in-memory graph, or null.</summary>
    internal (int Nodes, long Tombstones)? Shape => Volatile.Read(ref _state) is { } s ? (s.KeyById.Count, s.Removed) : null;

    /// <summary>The folder of the saved graphs.</summary>
    public string Folder => folder;

    /// <summary>The top <paramref name="k"/> live rows by dot product that pass <paramref name="filter"/>, from the graph;
    /// null when the graph cannot answer this query (too few products, not in step yet, a very selective filter, or the
    /// hits left too few after filtering), and the caller should search exactly.</summary>
    public List<(int Doc, float Score, string Id)>? Search(
        DirectoryReader reader,
        Func<AtomicReader, SegmentVectors> segments,
        ReadOnlySpan<float> query,
        int k,
        in VectorFilter filter,
        CancellationToken cancellationToken)
    {
        if (reader.NumDocs < settings.MinProducts)
        {
            return null;
        }

        var result = TrySearch(reader, segments, query, k, filter, cancellationToken);
        Interlocked.Increment(ref result is null ? ref _declined : ref _answered);
        return result;
    }

    private List<(int Doc, float Score, string Id)>? TrySearch(
        DirectoryReader reader,
        Func<AtomicReader, SegmentVectors> segments,
        ReadOnlySpan<float> query,
        int k,
        in VectorFilter filter,
        CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) != 0 || _unavailable is not null || reader.NumDocs < settings.MinProducts || k <= 0)
        {
            return null;
        }

        // The reader's version identifies its commit without building the commit's file list (IndexCommit) per query.
        long version = reader.Version;
        if (Volatile.Read(ref _state) is not { } current || current.ReaderVersion != version || current.Locations is null)
        {
            if (!syncOnQuery)
            {
                return null;
            }

            using var timer = ProductSimilarity.Core.Diagnostics.QueryStages.Time(ProductSimilarity.Core.Diagnostics.QueryStage.GraphSync);
            if (!TrySync(reader, segments, inline: false, cancellationToken))
            {
                return null;
            }
        }

        if (!_lock.TryEnterReadLock(0))
        {
            return null;
        }

        try
        {
            var state = _state;
            if (state is null || state.ReaderVersion != version || state.Locations is null || state.Graph.Dimensions != query.Length)
            {
                return null;
            }

            return Search(state, query, k, filter);
        }
        catch (HnswUnavailableException)
        {
            // E.g. every USearch thread slot busy: the exact scan answers this one.
            return null;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Brings the graph to the generation of <paramref name="reader"/> now (the writer's commit path), when the
    /// reader holds enough products.</summary>
    /// <param name="reader">The reader of the commit just made.</param>
    /// <param name="segments">The segments' vectors, cached for queries.</param>
    /// <param name="transientSegments">The segments' vectors, loaded without caching them (for a graph no query has used).</param>
    /// <param name="delta">What this process changed since the commit the graph reflects, when it knows; null makes the
    /// graph compare itself with every stored vector.</param>
    /// <param name="cancellationToken">Cancels the sync; the in-memory graph is then dropped.</param>
    /// <remarks>
    /// A graph that no query has searched since it was built (an ingestion) is brought forward from
    /// <paramref name="delta"/> alone: the cost is that of the changes, and no segment vectors are loaded or kept, so
    /// the writer holds the graph and nothing per product besides it. Such a graph learns where its products are in the
    /// segments (the exact scores need them) at the first query. A graph that queries use is reconciled with the stored
    /// vectors, as a query would, so that queries find it ready.
    /// </remarks>
    public void SyncAfterCommit(
        DirectoryReader reader,
        Func<AtomicReader, SegmentVectors> segments,
        Func<AtomicReader, SegmentVectors> transientSegments,
        GraphDelta? delta,
        CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) != 0 || _unavailable is not null || reader.NumDocs < settings.MinProducts)
        {
            return;
        }

        // Already in step: return without the write lock, which would send concurrent searches to the exact scan. (Queries
        // that do not update the graph themselves need it located, too.)
        if (Volatile.Read(ref _state) is { } current && current.ReaderVersion == reader.Version && (current.Locations is not null || syncOnQuery))
        {
            return;
        }

        if (syncOnQuery && delta is not null && TryApplyDelta(reader, delta, cancellationToken))
        {
            Interlocked.Increment(ref _deltaSyncs);
            return;
        }

        Interlocked.Increment(ref _fullSyncs);

        // A graph that answers queries keeps its locations current, and so does one whose queries never update it (they
        // could not locate it); one that only ingests does not build them.
        bool locate = !syncOnQuery || Volatile.Read(ref _state)?.Locations is not null;
        TrySync(reader, locate ? segments : transientSegments, inline: true, cancellationToken, locate);
    }

    /// <summary>Brings the graph to the generation of <paramref name="reader"/> and learns where its products are in the
    /// segments, so that queries find it ready (the background refresh's warm-up), when the reader holds enough products.</summary>
    public void Warm(DirectoryReader reader, Func<AtomicReader, SegmentVectors> segments, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) != 0 || _unavailable is not null || reader.NumDocs < settings.MinProducts)
        {
            return;
        }

        // Already in step and located: return without the write lock, which would send concurrent searches to the exact scan.
        if (Volatile.Read(ref _state) is { } current && current.ReaderVersion == reader.Version && current.Locations is not null)
        {
            return;
        }

        // A server's refresh: leave a core to the queries, which search exactly until the graph is in step.
        TrySync(reader, segments, inline: true, cancellationToken, locate: true, threads: Math.Max(1, Environment.ProcessorCount - 1));
    }

    /// <summary>Applies the writer's own changes to a graph that reflects the commit they were made on and that no query
    /// has located; false (nothing done) when that does not hold or the removals would call for a compaction.</summary>
    private bool TryApplyDelta(DirectoryReader reader, GraphDelta delta, CancellationToken cancellationToken)
    {
        if (_background is { IsCompleted: false })
        {
            return false;
        }

        _lock.EnterWriteLock();
        try
        {
            var state = _state;
            if (state is null || state.Locations is not null || state.Generation != delta.BaseGeneration
                || reader.IndexCommit.Generation != delta.Generation)
            {
                return false;
            }

            var remove = new List<ulong>();
            foreach (var id in delta.Deletes)
            {
                if (state.KeyById.TryGetValue(id, out var key))
                {
                    remove.Add(key);
                }
            }

            var add = new List<(string Id, ReadOnlyMemory<float> Vector, ulong Hash)>(delta.Upserts.Count);
            foreach (var (id, vector) in delta.Upserts)
            {
                if (vector.Length != state.Graph.Dimensions)
                {
                    return false;
                }

                ulong hash = SegmentVectors.Fingerprint(System.Runtime.InteropServices.MemoryMarshal.AsBytes(vector.Span));
                if (state.KeyById.TryGetValue(id, out var key))
                {
                    if (state.Hashes[key] == hash)
                    {
                        continue;
                    }

                    remove.Add(key);
                }

                add.Add((id, vector, hash));
            }

            long tombstones = Math.Max(0, state.Removed + remove.Count - add.Count);
            long nodes = state.KeyById.Count - remove.Count + add.Count + tombstones;
            if (tombstones > settings.CompactionRatio * Math.Max(1, nodes))
            {
                return false;
            }

            Apply(new ApplyPlan(false, remove, add), live: null, reader.IndexCommit.Generation, reader.Version, cancellationToken);
            return true;
        }
        catch (HnswUnavailableException)
        {
            return false;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>
    /// Compares the graph saved for the commit of <paramref name="reader"/> (loaded afresh from disk, not the in-memory
    /// one) with the products Lucene holds in that commit.
    /// </summary>
    public VectorGraphCheck CheckSaved(DirectoryReader reader, Func<AtomicReader, SegmentVectors> segments)
    {
        long generation = reader.IndexCommit.Generation;
        var live = LiveVectors(reader, segments);
        var path = KeysPath(generation);
        if (!File.Exists(path) || live.Count == 0)
        {
            return new VectorGraphCheck(generation, live.Count, Saved: false, GraphProducts: 0, Missing: live.Count, Stale: 0, Extra: 0, SelfFound: 0, SelfChecked: 0);
        }

        using var state = TryLoad(path, DimensionsOf(live));
        if (state is null)
        {
            // Saved but unreadable (truncated, other settings): the next query rebuilds it.
            return new VectorGraphCheck(generation, live.Count, Saved: true, GraphProducts: 0, Missing: live.Count, Stale: 0, Extra: 0, SelfFound: 0, SelfChecked: 0);
        }

        int missing = 0, stale = 0, extra = 0;
        foreach (var (id, row) in live)
        {
            if (!state.KeyById.TryGetValue(id, out var key))
            {
                missing++;
            }
            else if (state.Hashes[key] != row.Segment.Hashes[row.Doc])
            {
                stale++;
            }
        }

        foreach (var id in state.KeyById.Keys)
        {
            if (!live.ContainsKey(id))
            {
                extra++;
            }
        }

        // A sample of products must find themselves among their 10 nearest through the graph: the graph file, not only the
        // key table, is right. (A graph whose keys or vectors are out of step finds almost none.)
        int selfChecked = 0, selfFound = 0;
        var keys = new ulong[10];
        var distances = new float[10];
        int step = Math.Max(1, live.Count / 200);
        int i = 0;
        foreach (var (id, row) in live)
        {
            if (i++ % step != 0 || !state.KeyById.TryGetValue(id, out var key))
            {
                continue;
            }

            selfChecked++;
            var vector = row.Segment.Matrix.AsSpan(row.Doc * row.Segment.Dimensions, row.Segment.Dimensions);
            int found = state.Graph.Search(vector, keys, distances);
            for (int j = 0; j < found; j++)
            {
                if (keys[j] == key)
                {
                    selfFound++;
                    break;
                }
            }
        }

        return new VectorGraphCheck(generation, live.Count, Saved: true, (int)state.Graph.Count, missing, stale, extra, selfFound, selfChecked);
    }

    /// <summary>
    /// The state of the graph for the commit of <paramref name="reader"/>, as a query would find it: the saved graph is
    /// read from disk (not the in-memory one, nor built), so this costs one load of the graph file.
    /// </summary>
    public VectorGraphInfo Describe(DirectoryReader reader, int dimensions)
    {
        long generation = reader.IndexCommit.Generation;
        int products = reader.NumDocs;
        VectorGraphInfo Info(string status, bool inUse, long? graphGeneration = null, long nodes = 0, long tombstones = 0, long memory = 0, long disk = 0)
            => new(status, inUse, products, settings.MinProducts, settings.Connectivity, settings.ExpansionAdd, settings.ExpansionSearch,
                generation, graphGeneration, nodes, tombstones, memory, disk);

        string library = HnswGraph.LibraryVersion();
        string? why = Unavailable ?? (library.StartsWith("unavailable", StringComparison.Ordinal) ? library : null);
        if (why is not null)
        {
            return Info($"exact search: the HNSW library is {why}", inUse: false);
        }

        if (products < settings.MinProducts)
        {
            return Info($"exact search: {products} products, under MinProducts ({settings.MinProducts})", inUse: false);
        }

        var saved = Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "graph-*.keys")
                .Select(path => (Path: path, Generation: long.TryParse(Path.GetFileNameWithoutExtension(path)["graph-".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out long g) ? g : -1))
                .Where(x => x.Generation >= 0)
                .OrderByDescending(x => x.Generation == generation)
                .ThenByDescending(x => x.Generation)
                .ToList()
            : [];
        foreach (var (path, savedGeneration) in saved)
        {
            using var state = dimensions > 0 ? TryLoad(path, dimensions) : null;
            if (state is null)
            {
                continue;
            }

            long disk = new FileInfo(path).Length + new FileInfo(Path.ChangeExtension(path, ".usearch")).Length;
            long memory = state.Graph.MemoryBytes + ((long)state.Ids.Length * (8 + 8 + 24));
            return savedGeneration == generation
                ? Info($"in use: the graph saved for commit {generation}", inUse: true, savedGeneration, state.KeyById.Count, state.Removed, memory, disk)
                : Info($"behind: the graph saved for commit {savedGeneration}; the first query brings it to commit {generation} from the stored vectors", inUse: false, savedGeneration, state.KeyById.Count, state.Removed, memory, disk);
        }

        return Info(
            saved.Count == 0
                ? "not built: the first query builds it from the stored vectors (exact search meanwhile)"
                : "unreadable or built with other settings: the first query rebuilds it (exact search meanwhile)",
            inUse: false);
    }

    /// <inheritdoc/>
    public void Dispose() => Close(save: false);

    /// <summary>Stops a background rebuild (its work is dropped), saves the graph when <paramref name="save"/> and it
    /// changed since it was loaded or saved, and frees it.</summary>
    public void Close(bool save)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping.Cancel();
        try
        {
            _background?.Wait();
        }
        catch (AggregateException)
        {
            // Cancelled or failed: nothing to keep.
        }

        _lock.EnterWriteLock();
        try
        {
            if (save && _dirty && _state is { } state)
            {
                Save(state);
            }

            _state?.Dispose();
            _state = null;
        }
        finally
        {
            _lock.ExitWriteLock();
        }

        _stopping.Dispose();
    }

    // ---- search -----------------------------------------------------------------------------------------------

    private List<(int Doc, float Score, string Id)>? Search(State state, ReadOnlySpan<float> query, int k, in VectorFilter filter)
    {
        var locations = state.Locations!;
        int live = state.KeyById.Count;
        bool attributes = !filter.Filter.IsEmpty || filter.ExcludeGroupIds.Count > 0;
        double fraction = attributes ? EstimateFraction(state, filter) : 1.0;
        if (fraction < settings.MinFilterFraction)
        {
            return null;
        }

        int wanted = (int)Math.Min(live, Math.Ceiling((k + filter.ExcludeIds.Count) / fraction * (attributes ? 1.5 : 1.0)) + 8);
        var heap = new PriorityQueue<(int Doc, string Id), (float Score, string Id)>(k + 1, LocalProductIndex.WorstFirstComparer);
        for (int attempt = 0; attempt < 4; attempt++)
        {
            heap.Clear();
            var keys = new ulong[wanted];
            var distances = new float[wanted];
            int found = state.Graph.Search(query, keys, distances);
            for (int i = 0; i < found; i++)
            {
                if (keys[i] >= (ulong)locations.Length || locations[keys[i]] is not { } at)
                {
                    continue;
                }

                var segment = at.Segment;
                if (!segment.Matches(at.Doc, filter))
                {
                    continue;
                }

                // Exact score from the same matrix the exact scan reads, so fusion sees the same numbers either way.
                float score = TensorPrimitives.Dot(segment.Matrix.AsSpan(at.Doc * segment.Dimensions, segment.Dimensions), query);
                var id = segment.Ids[at.Doc];
                if (heap.Count < k)
                {
                    heap.Enqueue((at.DocBase + at.Doc, id), (score, id));
                }
                else if (heap.TryPeek(out _, out var worst) && LocalProductIndex.WorstFirstComparer.Compare((score, id), worst) > 0)
                {
                    heap.DequeueEnqueue((at.DocBase + at.Doc, id), (score, id));
                }
            }

            if (heap.Count >= k || found < wanted || wanted >= live)
            {
                var result = new (int, float, string)[heap.Count];
                for (int i = result.Length - 1; i >= 0; i--)
                {
                    heap.TryDequeue(out var row, out var priority);
                    result[i] = (row.Doc, priority.Score, row.Id);
                }

                return [.. result];
            }

            wanted = (int)Math.Min(live, (long)wanted * 4);
        }

        return null;
    }

    // The share of live products that pass the filter, from an even sample of the graph's keys.
    private static double EstimateFraction(State state, in VectorFilter filter)
    {
        var locations = state.Locations!;
        int step = Math.Max(1, locations.Length / FilterSample);
        int sampled = 0, passed = 0;
        for (int key = 0; key < locations.Length; key += step)
        {
            if (locations[key] is { } at)
            {
                sampled++;
                if (at.Segment.Matches(at.Doc, filter))
                {
                    passed++;
                }
            }
        }

        return sampled == 0 ? 0 : (double)passed / sampled;
    }

    // ---- sync -------------------------------------------------------------------------------------------------

    // threads: at most this many add to the graph at once (besides settings.Threads); null for every core.
    private bool TrySync(DirectoryReader reader, Func<AtomicReader, SegmentVectors> segments, bool inline, CancellationToken cancellationToken, bool locate = true, int? threads = null)
    {
        if (_background is { IsCompleted: false })
        {
            return false;
        }

        if (inline)
        {
            _lock.EnterWriteLock();
        }
        else if (!_lock.TryEnterWriteLock(0))
        {
            return false;
        }

        try
        {
            // In step and located (or not to be located): nothing to do.
            if (_state?.ReaderVersion == reader.Version && (_state.Locations is not null || !locate))
            {
                return true;
            }

            long generation = reader.IndexCommit.Generation;
            long version = reader.Version;

            var live = LiveVectors(reader, segments);
            int dimensions = DimensionsOf(live);
            if (dimensions == 0)
            {
                return false;
            }

            if (_state is null || _state.Graph.Dimensions != dimensions)
            {
                _state?.Dispose();
                _state = LoadNewest(generation, dimensions);
            }

            var plan = Plan(_state, live);
            if (inline || plan.Changes <= settings.InlineSyncLimit)
            {
                Apply(ToAdds(plan, live), locate ? live : null, generation, version, cancellationToken, threads);
                return true;
            }

            // Too much to do inside a query: do it in the background and save it; queries search exactly meanwhile.
            var stopping = _stopping.Token;
            _background = Task.Run(
                () =>
                {
                    _lock.EnterWriteLock();
                    try
                    {
                        Apply(ToAdds(Plan(_state, live), live), live, generation, version, stopping, threads);
                        Save(_state!);
                        _dirty = false;
                    }
                    finally
                    {
                        _lock.ExitWriteLock();
                    }
                },
                stopping);
            return false;
        }
        catch (HnswUnavailableException ex)
        {
            // No graph in this process (e.g. no native library for this platform): exact search answers every query.
            if (ex.LibraryMissing)
            {
                Volatile.Write(ref _unavailable, ex.Message);
            }

            return false;
        }
        finally
        {
            if (_lock.IsWriteLockHeld)
            {
                _lock.ExitWriteLock();
            }
        }
    }

    private sealed record SyncPlan(bool Rebuild, List<ulong> Remove, List<string> Add)
    {
        public int Changes => Remove.Count + Add.Count;
    }

    // The nodes to remove, and the vectors to add with their fingerprints.
    private sealed record ApplyPlan(bool Rebuild, List<ulong> Remove, List<(string Id, ReadOnlyMemory<float> Vector, ulong Hash)> Add)
    {
        public int Changes => Remove.Count + Add.Count;
    }

    private static ApplyPlan ToAdds(SyncPlan plan, Dictionary<string, Row> live)
        => new(plan.Rebuild, plan.Remove, plan.Add.ConvertAll(id =>
        {
            var row = live[id];
            return (id, (ReadOnlyMemory<float>)row.Segment.Matrix.AsMemory(row.Doc * row.Segment.Dimensions, row.Segment.Dimensions), row.Segment.Hashes[row.Doc]);
        }));

    private SyncPlan Plan(State? state, Dictionary<string, Row> live)
    {
        if (state is null)
        {
            return new SyncPlan(true, [], [.. live.Keys]);
        }

        var remove = new List<ulong>();
        foreach (var (id, key) in state.KeyById)
        {
            if (!live.TryGetValue(id, out var row) || row.Segment.Hashes[row.Doc] != state.Hashes[key])
            {
                remove.Add(key);
            }
        }

        var add = new List<string>();
        foreach (var (id, row) in live)
        {
            if (!state.KeyById.TryGetValue(id, out var key) || row.Segment.Hashes[row.Doc] != state.Hashes[key])
            {
                add.Add(id);
            }
        }

        // Adds reuse removed nodes' slots first (USearch), so tombstones are the removals the adds do not fill.
        long tombstones = Math.Max(0, state.Removed + remove.Count - add.Count);
        long nodes = live.Count + tombstones;
        bool rebuild = tombstones > settings.CompactionRatio * Math.Max(1, nodes);
        return rebuild ? new SyncPlan(true, [], [.. live.Keys]) : new SyncPlan(false, remove, add);
    }

    // Callers hold the write lock. On failure the in-memory graph is dropped (it may be half-updated). With live, the
    // graph learns where each product is in the segments (for searches); without, its locations are left unknown.
    private void Apply(ApplyPlan plan, Dictionary<string, Row>? live, long generation, long version, CancellationToken cancellationToken, int? threads = null)
    {
        try
        {
            int dimensions = plan.Add.Count > 0 ? plan.Add[0].Vector.Length : _state?.Graph.Dimensions ?? (live is null ? 0 : DimensionsOf(live));
            if (plan.Rebuild || _state is null)
            {
                _state?.Dispose();
                _state = null;
                _state = new State(HnswGraph.Create(dimensions, settings));
            }

            var state = _state;
            foreach (var key in plan.Remove)
            {
                state.Graph.Remove(key);
                state.KeyById.Remove(state.Ids[key]!);
                state.Ids[key] = null;
                state.Removed++;
            }

            var added = new (ulong Key, ReadOnlyMemory<float> Vector)[plan.Add.Count];
            state.Grow(state.NextKey + (ulong)plan.Add.Count);
            for (int i = 0; i < plan.Add.Count; i++)
            {
                var (id, vector, hash) = plan.Add[i];
                ulong key = state.NextKey++;
                state.Ids[key] = id;
                state.Hashes[key] = hash;
                state.KeyById[id] = key;
                added[i] = (key, vector);
            }

            state.Graph.Reserve(state.KeyById.Count + state.Removed + 1024);
            Parallel.For(
                0,
                added.Length,
                new ParallelOptions { MaxDegreeOfParallelism = Math.Min(Math.Min(Environment.ProcessorCount, threads ?? int.MaxValue), settings.Threads), CancellationToken = cancellationToken },
                i => state.Graph.Add(added[i].Key, added[i].Vector.Span));

            Location?[]? locations = null;
            if (live is not null)
            {
                locations = new Location?[state.Ids.Length];
                foreach (var (id, row) in live)
                {
                    locations[state.KeyById[id]] = new Location(row.Segment, row.Doc, row.DocBase);
                }
            }

            // USearch reuses a removed node's slot for the next add, so only removals beyond the adds stay tombstones.
            state.Removed = Math.Max(0, state.Removed - added.Length);
            state.Locations = locations;
            state.Generation = generation;
            state.ReaderVersion = version;
            _dirty = _dirty || plan.Changes > 0;
        }
        catch
        {
            _state?.Dispose();
            _state = null;
            throw;
        }
    }

    // Every live row with a vector, by product id.
    private static Dictionary<string, Row> LiveVectors(DirectoryReader reader, Func<AtomicReader, SegmentVectors> segments)
    {
        var live = new Dictionary<string, Row>(reader.NumDocs, StringComparer.Ordinal);
        foreach (var leaf in reader.Leaves)
        {
            var segment = segments(leaf.AtomicReader);
            var liveDocs = leaf.AtomicReader.LiveDocs;
            for (int doc = 0; doc < segment.Count; doc++)
            {
                if (segment.HasVector[doc] && (liveDocs is null || liveDocs.Get(doc)))
                {
                    live[segment.Ids[doc]] = new Row(segment, doc, leaf.DocBase);
                }
            }
        }

        return live;
    }

    private static int DimensionsOf(Dictionary<string, Row> live)
    {
        foreach (var row in live.Values)
        {
            return row.Segment.Dimensions;
        }

        return 0;
    }

    // ---- files ------------------------------------------------------------------------------------------------

    private string GraphPath(long generation) => Path.Combine(folder, $"graph-{generation.ToString(CultureInfo.InvariantCulture)}.usearch");

    private string KeysPath(long generation) => Path.Combine(folder, $"graph-{generation.ToString(CultureInfo.InvariantCulture)}.keys");

    // The saved graph of this generation if readable, else the newest readable one (reconciled by the caller), else null.
    private State? LoadNewest(long generation, int dimensions)
    {
        if (!Directory.Exists(folder))
        {
            return null;
        }

        var saved = Directory.EnumerateFiles(folder, "graph-*.keys")
            .Select(path => (Path: path, Generation: long.TryParse(Path.GetFileNameWithoutExtension(path)["graph-".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out long g) ? g : -1))
            .Where(x => x.Generation >= 0)
            .OrderByDescending(x => x.Generation == generation)
            .ThenByDescending(x => x.Generation);
        foreach (var (path, _) in saved)
        {
            if (TryLoad(path, dimensions) is { } state)
            {
                return state;
            }
        }

        return null;
    }

    private State? TryLoad(string keysPath, int dimensions)
    {
        try
        {
            using var stream = File.OpenRead(keysPath);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            if (reader.ReadString() != Magic || reader.ReadInt32() != FormatVersion)
            {
                return null;
            }

            long generation = reader.ReadInt64();
            int fileDimensions = reader.ReadInt32();
            int connectivity = reader.ReadInt32();
            int expansionAdd = reader.ReadInt32();
            int scalar = reader.ReadInt32();
            long graphLength = reader.ReadInt64();
            ulong nextKey = reader.ReadUInt64();
            long removed = reader.ReadInt64();
            int count = reader.ReadInt32();
            var graphPath = Path.ChangeExtension(keysPath, ".usearch");
            if (fileDimensions != dimensions || connectivity != settings.Connectivity || expansionAdd != settings.ExpansionAdd
                || scalar != (int)settings.Scalar || !File.Exists(graphPath) || new FileInfo(graphPath).Length != graphLength || nextKey > int.MaxValue)
            {
                return null;
            }

            var graph = HnswGraph.Load(graphPath, dimensions, settings);
            var state = new State(graph) { Generation = generation, NextKey = nextKey, Removed = removed };
            state.Grow(nextKey);
            for (int i = 0; i < count; i++)
            {
                ulong key = reader.ReadUInt64();
                string id = reader.ReadString();
                ulong hash = reader.ReadUInt64();
                if (key >= nextKey)
                {
                    state.Dispose();
                    return null;
                }

                state.Ids[key] = id;
                state.Hashes[key] = hash;
                state.KeyById[id] = key;
            }

            if (graph.Count != count)
            {
                state.Dispose();
                return null;
            }

            return state;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or EndOfStreamException or HnswUnavailableException or FormatException)
        {
            return null;
        }
    }

    private void Save(State state)
    {
        try
        {
            Directory.CreateDirectory(folder);
            string graphPath = GraphPath(state.Generation);
            string keysPath = KeysPath(state.Generation);
            string suffix = $".{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
            state.Graph.Save(graphPath + suffix);
            long graphLength = new FileInfo(graphPath + suffix).Length;
            using (var stream = File.Create(keysPath + suffix))
            using (var writer = new BinaryWriter(stream, Encoding.UTF8))
            {
                writer.Write(Magic);
                writer.Write(FormatVersion);
                writer.Write(state.Generation);
                writer.Write(state.Graph.Dimensions);
                writer.Write(settings.Connectivity);
                writer.Write(settings.ExpansionAdd);
                writer.Write((int)settings.Scalar);
                writer.Write(graphLength);
                writer.Write(state.NextKey);
                writer.Write(state.Removed);
                writer.Write(state.KeyById.Count);
                foreach (var (id, key) in state.KeyById)
                {
                    writer.Write(key);
                    writer.Write(id);
                    writer.Write(state.Hashes[key]);
                }

                stream.Flush(flushToDisk: true);
            }

            File.Move(graphPath + suffix, graphPath, overwrite: true);
            File.Move(keysPath + suffix, keysPath, overwrite: true);
            foreach (var old in Directory.EnumerateFiles(folder, "graph-*"))
            {
                string name = Path.GetFileName(old);
                if (!name.StartsWith(Path.GetFileNameWithoutExtension(graphPath) + ".", StringComparison.Ordinal) && !name.EndsWith(".tmp", StringComparison.Ordinal))
                {
                    TryDelete(old);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or HnswUnavailableException)
        {
            // A graph that cannot be saved (read-only folder, full disk) is rebuilt or reconciled by the next process.
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Another process may hold it; the next save tries again.
        }
    }

    private readonly record struct Row(SegmentVectors Segment, int Doc, int DocBase);

    private sealed record Location(SegmentVectors Segment, int Doc, int DocBase);

    private sealed class State(HnswGraph graph) : IDisposable
    {
        public HnswGraph Graph { get; } = graph;

        public long Generation { get; set; } = -1;

        public long ReaderVersion { get; set; } = long.MinValue;

        public ulong NextKey { get; set; }

        public long Removed { get; set; }

        public Dictionary<string, ulong> KeyById { get; } = new(StringComparer.Ordinal);

        public string?[] Ids { get; private set; } = [];

        public ulong[] Hashes { get; private set; } = [];

        /// <summary>Where each key's product is in the segments of the reader the graph reflects; null until a query needs it.</summary>
        public Location?[]? Locations { get; set; }

        public void Grow(ulong size)
        {
            if ((ulong)Ids.Length >= size)
            {
                return;
            }

            int length = (int)Math.Max(size, (ulong)Ids.Length * 3 / 2);
            var ids = Ids;
            var hashes = Hashes;
            Array.Resize(ref ids, length);
            Array.Resize(ref hashes, length);
            Ids = ids;
            Hashes = hashes;
        }

        public void Dispose() => Graph.Dispose();
    }
}

/// <summary>The HNSW state of an index's current commit, for <c>psim info</c>.</summary>
/// <param name="Status">One line: in use, behind, not built, or exact search and why.</param>
/// <param name="InUse">Whether vector queries on this commit use the saved graph as it is.</param>
/// <param name="Products">Live products in the commit.</param>
/// <param name="MinProducts">The configured threshold (<see cref="HnswSettings.MinProducts"/>).</param>
/// <param name="Connectivity">HNSW <c>M</c>.</param>
/// <param name="ExpansionAdd">HNSW <c>efConstruction</c>.</param>
/// <param name="ExpansionSearch">HNSW <c>ef</c>.</param>
/// <param name="CommitGeneration">The Lucene commit generation described.</param>
/// <param name="GraphGeneration">The commit the saved graph reflects, or null when none is readable.</param>
/// <param name="Nodes">Live nodes of the saved graph.</param>
/// <param name="Tombstones">Removed nodes it still holds.</param>
/// <param name="MemoryBytes">Bytes the graph takes in memory once loaded (graph, its vectors, key tables).</param>
/// <param name="DiskBytes">Bytes of its files.</param>
public sealed record VectorGraphInfo(
    string Status,
    bool InUse,
    int Products,
    int MinProducts,
    int Connectivity,
    int ExpansionAdd,
    int ExpansionSearch,
    long CommitGeneration,
    long? GraphGeneration,
    long Nodes,
    long Tombstones,
    long MemoryBytes,
    long DiskBytes);

/// <summary>What one writer changed between the commit it opened on and the commit it made: the HNSW graph of the first
/// becomes that of the second by these changes alone.</summary>
/// <param name="BaseGeneration">The commit generation the writer opened on.</param>
/// <param name="Generation">The generation of the commit it made.</param>
/// <param name="Upserts">Products written, with their vectors.</param>
/// <param name="Deletes">Products deleted (none of them in <paramref name="Upserts"/>).</param>
internal sealed record GraphDelta(
    long BaseGeneration, long Generation, IReadOnlyDictionary<string, ReadOnlyMemory<float>> Upserts, IReadOnlyCollection<string> Deletes);

/// <summary>The result of <see cref="LocalProductIndex.CheckVectorGraph"/>: how the HNSW graph saved for the current
/// Lucene commit compares with the products that commit holds.</summary>
/// <param name="Generation">The Lucene commit generation checked.</param>
/// <param name="LiveProducts">Products with a vector in that commit.</param>
/// <param name="Saved">Whether a graph is saved for that commit.</param>
/// <param name="GraphProducts">Vectors in the saved graph (not counting removed ones).</param>
/// <param name="Missing">Products of the commit that the graph lacks.</param>
/// <param name="Stale">Products whose vector in the graph differs from the stored one.</param>
/// <param name="Extra">Products in the graph that the commit does not hold.</param>
/// <param name="SelfFound">Sampled products that found themselves among their 10 nearest through the graph.</param>
/// <param name="SelfChecked">Products sampled for that.</param>
public sealed record VectorGraphCheck(
    long Generation, int LiveProducts, bool Saved, int GraphProducts, int Missing, int Stale, int Extra, int SelfFound, int SelfChecked)
{
    /// <summary>A saved graph that holds exactly the commit's products with their current vectors, and finds them (HNSW
    /// is approximate, so at least 95% of the sampled products must find themselves).</summary>
    public bool InStep => Saved && Missing == 0 && Stale == 0 && Extra == 0 && GraphProducts == LiveProducts && SelfFound >= 0.95 * SelfChecked;
}
