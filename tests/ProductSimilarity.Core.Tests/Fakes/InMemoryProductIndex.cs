using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using ProductSimilarity.Core.Indexing;

namespace ProductSimilarity.Core.Tests.Fakes;

/// <summary>A hand-written in-memory index with commit semantics, vector-only ranking and exact filters.</summary>
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

    public Task<IReadOnlyList<SearchHit>> SearchAsync(ProductQuery query, CancellationToken cancellationToken = default)
    {
        var f = query.Filter;
        var vector = query.Vector ?? throw new InvalidOperationException("the fake ranks by vector only");
        IReadOnlyList<SearchHit> hits = committed.Values
            .Where(p => !query.ExcludeIds.Contains(p.Id))
            .Where(p => p.Product.GroupId is null || !query.ExcludeGroupIds.Contains(p.Product.GroupId))
            .Where(p => f.Category is null || string.Equals(p.Product.Category, f.Category, StringComparison.OrdinalIgnoreCase))
            .Where(p => f.Brand is null || string.Equals(p.Product.Brand, f.Brand, StringComparison.OrdinalIgnoreCase))
            .Where(p => f.MinPrice is null || p.Product.Price >= f.MinPrice)
            .Where(p => f.MaxPrice is null || p.Product.Price <= f.MaxPrice)
            .Where(p => f.InStock is null || p.Product.InStock == f.InStock)
            .Where(p => f.Source is null || p.Product.Source == f.Source)
            .Where(p => f.ExcludeSource is null || p.Product.Source != f.ExcludeSource)
            .Select(p => (p, score: (double)TensorPrimitives.Dot(p.Vector.Span, vector.Span)))
            .OrderByDescending(x => x.score).ThenBy(x => x.p.Id, StringComparer.Ordinal)
            .Take(query.Top)
            .Select((x, i) => new SearchHit(x.p, x.score, x.score, null, i + 1, null))
            .ToList();
        return Task.FromResult(hits);
    }

    private IndexedProduct? Visible(string id) =>
        pending.TryGetValue(id, out var p) ? p : committed.GetValueOrDefault(id);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
