using ProductSimilarity.Core.Indexing;

namespace ProductSimilarity.Core.Ranking;

/// <summary>
/// One entry of a ranked candidate list: a product id, the score its ranker gave it, and the product itself when the
/// store had it at hand.
/// </summary>
/// <param name="Id">The product id.</param>
/// <param name="Score">The ranker's score (cosine for the vector list, BM25 for the keyword list); higher is better.</param>
/// <remarks>Immutable; thread-safe.</remarks>
public readonly record struct ScoredCandidate(string Id, double Score)
{
    /// <summary>A candidate with its product (a store whose hits come with their documents).</summary>
    /// <param name="product">The product.</param>
    /// <param name="score">The ranker's score.</param>
    public ScoredCandidate(IndexedProduct product, double score)
        : this((product ?? throw new ArgumentNullException(nameof(product))).Id, score)
    {
        Product = product;
    }

    /// <summary>
    /// The product, or null when the store returned only the id; <see cref="CandidateLists.Products"/> then reads it for
    /// the results the ranking keeps.
    /// </summary>
    public IndexedProduct? Product { get; init; }
}

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
    /// <see cref="ProductQuery.Top"/>. In hybrid ranking the fusion runs over the first
    /// <see cref="FusionOptions.CandidateCount"/> of each list (the heads), whatever the store fetched to fill a larger
    /// <see cref="ProductQuery.Top"/>; candidates only in the longer tails follow the fused heads, in their own fused order.
    /// </summary>
    /// <param name="candidates">The store's candidate lists (see <see cref="IProductIndex.GetCandidatesAsync"/>).</param>
    /// <param name="query">The query the candidates answer.</param>
    /// <returns>At most <see cref="ProductQuery.Top"/> hits, best first (fewer when a candidate's product is gone by the
    /// time it is read).</returns>
    public static IReadOnlyList<SearchHit> Rank(CandidateLists candidates, ProductQuery query)
    {
        var ranked = Order(candidates, query);
        return ranked.Hits(0, ranked.Count);
    }

    /// <summary>
    /// The same ranking as <see cref="Rank"/>, cut to <see cref="ProductQuery.Top"/>, with the products read only when
    /// <see cref="RankedCandidates.Hits"/> asks for them: a caller that keeps fewer (group collapsing) reads fewer.
    /// </summary>
    /// <param name="candidates">The store's candidate lists.</param>
    /// <param name="query">The query the candidates answer.</param>
    /// <returns>The ranked candidates.</returns>
    public static RankedCandidates Order(CandidateLists candidates, ProductQuery query)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(query);

        // The heads and the whole lists are fused apart (FuseHeads): a product read for one is not read again.
        var products = candidates.Products is { } store ? new ReadOnce(store) : null;
        var entries = query.Mode switch
        {
            RankingMode.Vector => Scored(Merge(candidates.Vector, []), static e => e.VectorScore!.Value),
            RankingMode.Keyword => Scored(Merge([], candidates.Keyword), static e => e.KeywordScore!.Value),
            _ => FuseHeads(candidates.Vector, candidates.Keyword, query.Fusion, new Lean(query.CandidateReadableShare, query.CandidateReadableShareOfRecorded), products),
        };
        if (entries.Count > query.Top)
        {
            entries.RemoveRange(query.Top, entries.Count - query.Top);
        }

        return new RankedCandidates(entries, products);
    }

    // The fused heads, then whatever only the tails hold (so a query with a large Top still gets Top hits).
    private static List<Entry> FuseHeads(
        IReadOnlyList<ScoredCandidate> vector,
        IReadOnlyList<ScoredCandidate> keyword,
        FusionOptions options,
        Lean lean,
        ICandidateProducts? products)
    {
        var head = Math.Max(1, options.CandidateCount);
        if (vector.Count <= head && keyword.Count <= head)
        {
            return FuseEntries(vector, keyword, options, lean, products);
        }

        var fused = FuseEntries(Head(vector, head), Head(keyword, head), options, lean, products);
        var seen = fused.Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
        fused.AddRange(FuseEntries(vector, keyword, options, lean, products).Where(e => !seen.Contains(e.Id)));
        return fused;
    }

    private static IReadOnlyList<ScoredCandidate> Head(IReadOnlyList<ScoredCandidate> list, int count)
        => list.Count <= count ? list : list.Take(count).ToList();

    /// <summary>Fuses with the method and parameters in <paramref name="options"/>.</summary>
    /// <param name="vector">The vector list, best first; each candidate with its product.</param>
    /// <param name="keyword">The keyword list, best first; each candidate with its product.</param>
    /// <param name="options">Fusion settings.</param>
    /// <param name="candidateReadableShare">
    /// When set (and <see cref="FusionOptions.LeanPerCandidate"/> is on), the share (0..1) of a candidate's text the
    /// embedding model can read: in <see cref="FusionMethod.Weighted"/>, <see cref="FusionMethod.ZScore"/> and
    /// <see cref="FusionMethod.Confidence"/> fusion each candidate's vector weight is scaled by it raised to
    /// <see cref="FusionOptions.UnknownTokenLeanExponent"/>, since a cosine is only as good as the model's reading of
    /// both texts. Called once per distinct candidate.
    /// </param>
    /// <returns>Every product of either list, best first.</returns>
    /// <exception cref="ArgumentException">A candidate has no product (use <see cref="Rank"/> for such lists).</exception>
    public static IReadOnlyList<SearchHit> Fuse(
        IReadOnlyList<ScoredCandidate> vector,
        IReadOnlyList<ScoredCandidate> keyword,
        FusionOptions options,
        Func<IndexedProduct, double>? candidateReadableShare = null)
        => ToHits(FuseEntries(vector, keyword, options, new Lean(candidateReadableShare, null), products: null));

    private static List<Entry> FuseEntries(
        IReadOnlyList<ScoredCandidate> vector,
        IReadOnlyList<ScoredCandidate> keyword,
        FusionOptions options,
        Lean lean,
        ICandidateProducts? products)
    {
        ArgumentNullException.ThrowIfNull(options);
        Scale? scale = options.LeanPerCandidate && lean.OfProduct is { } ofProduct
            ? new Scale(
                p => Math.Pow(Math.Clamp(ofProduct(p), 0, 1), options.UnknownTokenLeanExponent),
                lean.OfRecorded is { } ofRecorded ? u => Math.Pow(Math.Clamp(ofRecorded(u), 0, 1), options.UnknownTokenLeanExponent) : null)
            : null;
        return options.Method switch
        {
            FusionMethod.Rrf => RrfEntries(vector, keyword, options.RrfK),
            FusionMethod.Weighted => WeightedEntries(vector, keyword, options.VectorWeight, scale, products),
            FusionMethod.ZScore => StandardizedEntries(vector, keyword, options.VectorWeight, perQuery: false, scale, products),
            FusionMethod.Confidence => StandardizedEntries(vector, keyword, options.VectorWeight, perQuery: true, scale, products),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Method, "Unknown fusion method."),
        };
    }

    /// <summary>Reciprocal rank fusion: <c>score = sum over the lists of 1 / (k + rank)</c>, rank 1-based.</summary>
    /// <param name="vector">The vector list, best first; each candidate with its product.</param>
    /// <param name="keyword">The keyword list, best first; each candidate with its product.</param>
    /// <param name="k">The RRF constant (commonly 60); must not be negative.</param>
    /// <returns>Every product of either list, best first.</returns>
    public static IReadOnlyList<SearchHit> Rrf(
        IReadOnlyList<ScoredCandidate> vector,
        IReadOnlyList<ScoredCandidate> keyword,
        int k = 60)
        => ToHits(RrfEntries(vector, keyword, k));

    private static List<Entry> RrfEntries(IReadOnlyList<ScoredCandidate> vector, IReadOnlyList<ScoredCandidate> keyword, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        var merged = Merge(vector, keyword);
        return Sort(Scored(merged, e =>
        {
            double score = 0;
            if (e.VectorRank is int vr)
            {
                score += 1.0 / (k + vr);
            }

            if (e.KeywordRank is int kr)
            {
                score += 1.0 / (k + kr);
            }

            return score;
        }));
    }

    /// <summary>
    /// Weighted fusion: <c>score = w * cosine + (1 - w) * minmax(BM25)</c>. The min-max normalisation runs over the keyword
    /// list; when every BM25 score in it is equal, each present product gets 1. A product missing from a list
    /// contributes 0 for that part.
    /// </summary>
    /// <param name="vector">The vector list (scores are cosine similarities), best first; each candidate with its product.</param>
    /// <param name="keyword">The keyword list (scores are BM25), best first; each candidate with its product.</param>
    /// <param name="vectorWeight">The weight <c>w</c> of the cosine part, 0..1.</param>
    /// <param name="candidateScale">When set, each candidate's <c>w</c> is multiplied by it (0..1).</param>
    /// <returns>Every product of either list, best first.</returns>
    public static IReadOnlyList<SearchHit> Weighted(
        IReadOnlyList<ScoredCandidate> vector,
        IReadOnlyList<ScoredCandidate> keyword,
        double vectorWeight = 0.7,
        Func<IndexedProduct, double>? candidateScale = null)
        => ToHits(WeightedEntries(vector, keyword, vectorWeight, candidateScale is null ? null : new Scale(candidateScale, null), products: null));

    private static List<Entry> WeightedEntries(
        IReadOnlyList<ScoredCandidate> vector,
        IReadOnlyList<ScoredCandidate> keyword,
        double vectorWeight,
        Scale? candidateScale,
        ICandidateProducts? products)
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

        var scale = ScaleOf(merged, candidateScale, products);
        double range = max - min;
        return Sort(Scored(merged, entry =>
        {
            double keywordPart = entry.KeywordScore is double s
                ? (range > 0 ? (s - min) / range : 1.0)
                : 0.0;
            double vectorPart = entry.VectorScore ?? 0.0;
            double w = scale is null ? vectorWeight : vectorWeight * scale(entry);
            return (w * vectorPart) + ((1 - w) * keywordPart);
        }));
    }

    /// <summary>
    /// Standard-score fusion: <c>score = w * z(cosine) + (1 - w) * z(BM25)</c>, each <c>z</c> over its own list
    /// (<c>(s - mean) / sd</c>). A product missing from a list gets that list's lowest standard score, as if it were its
    /// last candidate. With <paramref name="perQuery"/>, <c>w</c> becomes <c>w * gv / (w * gv + (1 - w) * gk)</c>, where
    /// <c>g</c> is the gap between a list's first and second scores in standard deviations; when neither list has a gap,
    /// <c>w</c> stays.
    /// </summary>
    /// <param name="vector">The vector list, best first; each candidate with its product.</param>
    /// <param name="keyword">The keyword list, best first; each candidate with its product.</param>
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
        => ToHits(StandardizedEntries(vector, keyword, vectorWeight, perQuery, candidateScale is null ? null : new Scale(candidateScale, null), products: null));

    private static List<Entry> StandardizedEntries(
        IReadOnlyList<ScoredCandidate> vector,
        IReadOnlyList<ScoredCandidate> keyword,
        double vectorWeight,
        bool perQuery,
        Scale? candidateScale,
        ICandidateProducts? products)
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

        var scale = ScaleOf(merged, candidateScale, products);
        return Sort(Scored(merged, entry =>
        {
            double zv = entry.VectorScore is double sv ? v.Z(sv) : v.MinZ;
            double zk = entry.KeywordScore is double sk ? k.Z(sk) : k.MinZ;
            double we = scale is null ? w : w * scale(entry);
            return (we * zv) + ((1 - we) * zk);
        }));
    }

    /// <summary>Turns a single ranked vector list into hits whose score is the cosine similarity.</summary>
    /// <param name="vector">The vector list, best first; each candidate with its product.</param>
    /// <returns>The hits in input order (duplicates dropped).</returns>
    public static IReadOnlyList<SearchHit> FromVector(IReadOnlyList<ScoredCandidate> vector)
        => ToHits(Scored(Merge(vector, []), static e => e.VectorScore!.Value));

    /// <summary>Turns a single ranked keyword list into hits whose score is the BM25 score.</summary>
    /// <param name="keyword">The keyword list, best first; each candidate with its product.</param>
    /// <returns>The hits in input order (duplicates dropped).</returns>
    public static IReadOnlyList<SearchHit> FromKeyword(IReadOnlyList<ScoredCandidate> keyword)
        => ToHits(Scored(Merge([], keyword), static e => e.KeywordScore!.Value));

    // The per-candidate lean: from the unknown-token share the store recorded at ingest where it has one (the candidate is
    // then neither read nor tokenised), else from each candidate's text: candidates that came without their product are
    // read first, all in one call, and keep it for the hits.
    private static Func<Entry, double>? ScaleOf(Dictionary<string, Entry> merged, Scale? candidateScale, ICandidateProducts? products)
    {
        if (candidateScale is null)
        {
            return null;
        }

        var (ofProduct, ofRecorded) = candidateScale;

        List<Entry> entries = [.. merged.Values];
        if (ofRecorded is not null && products is not null)
        {
            var unread = entries.FindAll(e => e.Product is null);
            var shares = unread.Count == 0 ? [] : products.UnknownTokenShares(unread.ConvertAll(e => e.Id));
            for (int i = 0; i < unread.Count && i < shares.Count; i++)
            {
                unread[i].RecordedUnknownShare = shares[i];
            }
        }

        ReadMissing(ofRecorded is null ? entries : entries.FindAll(e => e.RecordedUnknownShare is null), products);

        // A candidate whose product is gone by now keeps the query's weight; it is dropped when the hits are read.
        return e => e.RecordedUnknownShare is double u && ofRecorded is not null ? ofRecorded(u) : e.Product is { } p ? ofProduct(p) : 1;
    }

    internal static void ReadMissing(IReadOnlyList<Entry> entries, ICandidateProducts? products)
    {
        List<Entry>? missing = null;
        foreach (var entry in entries)
        {
            if (entry.Product is null && !entry.Read)
            {
                (missing ??= []).Add(entry);
            }
        }

        if (missing is null)
        {
            return;
        }

        if (products is null)
        {
            throw new ArgumentException($"Candidate '{missing[0].Id}' has no product, and the store gave no way to read it (CandidateLists.Products).");
        }

        var read = products.Read(missing.ConvertAll(e => e.Id));
        for (int i = 0; i < missing.Count; i++)
        {
            missing[i].Product = i < read.Count ? read[i] : null;
            missing[i].Read = true;
        }
    }

    // Insertion-ordered (Dictionary keeps insertion order while nothing is removed), keyed by id.
    private static Dictionary<string, Entry> Merge(IReadOnlyList<ScoredCandidate> vector, IReadOnlyList<ScoredCandidate> keyword)
    {
        ArgumentNullException.ThrowIfNull(vector);
        ArgumentNullException.ThrowIfNull(keyword);
        var merged = new Dictionary<string, Entry>(vector.Count + keyword.Count, StringComparer.Ordinal);
        for (int i = 0; i < vector.Count; i++)
        {
            var c = vector[i];
            if (!merged.ContainsKey(c.Id))
            {
                merged[c.Id] = new Entry(c.Id, c.Product) { VectorScore = c.Score, VectorRank = i + 1 };
            }
        }

        for (int i = 0; i < keyword.Count; i++)
        {
            var c = keyword[i];
            if (!merged.TryGetValue(c.Id, out var entry))
            {
                merged[c.Id] = new Entry(c.Id, c.Product) { KeywordScore = c.Score, KeywordRank = i + 1 };
            }
            else if (entry.KeywordRank is null)
            {
                entry.KeywordScore = c.Score;
                entry.KeywordRank = i + 1;
                entry.Product ??= c.Product;
            }
        }

        return merged;
    }

    // Each entry's fused score; sorted best first, ties by id (ordinal). Single-list rankings keep their input order.
    private static List<Entry> Scored(Dictionary<string, Entry> merged, Func<Entry, double> score)
    {
        var entries = new List<Entry>(merged.Count);
        foreach (var entry in merged.Values)
        {
            entry.Score = score(entry);
            entries.Add(entry);
        }

        return entries;
    }

    private static List<Entry> Sort(List<Entry> entries)
    {
        entries.Sort(static (a, b) =>
        {
            int byScore = b.Score.CompareTo(a.Score);
            return byScore != 0 ? byScore : string.CompareOrdinal(a.Id, b.Id);
        });
        return entries;
    }

    private static List<SearchHit> ToHits(List<Entry> entries)
    {
        var hits = new List<SearchHit>(entries.Count);
        foreach (var entry in entries)
        {
            hits.Add(entry.ToHit(entry.Product ?? throw new ArgumentException(
                $"Candidate '{entry.Id}' has no product; rank candidate lists that come without products with RankFusion.Rank.")));
        }

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

    // The per-candidate lean of a query: from a read product, and from an unknown-token share recorded at ingest.
    private readonly record struct Lean(Func<IndexedProduct, double>? OfProduct, Func<double, double>? OfRecorded);

    // The per-candidate weight scale (the lean's share raised to its exponent), from a read product or a recorded share.
    private sealed record Scale(Func<IndexedProduct, double> OfProduct, Func<double, double>? OfRecorded);

    // Remembers what the store answered for each id, so that each candidate is read at most once per query.
    private sealed class ReadOnce(ICandidateProducts store) : ICandidateProducts
    {
        private readonly Dictionary<string, IndexedProduct?> _read = new(StringComparer.Ordinal);
        private readonly Dictionary<string, double?> _shares = new(StringComparer.Ordinal);

        public IReadOnlyList<double?> UnknownTokenShares(IReadOnlyList<string> ids)
        {
            var unknown = ids.Where(id => !_shares.ContainsKey(id)).Distinct(StringComparer.Ordinal).ToList();
            if (unknown.Count > 0)
            {
                var shares = store.UnknownTokenShares(unknown);
                for (int i = 0; i < unknown.Count; i++)
                {
                    _shares[unknown[i]] = i < shares.Count ? shares[i] : null;
                }
            }

            return ids.Select(id => _shares[id]).ToList();
        }

        public IReadOnlyList<IndexedProduct?> Read(IReadOnlyList<string> ids)
        {
            var unknown = ids.Where(id => !_read.ContainsKey(id)).Distinct(StringComparer.Ordinal).ToList();
            if (unknown.Count > 0)
            {
                var read = store.Read(unknown);
                for (int i = 0; i < unknown.Count; i++)
                {
                    _read[unknown[i]] = i < read.Count ? read[i] : null;
                }
            }

            return ids.Select(id => _read[id]).ToList();
        }
    }

    /// <summary>One ranked candidate: its id, its product once read, its parts and its final score.</summary>
    internal sealed class Entry(string id, IndexedProduct? product)
    {
        public string Id { get; } = id;

        public IndexedProduct? Product { get; set; } = product;

        // The store was asked for the product (it may have answered null: gone since).
        public bool Read { get; set; }

        // The unknown-token share the store recorded at ingest, when it gave one without reading the product.
        public double? RecordedUnknownShare { get; set; }

        public double Score { get; set; }

        public double? VectorScore { get; init; }

        public int? VectorRank { get; init; }

        public double? KeywordScore { get; set; }

        public int? KeywordRank { get; set; }

        public SearchHit ToHit(IndexedProduct product) => new(product, Score, VectorScore, KeywordScore, VectorRank, KeywordRank);
    }
}

