using System.Collections.Concurrent;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Ranking;

namespace ProductSimilarity.Core.Tests.Fakes;

/// <summary>A hand-written in-memory index with commit semantics, vector-only candidates and the Core filter predicate.</summary>
/// <remarks>Thread-safe, as the port requires (the ingestion pipeline reads hashes while it writes): one lock around every member.</remarks>
internal sealed class InMemoryProductIndex : IProductIndex
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, IndexedProduct> _committed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IndexedProduct?> _pending = new(StringComparer.Ordinal);

    public int Commits { get; private set; }

    public int Upserted { get; private set; }

    /// <summary>Throws on the n-th upsert call (1-based), to simulate a crash mid-run.</summary>
    public int FailOnUpsertCall { get; set; }

    private int _upsertCalls;

    public int? Dimensions { get; private set; }

    public TunedFusion? TunedFusion { get; set; }

    public Task SetTunedFusionAsync(TunedFusion? fusion, CancellationToken cancellationToken = default)
    {
        TunedFusion = fusion;
        return Task.CompletedTask;
    }

    public ValueTask<int?> GetDimensionsAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(Dimensions);

    public IReadOnlyCollection<IndexedProduct> Committed
    {
        get
        {
            lock (_gate)
            {
                return [.. _committed.Values];
            }
        }
    }

    public Task EnsureCreatedAsync(int dimensions, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            Dimensions ??= dimensions;
        }

        return Task.CompletedTask;
    }

    public Task UpsertAsync(IReadOnlyList<IndexedProduct> products, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (++_upsertCalls == FailOnUpsertCall)
            {
                throw new IOException("simulated crash");
            }

            foreach (var p in products)
            {
                _pending[p.Id] = p;
                Upserted++;
            }
        }

        return Task.CompletedTask;
    }

    public int Gets { get; private set; }

    /// <summary>Calls of <see cref="GetContentHashesAsync"/> so far.</summary>
    public int HashLookups
    {
        get
        {
            lock (_gate)
            {
                return _hashLookups;
            }
        }
    }

    private int _hashLookups;

    public int FieldUpdateCalls { get; private set; }

    public Task<IReadOnlyList<string>> UpdateFieldsAsync(IReadOnlyList<IndexedProduct> products, CancellationToken cancellationToken = default)
    {
        var missing = new List<string>();
        lock (_gate)
        {
            FieldUpdateCalls++;
            foreach (var p in products)
            {
                if (Visible(p.Id) is { } stored)
                {
                    _pending[p.Id] = p with { Vector = stored.Vector };
                }
                else
                {
                    missing.Add(p.Id);
                }
            }
        }

        return Task.FromResult<IReadOnlyList<string>>(missing);
    }

    public Task<int> DeleteAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        var n = 0;
        lock (_gate)
        {
            foreach (var id in ids)
            {
                if (Visible(id) is not null)
                {
                    n++;
                }

                _pending[id] = null;
            }
        }

        return Task.FromResult(n);
    }

    /// <summary>When set, commits wait for it (an index busy committing); <see cref="CommitStarted"/> says when one does.</summary>
    public Task? CommitGate { get; set; }

    public TaskCompletionSource CommitStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task CommitAsync(CancellationToken cancellationToken = default)
    {
        CommitStarted.TrySetResult();
        if (CommitGate is { } gate)
        {
            await gate.WaitAsync(cancellationToken);
        }

        Commit();
    }

    private void Commit()
    {
        lock (_gate)
        {
            foreach (var (id, p) in _pending)
            {
                if (p is null)
                {
                    _committed.Remove(id);
                }
                else
                {
                    _committed[id] = p;
                }
            }

            _pending.Clear();
            Commits++;
        }
    }

    /// <summary>Drops uncommitted writes, as a crashed process would.</summary>
    public void Crash()
    {
        lock (_gate)
        {
            _pending.Clear();
            _upsertCalls = 0;
            FailOnUpsertCall = 0;
        }
    }

    public Task<IndexedProduct?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            Gets++;
            return Task.FromResult(_committed.GetValueOrDefault(id));
        }
    }

    public Task<IReadOnlyDictionary<string, string>> GetContentHashesAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _hashLookups++;
            IReadOnlyDictionary<string, string> result = ids.Where(_committed.ContainsKey).Distinct().ToDictionary(id => id, id => _committed[id].ContentHash);
            return Task.FromResult(result);
        }
    }

    public async IAsyncEnumerable<string> GetAllIdsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        List<string> ids;
        lock (_gate)
        {
            ids = [.. _committed.Keys.Order(StringComparer.Ordinal)];
        }

        foreach (var id in ids)
        {
            yield return id;
        }
    }

    public Task<long> CountAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult((long)_committed.Count);
        }
    }

    /// <summary>The last query asked for candidates.</summary>
    public ProductQuery? LastQuery { get; private set; }

    /// <summary>Every query asked for candidates, in order.</summary>
    public ConcurrentQueue<ProductQuery> Queries { get; } = new();

    /// <summary>Vector candidates only (score = dot product), filtered with the Core's own predicate.</summary>
    public Task<CandidateLists> GetCandidatesAsync(ProductQuery query, CancellationToken cancellationToken = default)
    {
        LastQuery = query;
        Queries.Enqueue(query);
        var vector = query.Vector ?? throw new InvalidOperationException("the fake ranks by vector only");
        IReadOnlyList<ScoredCandidate> candidates = Committed
            .Where(p => query.Admits(p.Product))
            .Select(p => new ScoredCandidate(p, TensorPrimitives.Dot(p.Vector.Span, vector.Span)))
            .OrderByDescending(x => x.Score).ThenBy(x => x.Id, StringComparer.Ordinal)
            .Take(query.CandidatesPerList)
            .ToList();
        if (IdOnlyCandidates)
        {
            // As the local index does: ids and scores, products read on demand (and counted).
            return Task.FromResult(new CandidateLists([.. candidates.Select(c => new ScoredCandidate(c.Id, c.Score))], []) { Products = new CountingReads(this) });
        }

        return Task.FromResult(new CandidateLists(candidates, []));
    }

    /// <summary>Candidates carry ids and scores only, and products are read through <see cref="CandidateLists.Products"/>.</summary>
    public bool IdOnlyCandidates { get; set; }

    /// <summary>The ids read through <see cref="CandidateLists.Products"/>, in order.</summary>
    public List<string> CandidateReads { get; } = [];

    /// <summary>How many calls read them.</summary>
    public int CandidateReadCalls { get; private set; }

    private sealed class CountingReads(InMemoryProductIndex index) : ICandidateProducts
    {
        public IReadOnlyList<IndexedProduct?> Read(IReadOnlyList<string> ids)
        {
            lock (index._gate)
            {
                index.CandidateReads.AddRange(ids);
                index.CandidateReadCalls++;
                return [.. ids.Select(index._committed.GetValueOrDefault)];
            }
        }
    }

    private IndexedProduct? Visible(string id) =>
        _pending.TryGetValue(id, out var p) ? p : _committed.GetValueOrDefault(id);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
