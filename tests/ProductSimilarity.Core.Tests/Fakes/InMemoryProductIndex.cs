using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Ranking;

namespace ProductSimilarity.Core.Tests.Fakes;

/// <summary>A hand-written in-memory index with commit semantics, vector-only candidates and the Core filter predicate.</summary>
internal sealed class InMemoryProductIndex : IProductIndex
{
    private readonly Dictionary<string, IndexedProduct> committed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IndexedProduct?> pending = new(StringComparer.Ordinal);

    public int Commits { get; private set; }

    public int Upserted { get; private set; }

    /// <summary>Throws on the n-th upsert call (1-based), to simulate a crash mid-run.</summary>
    public int FailOnUpsertCall { get; set; }

    private int upsertCalls;

    public int? Dimensions { get; private set; }

    public IReadOnlyCollection<IndexedProduct> Committed => committed.Values;

    public Task EnsureCreatedAsync(int dimensions, CancellationToken cancellationToken = default)
    {
        Dimensions ??= dimensions;
        return Task.CompletedTask;
    }

    public Task UpsertAsync(IReadOnlyList<IndexedProduct> products, CancellationToken cancellationToken = default)
    {
        if (++upsertCalls == FailOnUpsertCall)
        {
            throw new IOException("simulated crash");
        }

        foreach (var p in products)
        {
            pending[p.Id] = p;
            Upserted++;
        }

        return Task.CompletedTask;
    }

    public Task<int> DeleteAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        var n = 0;
        foreach (var id in ids)
        {
            if (Visible(id) is not null)
            {
                n++;
            }

            pending[id] = null;
        }

        return Task.FromResult(n);
    }

    public Task CommitAsync(CancellationToken cancellationToken = default)
    {
        foreach (var (id, p) in pending)
        {
            if (p is null)
            {
                committed.Remove(id);
            }
            else
            {
                committed[id] = p;
            }
        }

        pending.Clear();
        Commits++;
        return Task.CompletedTask;
    }

    /// <summary>Drops uncommitted writes, as a crashed process would.</summary>
    public void Crash()
    {
        pending.Clear();
        upsertCalls = 0;
        FailOnUpsertCall = 0;
    }

    public Task<IndexedProduct?> GetAsync(string id, CancellationToken cancellationToken = default) =>
        Task.FromResult(committed.GetValueOrDefault(id));

    public Task<IReadOnlyDictionary<string, string>> GetContentHashesAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        IReadOnlyDictionary<string, string> result = ids.Where(committed.ContainsKey).Distinct().ToDictionary(id => id, id => committed[id].ContentHash);
        return Task.FromResult(result);
    }

    public async IAsyncEnumerable<string> GetAllIdsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        foreach (var id in committed.Keys.Order(StringComparer.Ordinal).ToList())
        {
            yield return id;
        }
    }

    public Task<long> CountAsync(CancellationToken cancellationToken = default) => Task.FromResult((long)committed.Count);

    /// <summary>Vector candidates only (score = dot product), filtered with the Core's own predicate.</summary>
    public Task<CandidateLists> GetCandidatesAsync(ProductQuery query, CancellationToken cancellationToken = default)
    {
        var vector = query.Vector ?? throw new InvalidOperationException("the fake ranks by vector only");
        IReadOnlyList<ScoredCandidate> candidates = committed.Values
            .Where(p => query.Admits(p.Product))
            .Select(p => new ScoredCandidate(p, TensorPrimitives.Dot(p.Vector.Span, vector.Span)))
            .OrderByDescending(x => x.Score).ThenBy(x => x.Product.Id, StringComparer.Ordinal)
            .Take(query.CandidatesPerList)
            .ToList();
        return Task.FromResult(new CandidateLists(candidates, []));
    }

    private IndexedProduct? Visible(string id) =>
        pending.TryGetValue(id, out var p) ? p : committed.GetValueOrDefault(id);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