/// <summary>
/// A query's candidates in their final order (<see cref="RankFusion.Order"/>), whose products are read from the store
/// only when <see cref="Hits"/> asks for them.
/// </summary>
/// <remarks>Not thread-safe: one query's caller reads it.</remarks>
public sealed class RankedCandidates
{
    private readonly List<RankFusion.Entry> _entries;
    private readonly ICandidateProducts? _products;

    internal RankedCandidates(List<RankFusion.Entry> entries, ICandidateProducts? products)
    {
        _entries = entries;
        _products = products;
    }

    /// <summary>How many candidates are ranked.</summary>
    public int Count => _entries.Count;

    /// <summary>The product id at a rank (0-based), without reading the product.</summary>
    /// <param name="rank">The rank, 0-based.</param>
    public string IdAt(int rank) => _entries[rank].Id;

    /// <summary>The final score at a rank (0-based), without reading the product.</summary>
    /// <param name="rank">The rank, 0-based.</param>
    public double ScoreAt(int rank) => _entries[rank].Score;

    /// <summary>
    /// The hits at ranks <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> - 1 (0-based),
    /// best first, with their products read in one call; a candidate whose product the store no longer holds is left out.
    /// </summary>
    /// <param name="start">The first rank, 0-based.</param>
    /// <param name="count">How many ranks.</param>
    public IReadOnlyList<SearchHit> Hits(int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int end = (int)Math.Min((long)start + count, _entries.Count);
        if (start >= end)
        {
            return [];
        }

        var page = _entries.GetRange(start, end - start);
        RankFusion.ReadMissing(page, _products);
        var hits = new List<SearchHit>(page.Count);
        foreach (var entry in page)
        {
            if (entry.Product is { } product)
            {
                hits.Add(entry.ToHit(product));
            }
        }

        return hits;
    }

    /// <summary>
    /// The hits at the given ranks (0-based, any order), with their products read in one call; null where the store no
    /// longer holds the product.
    /// </summary>
    /// <param name="ranks">The ranks, 0-based.</param>
    /// <returns>One entry per rank, in the same order.</returns>
    public IReadOnlyList<SearchHit?> HitsAt(IReadOnlyList<int> ranks)
    {
        ArgumentNullException.ThrowIfNull(ranks);
        var entries = new List<RankFusion.Entry>(ranks.Count);
        foreach (var rank in ranks)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(rank, nameof(ranks));
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, _entries.Count, nameof(ranks));
            entries.Add(_entries[rank]);
        }

        RankFusion.ReadMissing(entries, _products);
        return entries.ConvertAll(e => e.Product is { } product ? e.ToHit(product) : null);
    }
}
