namespace ProductSimilarity.Core.Indexing;

/// <summary>The one index port. Implementations: the embedded <c>LocalProductIndex</c> and <c>AzureAISearchProductIndex</c>.</summary>
/// <remarks>
/// Implementations must be safe for concurrent readers. Writes (<see cref="UpsertAsync"/>, <see cref="DeleteAsync"/>)
/// become visible and durable after <see cref="CommitAsync"/>; a crash between commits loses only uncommitted writes,
/// never leaves a product twice. Adapters translate store errors into <see cref="ProductIndexException"/>.
/// </remarks>
public interface IProductIndex : IAsyncDisposable
{
    /// <summary>Vector dimensions of the stored embeddings, or null when the index is empty and has none yet.</summary>
    int? Dimensions { get; }

    /// <summary>Creates the index (schema) when it does not exist, for the given vector dimensions.</summary>
    Task EnsureCreatedAsync(int dimensions, CancellationToken cancellationToken = default);

    /// <summary>Inserts or replaces products by id.</summary>
    Task UpsertAsync(IReadOnlyList<IndexedProduct> products, CancellationToken cancellationToken = default);

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

/// <summary>A store error translated at the adapter edge, with context.</summary>
public sealed class ProductIndexException(string message, Exception? inner = null) : Exception(message, inner);
