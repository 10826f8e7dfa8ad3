using ProductSimilarity.Core.Indexing;

namespace ProductSimilarity.Core.Ranking;

/// <summary>One entry of a ranked candidate list: a product and the score its ranker gave it.</summary>
/// <param name="Product">The product.</param>
/// <param name="Score">The ranker's score (cosine for the vector list, BM25 for the keyword list); higher is better.</param>
public readonly record struct ScoredCandidate(IndexedProduct Product, double Score);

/// <summary>
/// Fuses a vector candidate list and a keyword candidate list into one ranking. Shared by every index adapter so that
/// hybrid scores mean the same thing whichever store produced the candidates.
/// </summary>
/// <remarks>
/// Stateless; thread-safe. Each input list is taken as already ranked: position 0 is rank 1. A product that appears
/// more than once in one list keeps its first (best) position. Ties in the fused score are broken by product id
/// (ordinal, ascending), so the output is deterministic.
/// </remarks>
public static class RankFusion
{
    /// <summary>
    /// The final ranking of a query's candidates, for every store: the vector list alone (score = cosine) in
    /// <see cref="RankingMode.Vector"/>, the keyword list alone (score = BM25) in <see cref="RankingMode.Keyword"/>, and
    /// <see cref="Fuse"/> with <see cref="ProductQuery.Fusion"/> in <see cref="RankingMode.Hybrid"/>; cut to
    /// <see cref="ProductQuery.Top"/>.
    /// </summary>
    /// <param name="candidates">The store's candidate lists (see <see cref="IProductIndex.GetCandidatesAsync"/>).</param>
    /// <param name="query">The query the candidates answer.</param>
    /// <returns>At most <see cref="ProductQuery.Top"/> hits, best first.</returns>
    public static IReadOnlyList<SearchHit> Rank(CandidateLists candidates, ProductQuery query)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(query);
        var hits = query.Mode switch
        {
            RankingMode.Vector => FromVector(candidates.Vector),
            RankingMode.Keyword => FromKeyword(candidates.Keyword),
            _ => Fuse(candidates.Vector, candidates.Keyword, query.Fusion, query.CandidateReadableShare),
        };
        return hits.Count <= query.Top ? hits : hits.Take(query.Top).ToList();
    }

    /// <summary>Fuses with the method and parameters in <paramref name="options"/>.</summary>
    /// <param name="vector">The vector list, best first.</param>
    /// <param name="keyword">The keyword list, best first.</param>
    /// <param name="options">Fusion settings.</param>
    /// <param name="candidateReadableShare">
    /// When set (and <see cref="FusionOptions.LeanPerCandidate"/> is on), the share (0..1) of a candidate's text the
    /// embedding model can read: in <see cref="FusionMethod.Weighted"/>, <see cref="FusionMethod.ZScore"/> and
    /// <see cref="FusionMethod.Confidence"/> fusion each candidate's vector weight is scaled by it raised to
    /// <see cref="FusionOptions.UnknownTokenLeanExponent"/>, since a cosine is only as good as the model's reading of
    /// both texts. Called once per distinct candidate.
    /// </param>
    /// <returns>Every product of either list, best first.</returns>
    public static IReadOnlyList<SearchHit> Fuse(
        IReadOnlyList<ScoredCandidate> vector,
        IReadOnlyList<ScoredCandidate> keyword,
        FusionOptions options,
        Func<IndexedProduct, double>? candidateReadableShare = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Func<IndexedProduct, double>? scale = options.LeanPerCandidate && candidateReadableShare is not null
            ? p => Math.Pow(Math.Clamp(candidateReadableShare(p), 0, 1), options.UnknownTokenLeanExponent)
            : null;
        return options.Method switch
        {
            FusionMethod.Rrf => Rrf(vector, keyword, options.RrfK),
            FusionMethod.Weighted => Weighted(vector, keyword, options.VectorWeight, scale),
            FusionMethod.ZScore => Standardized(vector, keyword, options.VectorWeight, perQuery: false, scale),
            FusionMethod.Confidence => Standardized(vector, keyword, options.VectorWeight, perQuery: true, scale),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Method, "Unknown fusion method."),
        };
    }

    /// <summary>Reciprocal rank fusion: <c>score = sum over the lists of 1 / (k + rank)</c>, rank 1-based.</summary>
    /// <param name="vector">The vector list, best first.</param>
    /// <param name="keyword">The keyword list, best first.</param>
    /// <param name="k">The RRF constant (commonly 60); must not be negative.</param>
    /// <returns>Every product of either list, best first.</returns>
    public static IReadOnlyList<SearchHit> Rrf(
        IReadOnlyList<ScoredCandidate> vector,
        IReadOnlyList<ScoredCandidate> keyword,
        int k = 60)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        var merged = Merge(vector, keyword);
        var hits = new List<SearchHit>(merged.Count);
        foreach (var entry in merged.Values)
        {
            double score = 0;
            if (entry.VectorRank is int vr)
            {
                score += 1.0 / (k + vr);
            }

            if (entry.KeywordRank is int kr)
            {
                score += 1.0 / (k + kr);
            }

            hits.Add(entry.ToHit(score));
        }

        return Sort(hits);
    }

    /// <summary>
    /// Weighted fusion: <c>score = w * cosine + (1 - w) * minmax(BM25)</c>. The min-max normalisation runs over the keyword
    /// list; when every BM25 score in it is equal, each present product gets 1. A product missing from a list
    /// contributes 0 for that part.
    /// </summary>
    /// <param name="vector">The vector list (scores are cosine similarities), best first.</param>
    /// <param name="keyword">The keyword list (scores are BM25), best first.</param>
    /// <param name="vectorWeight">The weight <c>w</c> of the cosine part, 0..1.</param>
    /// <param name="candidateScale">When set, each candidate's <c>w</c> is multiplied by it (0..1).</param>
    /// <returns>Every product of either list, best first.</returns>
    public static IReadOnlyList<SearchHit> Weighted(
        IReadOnlyList<ScoredCandidate> vector,
        IReadOnlyList<ScoredCandidate> keyword,
        double vectorWeight = 0.7,
        Func<IndexedProduct, double>? candidateScale = null)
    {
        if (double.IsNaN(vectorWeight) || vectorWeight is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(vectorWeight), vectorWeight, "The vector weight must be between 0 and 1.");
        }

        var merged = Merge(vector, keyword);
        double min = double.PositiveInfinity;
        double max = double.NegativeInfinity;
        foreach (var entry in merged.Values)
        {
            if (entry.KeywordScore is double s)
            {
                min = Math.Min(min, s);
                max = Math.Max(max, s);
            }
        }

        double range = max - min;
        var hits = new List<SearchHit>(merged.Count);
        foreach (var entry in merged.Values)
        {
            double keywordPart = entry.KeywordScore is double s
                ? (range > 0 ? (s - min) / range : 1.0)
                : 0.0;
            double vectorPart = entry.VectorScore ?? 0.0;
            double w = candidateScale is null ? vectorWeight : vectorWeight * candidateScale(entry.Product);
            hits.Add(entry.ToHit((w * vectorPart) + ((1 - w) * keywordPart)));
        }

        return Sort(hits);
    }

    /// <summary>
    /// Standard-score fusion: <c>score = w * z(cosine) + (1 - w) * z(BM25)</c>, each <c>z</c> over its own list
    /// (<c>(s - mean) / sd</c>). A product missing from a list gets that list's lowest standard score, as if it were its
    /// last candidate. With <paramref name="perQuery"/>, <c>w</c> becomes <c>w * gv / (w * gv + (1 - w) * gk)</c>, where
    /// <c>g</c> is the gap between a list's first and second scores in standard deviations; when neither list has a gap,
    /// <c>w</c> stays.
    /// </summary>
    /// <param name="vector">The vector list, best first.</param>
    /// <param name="keyword">The keyword list, best first.</param>
    /// <param name="vectorWeight">The weight <c>w</c> of the vector part, 0..1.</param>
    /// <param name="perQuery">Set the weight per query from the lists' top gaps.</param>
    /// <param name="candidateScale">When set, each candidate's <c>w</c> (after the per-query gap rule) is multiplied by
    /// it (0..1).</param>
    /// <returns>Every product of either list, best first.</returns>
    public static IReadOnlyList<SearchHit> Standardized(
        IReadOnlyList<ScoredCandidate> vector,
        IReadOnlyList<ScoredCandidate> keyword,
        double vectorWeight = 0.5,
        bool perQuery = false,
        Func<IndexedProduct, double>? candidateScale = null)
    {
        if (double.IsNaN(vectorWeight) || vectorWeight is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(vectorWeight), vectorWeight, "The vector weight must be between 0 and 1.");
        }

        var merged = Merge(vector, keyword);
        var v = Moments(vector);
        var k = Moments(keyword);
        double w = vectorWeight;
        if (perQuery)
        {
            double gv = vectorWeight * v.Gap;
            double gk = (1 - vectorWeight) * k.Gap;
            if (gv + gk > 0)
            {
                w = gv / (gv + gk);
            }
        }

        var hits = new List<SearchHit>(merged.Count);
        foreach (var entry in merged.Values)
        {
            double zv = entry.VectorScore is double sv ? v.Z(sv) : v.MinZ;
            double zk = entry.KeywordScore is double sk ? k.Z(sk) : k.MinZ;
            double we = candidateScale is null ? w : w * candidateScale(entry.Product);
            hits.Add(entry.ToHit((we * zv) + ((1 - we) * zk)));
        }

        return Sort(hits);
    }

    /// <summary>Turns a single ranked vector list into hits whose score is the cosine similarity.</summary>
    /// <param name="vector">The vector list, best first.</param>
    /// <returns>The hits in input order (duplicates dropped).</returns>
    public static IReadOnlyList<SearchHit> FromVector(IReadOnlyList<ScoredCandidate> vector)
        => Merge(vector, []).Values.Select(e => e.ToHit(e.VectorScore!.Value)).ToList();

    /// <summary>Turns a single ranked keyword list into hits whose score is the BM25 score.</summary>
    /// <param name="keyword">The keyword list, best first.</param>
    /// <returns>The hits in input order (duplicates dropped).</returns>
    public static IReadOnlyList<SearchHit> FromKeyword(IReadOnlyList<ScoredCandidate> keyword)
        => Merge([], keyword).Values.Select(e => e.ToHit(e.KeywordScore!.Value)).ToList();

    // Insertion-ordered (Dictionary keeps insertion order while nothing is removed), keyed by id.
    private static Dictionary<string, Entry> Merge(IReadOnlyList<ScoredCandidate> vector, IReadOnlyList<ScoredCandidate> keyword)
    {
        ArgumentNullException.ThrowIfNull(vector);
        ArgumentNullException.ThrowIfNull(keyword);
        var merged = new Dictionary<string, Entry>(vector.Count + keyword.Count, StringComparer.Ordinal);
        for (int i = 0; i < vector.Count; i++)
        {
            var c = vector[i];
            if (!merged.ContainsKey(c.Product.Id))
            {
                merged[c.Product.Id] = new Entry(c.Product) { VectorScore = c.Score, VectorRank = i + 1 };
            }
        }

        for (int i = 0; i < keyword.Count; i++)
        {
            var c = keyword[i];
            if (!merged.TryGetValue(c.Product.Id, out var entry))
            {
                merged[c.Product.Id] = new Entry(c.Product) { KeywordScore = c.Score, KeywordRank = i + 1 };
            }
            else if (entry.KeywordRank is null)
            {
                entry.KeywordScore = c.Score;
                entry.KeywordRank = i + 1;
            }
        }

        return merged;
    }

    private static List<SearchHit> Sort(List<SearchHit> hits)
    {
        hits.Sort(static (a, b) =>
        {
            int byScore = b.Score.CompareTo(a.Score);
            return byScore != 0 ? byScore : string.CompareOrdinal(a.Product.Id, b.Product.Id);
        });
        return hits;
    }

    private static ListMoments Moments(IReadOnlyList<ScoredCandidate> list)
    {
        if (list.Count == 0)
        {
            return new ListMoments(0, 1, 0, 0);
        }

        double mean = 0;
        double min = double.PositiveInfinity;
        foreach (var c in list)
        {
            mean += c.Score;
            min = Math.Min(min, c.Score);
        }

        mean /= list.Count;
        double variance = 0;
        foreach (var c in list)
        {
            variance += (c.Score - mean) * (c.Score - mean);
        }

        double sd = Math.Sqrt(variance / list.Count);
        if (sd <= 0 || double.IsNaN(sd))
        {
            // All scores equal (or one candidate): being in the list still counts, one unit above being absent from it.
            return new ListMoments(mean, 1, -1, 0);
        }

        double gap = list.Count >= 2 ? Math.Max(0, (list[0].Score - list[1].Score) / sd) : 0;
        return new ListMoments(mean, sd, (min - mean) / sd, gap);
    }

    private readonly record struct ListMoments(double Mean, double Sd, double MinZ, double Gap)
    {
        public double Z(double score) => (score - Mean) / Sd;
    }

    private sealed class Entry(IndexedProduct product)
    {
        public IndexedProduct Product { get; } = product;

        public double? VectorScore { get; init; }

        public int? VectorRank { get; init; }

        public double? KeywordScore { get; set; }

        public int? KeywordRank { get; set; }

        public SearchHit ToHit(double score) => new(Product, score, VectorScore, KeywordScore, VectorRank, KeywordRank);
    }
}
