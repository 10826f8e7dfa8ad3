namespace ProductSimilarity.Core.Indexing;

/// <summary>The one index port. Implementations: the embedded <c>LocalProductIndex</c> and <c>AzureAISearchProductIndex</c>.</summary>
/// <remarks>
/// Implementations must be safe for concurrent readers. Writes (<see cref="UpsertAsync"/>, <see cref="DeleteAsync"/>)
/// become visible and durable after <see cref="CommitAsync"/>; a crash between commits loses only uncommitted writes,
/// never leaves a product twice. Adapters translate store errors into <see cref="ProductIndexException"/>.
/// </remarks>
public interface IProductIndex : IAsyncDisposable
{
    /// <summary>Vector dimensions of the stored embeddings, or null when the index does not exist or has none yet.</summary>
    /// <remarks>A store that must ask a service reads the schema once, asynchronously, and caches the answer (a missing
    /// index included) until <see cref="EnsureCreatedAsync"/> changes it. No implementation does I/O in a property.</remarks>
    ValueTask<int?> GetDimensionsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The embedding model that produced the stored vectors (its id with quantisation and adapter, as the generator reports it),
    /// or null when the store does not record it or nothing has been recorded yet. Read from the last commit; no I/O.
    /// </summary>
    string? EmbeddingModel => null;

    /// <summary>Records the embedding model of the stored vectors; durable with the next <see cref="CommitAsync"/>. Stores that cannot record it ignore the call.</summary>
    Task SetEmbeddingModelAsync(string model, CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <summary>
    /// The fusion learned for this index's catalog by <c>psim eval --tune</c> (method and vector weight), or null when none
    /// was learned or the store does not record it. Read from the last commit; no I/O.
    /// </summary>
    TunedFusion? TunedFusion => null;

    /// <summary>Records (or, with null, forgets) the learned fusion; durable with the next <see cref="CommitAsync"/>. Stores
    /// that cannot record it ignore the call.</summary>
    Task SetTunedFusionAsync(TunedFusion? fusion, CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <summary>Creates the index (schema) when it does not exist, for the given vector dimensions.</summary>
    Task EnsureCreatedAsync(int dimensions, CancellationToken cancellationToken = default);

    /// <summary>Inserts or replaces products by id.</summary>
    Task UpsertAsync(IReadOnlyList<IndexedProduct> products, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces every stored field of products that exist, keeping their stored vectors: the cheap write for a product
    /// whose embedded text did not change (a new price or stock flag). <see cref="IndexedProduct.Vector"/> is ignored and
    /// may be empty. One call for a whole batch; no vector travels to the caller.
    /// </summary>
    /// <returns>The ids that are not in the index (deleted meanwhile); nothing is written for them, so the caller embeds
    /// and upserts them instead.</returns>
    Task<IReadOnlyList<string>> UpdateFieldsAsync(IReadOnlyList<IndexedProduct> products, CancellationToken cancellationToken = default);

    /// <summary>Deletes products by id; unknown ids are ignored. Returns how many were removed (or requested, where the store cannot tell).</summary>
    Task<int> DeleteAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default);

    /// <summary>Makes the writes so far durable and visible.</summary>
    Task CommitAsync(CancellationToken cancellationToken = default);

    /// <summary>Gets one product with its vector, or null.</summary>
    Task<IndexedProduct?> GetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>The stored content hashes for those of <paramref name="ids"/> that exist.</summary>
    Task<IReadOnlyDictionary<string, string>> GetContentHashesAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default);

    /// <summary>Every product id in the index (for full-snapshot ingestion and exports).</summary>
    IAsyncEnumerable<string> GetAllIdsAsync(CancellationToken cancellationToken = default);

    /// <summary>Number of products.</summary>
    Task<long> CountAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Finds the candidates of a query: the vector list and the keyword list, each with its ranker's raw scores. The store
    /// does not fuse or cut them; <see cref="ProductIndexSearch.SearchAsync"/> ranks them in the Core, alike for every store.
    /// </summary>
    /// <remarks>
    /// <para>The vector list is filled when <see cref="ProductQuery.UsesVector"/>: up to <see cref="ProductQuery.CandidatesPerList"/>
    /// products by cosine similarity, best first, score = cosine. The keyword list is filled when
    /// <see cref="ProductQuery.UsesKeyword"/>: up to <see cref="ProductQuery.CandidatesPerList"/> products by BM25 over the
    /// analysed text, best first, score = BM25. Both lists hold only products that pass <see cref="ProductQuery.Admits"/>
    /// (the filter and the exclusions), which the store translates into its own query language.</para>
    /// <para>Ties are broken by id (ordinal, ascending) where the store can, so results are deterministic.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">The query vector's dimensions differ from the index's.</exception>
    Task<CandidateLists> GetCandidatesAsync(ProductQuery query, CancellationToken cancellationToken = default);
}

/// <summary>A fusion learned from a shop's own labelled pairs (<c>psim eval --tune</c>) and stored with its index.</summary>
/// <param name="Method">The fusion method it was learned for.</param>
/// <param name="VectorWeight">The learned vector weight, 0..1.</param>
/// <param name="Queries">How many training queries it was learned on.</param>
/// <remarks>Immutable; thread-safe.</remarks>
public sealed record TunedFusion(FusionMethod Method, double VectorWeight, int Queries)
{
    /// <summary>The commit-data form: <c>method;weight;queries</c> (invariant culture).</summary>
    public string Serialize() => string.Create(
        System.Globalization.CultureInfo.InvariantCulture, $"{Method};{VectorWeight:R};{Queries}");

    /// <summary>Reads <see cref="Serialize"/>'s form; null when <paramref name="value"/> is not in it.</summary>
    /// <param name="value">The stored text.</param>
    public static TunedFusion? Parse(string? value)
    {
        var parts = value?.Split(';');
        if (parts is not { Length: 3 }
            || !Enum.TryParse<FusionMethod>(parts[0], ignoreCase: true, out var method)
            || !double.TryParse(parts[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var weight)
            || weight is < 0 or > 1
            || !int.TryParse(parts[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var queries))
        {
            return null;
        }

        return new TunedFusion(method, weight, queries);
    }

    /// <summary><paramref name="configured"/> with this method and vector weight.</summary>
    /// <param name="configured">The configured fusion (candidate count, RRF k and the rest are kept).</param>
    public FusionOptions ApplyTo(FusionOptions configured)
    {
        ArgumentNullException.ThrowIfNull(configured);
        return configured with { Method = Method, VectorWeight = VectorWeight };
    }
}

/// <summary>A store error translated at the adapter edge, with context.</summary>
public sealed class ProductIndexException(string message, Exception? inner = null) : Exception(message, inner);
