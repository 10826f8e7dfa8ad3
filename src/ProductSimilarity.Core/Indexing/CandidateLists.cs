using ProductSimilarity.Core.Ranking;

namespace ProductSimilarity.Core.Indexing;

/// <summary>
/// What an <see cref="IProductIndex"/> answers to a query: the vector candidate list and the keyword candidate list,
/// each best first, with the raw scores of its ranker. <see cref="RankFusion.Rank"/> turns them into the final ranking,
/// the same way for every store.
/// </summary>
/// <param name="Vector">Cosine similarities (vectors are unit length), best first; empty when the query has no vector side.</param>
/// <param name="Keyword">BM25 scores, best first; empty when the query has no keyword side.</param>
/// <remarks>Immutable; thread-safe.</remarks>
public sealed record CandidateLists(IReadOnlyList<ScoredCandidate> Vector, IReadOnlyList<ScoredCandidate> Keyword)
{
    /// <summary>No candidates on either side.</summary>
    public static CandidateLists Empty { get; } = new([], []);
}
