using Microsoft.Extensions.AI;

namespace ProductSimilarity.Core.Embeddings;

/// <summary>
/// Keeps the embeddings of recent search queries (calls marked by <see cref="EmbeddingInput.QueryOptions"/>), so a
/// popular search does not run the model again. At most <see cref="Capacity"/> entries; the least recently used one goes
/// first. Keyed by the model id the inner generator reports (<see cref="EmbeddingGeneratorMetadata.DefaultModelId"/>, or
/// the one the options name), the requested dimensions and the exact text, so two models never share an entry.
/// Product (passage) texts and calls with other options pass straight through.
/// </summary>
/// <remarks>Thread-safe. Two concurrent misses on the same text both run the model; the second result is kept.</remarks>
public sealed class QueryEmbeddingCache : DelegatingEmbeddingGenerator<string, Embedding<float>>
{
    private readonly Lock _gate = new();
    private readonly Dictionary<Key, LinkedListNode<Entry>> _entries = [];
    private readonly LinkedList<Entry> _recency = [];
    private readonly string _modelId;
    private long _hits;
    private long _misses;

    /// <summary>Wraps <paramref name="inner"/> with a cache of <paramref name="capacity"/> query embeddings.</summary>
    /// <param name="inner">The generator that embeds what the cache does not hold.</param>
    /// <param name="capacity">The most entries kept; at least 1.</param>
    public QueryEmbeddingCache(IEmbeddingGenerator<string, Embedding<float>> inner, int capacity)
        : base(inner)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _modelId = inner.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelId ?? inner.GetType().FullName ?? "unknown";
    }

    /// <summary>The most entries kept.</summary>
    public int Capacity { get; }

    /// <summary>Entries held now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Query texts answered from the cache, and query texts that ran the model, since start.</summary>
    public (long Hits, long Misses) Counts => (Interlocked.Read(ref _hits), Interlocked.Read(ref _misses));

    /// <inheritdoc/>
    public override async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (!Cacheable(options))
        {
            return await base.GenerateAsync(values, options, cancellationToken).ConfigureAwait(false);
        }

        var texts = values as IReadOnlyList<string> ?? [.. values];
        var keys = new Key[texts.Count];
        var found = new Embedding<float>?[texts.Count];
        var missing = new List<int>();
        lock (_gate)
        {
            for (int i = 0; i < texts.Count; i++)
            {
                keys[i] = new Key(options?.ModelId ?? _modelId, options?.Dimensions, texts[i]);
                if (_entries.TryGetValue(keys[i], out var node))
                {
                    _recency.Remove(node);
                    _recency.AddFirst(node);
                    found[i] = node.Value.Embedding;
                }
                else
                {
                    missing.Add(i);
                }
            }
        }

        Interlocked.Add(ref _hits, texts.Count - missing.Count);
        Interlocked.Add(ref _misses, missing.Count);
        if (missing.Count > 0)
        {
            var generated = await base.GenerateAsync([.. missing.Select(i => texts[i])], options, cancellationToken).ConfigureAwait(false);
            if (generated.Count != missing.Count)
            {
                throw new InvalidOperationException($"The embedding generator returned {generated.Count} embeddings for {missing.Count} texts.");
            }

            lock (_gate)
            {
                for (int j = 0; j < missing.Count; j++)
                {
                    int i = missing[j];
                    found[i] = generated[j];
                    Store(keys[i], generated[j]);
                }
            }
        }

        // Each caller gets its own Embedding object around the shared (read-only) vector.
        return new GeneratedEmbeddings<Embedding<float>>(found.Select(e => new Embedding<float>(e!.Vector) { ModelId = e.ModelId, CreatedAt = e.CreatedAt }));
    }

    /// <inheritdoc/>
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType == typeof(QueryEmbeddingCache) ? this : base.GetService(serviceType, serviceKey);
    }

    // Only query texts with no option beyond the query mark, a model id and dimensions (which are in the key).
    private static bool Cacheable(EmbeddingGenerationOptions? options) =>
        EmbeddingInput.IsQuery(options) && options!.AdditionalProperties!.Count == 1 && options.RawRepresentationFactory is null;

    // Callers hold _gate.
    private void Store(Key key, Embedding<float> embedding)
    {
        if (_entries.TryGetValue(key, out var existing))
        {
            _recency.Remove(existing);
            _entries.Remove(key);
        }

        _entries[key] = _recency.AddFirst(new Entry(key, embedding));
        while (_entries.Count > Capacity && _recency.Last is { } oldest)
        {
            _recency.RemoveLast();
            _entries.Remove(oldest.Value.Key);
        }
    }

    private readonly record struct Key(string ModelId, int? Dimensions, string Text);

    private sealed record Entry(Key Key, Embedding<float> Embedding);
}
