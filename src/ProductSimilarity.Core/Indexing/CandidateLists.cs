using ProductSimilarity.Core.Ranking;

namespace ProductSimilarity.Core.Indexing;

/// <summary>
/// What an <see cref="IProductIndex"/> answers to a query: the vector candidate list and the keyword candidate list,
/// each best first, with the raw scores of its ranker. <see cref="RankFusion.Rank"/> turns them into the final ranking,
/// the same way for every store.
/// </summary>
/// <param name="Vector">Cosine similarities (vectors are unit length), best first; empty when the query has no vector side.</param>
/// <param name="Keyword">BM25 scores, best first; empty when the query has no keyword side.</param>
/// <remarks>
/// A store whose hits come with their documents (Azure AI Search) fills <see cref="ScoredCandidate.Product"/>; a store that
/// ranks from ids held in memory (the local index) leaves it null and sets <see cref="Products"/>, so that stored fields are
/// read only for the results the ranking keeps. Immutable; thread-safe as far as <see cref="Products"/> is.
/// </remarks>
public sealed record CandidateLists(IReadOnlyList<ScoredCandidate> Vector, IReadOnlyList<ScoredCandidate> Keyword)
{
    /// <summary>No candidates on either side.</summary>
    public static CandidateLists Empty { get; } = new([], []);

    /// <summary>
    /// Reads the products of candidates that came without them (<see cref="ScoredCandidate.Product"/> null); null when
    /// every candidate carries its product.
    /// </summary>
    public ICandidateProducts? Products { get; init; }
}

/// <summary>
/// Reads the stored products of a query's candidates on demand, from the same store state the candidates came from
/// where it can (a product deleted or replaced since is read as it is now, or not at all).
/// </summary>
/// <remarks>Implementations must be thread-safe.</remarks>
public interface ICandidateProducts
{
    /// <summary>
    /// The products of <paramref name="ids"/> (with their vectors, as <see cref="IProductIndex.GetAsync"/> gives them), in
    /// the same order; null for an id the store no longer holds.
    /// </summary>
    /// <param name="ids">Candidate ids.</param>
    IReadOnlyList<IndexedProduct?> Read(IReadOnlyList<string> ids);

    /// <summary>
    /// The unknown-token shares recorded at ingest (<see cref="IndexedProduct.UnknownTokenShare"/>) of
    /// <paramref name="ids"/>, in the same order, without reading the products; null for an id with none recorded (or
    /// one the store no longer holds). By default none is known, and the per-candidate lean reads the product.
    /// </summary>
    /// <param name="ids">Candidate ids.</param>
    IReadOnlyList<double?> UnknownTokenShares(IReadOnlyList<string> ids) => new double?[ids.Count];
}
