using System.Collections.Concurrent;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Util;

namespace ProductSimilarity.Search.Local;

/// <summary>
/// Scores a disjunction of term clauses term at a time over postings held in memory (<see cref="SegmentPostings"/>),
/// with the scores and order of Lucene 4.8's <c>IndexSearcher.Search</c> under <see cref="Lucene.Net.Search.Similarities.BM25Similarity"/>
/// (k1 1.2, b 0.75) for the same <see cref="BooleanQuery"/> of SHOULD <see cref="TermQuery"/> clauses and the same filter.
/// </summary>
/// <remarks>
/// <para><b>Why.</b> Lucene.NET scores a disjunction one document at a time through a scorer per clause; a similar-items
/// query (about 38 clauses, 22,700 matching documents of 100,000) spent 10–20 ms there. Adding each clause's postings into
/// a score array per segment does the same arithmetic in a fraction of that.</para>
/// <para><b>Same scores, bit for bit.</b> Each clause score is Lucene's <c>BM25DocScorer.Score</c>:
/// <c>weightValue * freq / (freq + cache[norm])</c> in float, where <c>weightValue = idf * boost * (k1 + 1)</c>,
/// <c>idf = (float)ln(1 + (maxDoc - df + 0.5) / (df + 0.5))</c> from the top-level reader's max doc and the term's
/// document frequency over all segments (deleted documents included, as Lucene counts them), and
/// <c>cache[n] = k1 * ((1 - b) + b * decode(n) / avgdl)</c> with Lucene's 256-entry norm table and
/// <c>avgdl = sumTotalTermFreq / maxDoc</c> of the whole reader (1 when the field records no frequencies). A field without
/// norms uses k1 for the cache value. Coord and the query norm are 1 under BM25, so they are left out.</para>
/// <para><b>Summation.</b> Lucene's <c>BooleanScorer</c> (the unfiltered path) adds a document's clause scores into a
/// double in reverse clause order and casts the sum to float; this scorer does exactly that. With a filter Lucene
/// scores through <c>DisjunctionSumScorer</c>, which adds the same floats into a double in the order of its scorer heap.
/// A double sum of floats is exact, and so independent of the order, unless the clause scores of one document span more
/// than about 2^30 / clauses in magnitude; past that the two orders can differ only when the double sums straddle a float
/// rounding boundary (a chance of about 2^-29 per document). The equality tests cover both paths.</para>
/// <para><b>Ties</b> go to the lower global doc id, as in <c>TopScoreDocCollector</c>. Deleted documents and documents
/// outside the filter (the filter's per-segment <see cref="DocIdSet"/>, built with the live docs as Lucene's
/// <c>FilteredQuery</c> does) never appear.</para>
/// <para>Thread-safe: per-query scratch arrays come from a small pool.</para>
/// </remarks>
internal static class MemoryKeywordScorer
{
    private static readonly float K1 = 1.2f;
    private static readonly float B = 0.75f;

    // BM25Similarity.NORM_TABLE: 1 / f^2 of the decoded 3-bit-mantissa float SmallSingle stores as the length norm.
    private static readonly float[] NormTable = BuildNormTable();
    private static readonly ConcurrentBag<Scratch> Pool = [];

    /// <summary>A term in at least this many documents (over all segments) is a frequent one, worth reading into a new
    /// segment's postings before queries reach it.</summary>
    public const int FrequentDocs = 64;

    // Clauses with at least this many postings get a per-norm-byte score table (256 divisions instead of one a posting).
    private const int UnitTableMinPostings = 512;

    /// <summary>The top <paramref name="k"/> documents of the disjunction of <paramref name="clauses"/> that pass
    /// <paramref name="filter"/>, best first: global doc ids and Lucene's BM25 scores.</summary>
    /// <param name="reader">The top-level reader (its leaves are the segments).</param>
    /// <param name="clauses">The SHOULD term clauses, in query order.</param>
    /// <param name="filter">The filter, or null.</param>
    /// <param name="k">The most hits to return.</param>
    /// <param name="postingsOf">The in-memory postings of a segment.</param>
    /// <param name="frequent">Told of each clause whose term is in at least <see cref="FrequentDocs"/> documents; null for none.</param>
    public static List<(int Doc, float Score)> Search(
        IndexReader reader,
        IReadOnlyList<KeywordClause> clauses,
        Filter? filter,
        int k,
        Func<AtomicReader, SegmentPostings> postingsOf,
        Action<KeywordClause>? frequent = null)
    {
        var leaves = reader.Leaves;
        if (clauses.Count == 0 || k <= 0 || leaves.Count == 0 || reader.MaxDoc == 0)
        {
            return [];
        }

        int maxRows = 0;
        foreach (var leaf in leaves)
        {
            maxRows = Math.Max(maxRows, leaf.AtomicReader.MaxDoc);
        }

        // The per-query arrays (postings, score tables) come from the pooled scratch too, so that a query allocates
        // little beyond its hits.
        var scratch = Rent(maxRows, clauses.Count, leaves.Count);
        bool clean = false;
        try
        {
            // Every clause's postings in every segment first: the document frequency is their total.
            var segments = scratch.Segments;
            var postings = scratch.Postings;
            var docFreq = scratch.DocFreq;
            Array.Clear(docFreq, 0, clauses.Count);
            for (int s = 0; s < leaves.Count; s++)
            {
                var segment = leaves[s].AtomicReader;
                segments[s] = postingsOf(segment);
                Dictionary<string, TermsEnum?>? enums = null;
                for (int c = 0; c < clauses.Count; c++)
                {
                    var p = segments[s].Term(segment, clauses[c].Field, clauses[c].Term, ref enums);
                    postings[(c * leaves.Count) + s] = p;
                    docFreq[c] += p.Docs.Length;
                }
            }

            // A clause's scorer is set only when some segment holds its term; ScoreSegment reads it only there.
            long maxDoc = reader.MaxDoc;
            for (int c = 0; c < clauses.Count; c++)
            {
                if (docFreq[c] == 0)
                {
                    continue;
                }

                if (docFreq[c] >= FrequentDocs)
                {
                    frequent?.Invoke(clauses[c]);
                }

                var cache = scratch.LengthCache(clauses[c].Field, leaves, maxDoc);

                // BM25Stats.Normalize: weight = idf * queryBoost * topLevelBoost (1); BM25DocScorer: weight * (k1 + 1).
                float idf = Idf(docFreq[c], maxDoc);
                float weight = idf * clauses[c].Boost * 1f;
                scratch.Scorer(c).Set(weight * (K1 + 1), cache, docFreq[c] >= UnitTableMinPostings);
            }

            var top = new TopHits(Math.Min(k, reader.MaxDoc));
            for (int s = 0; s < leaves.Count; s++)
            {
                ScoreSegment(leaves[s], segments[s], clauses, postings, leaves.Count, s, filter, scratch, top);
            }

            // The pooled arrays keep no postings or segments alive.
            Array.Clear(postings, 0, clauses.Count * leaves.Count);
            Array.Clear(segments, 0, leaves.Count);
            scratch.ClearLengthCaches();
            clean = true;
            return top.Drain();
        }
        finally
        {
            // A scratch left half-used by an exception is dropped rather than pooled.
            if (clean)
            {
                Return(scratch);
            }
        }
    }

    // Lucene's BM25Similarity.Idf.
    private static float Idf(long docFreq, long numDocs) => (float)Math.Log(1 + ((numDocs - docFreq + 0.5D) / (docFreq + 0.5D)));

    // BM25Similarity.AvgFieldLength over IndexSearcher.CollectionStatistics: MultiTerms' sum of the segments'
    // sumTotalTermFreq (-1 when any segment does not record it) over the top-level max doc.
    private static float AverageFieldLength(IList<AtomicReaderContext> leaves, string field, long maxDoc)
    {
        long sumTotalTermFreq = 0;
        foreach (var leaf in leaves)
        {
            if (leaf.AtomicReader.GetTerms(field) is not { } terms)
            {
                continue;
            }

            long value = terms.SumTotalTermFreq;
            if (value == -1)
            {
                sumTotalTermFreq = -1;
                break;
            }

            sumTotalTermFreq += value;
        }

        return sumTotalTermFreq <= 0 ? 1f : (float)(sumTotalTermFreq / (double)maxDoc);
    }

    // BM25Similarity.ComputeWeight's cache: the freq-independent part of the BM25 denominator for each norm byte, a pure
    // function of the average field length; kept for the few lengths a reader generation has (one per field).
    private static class LengthCaches
    {
        private const int MaxKept = 64;
        private static readonly ConcurrentDictionary<float, float[]> Kept = new();

        public static float[] For(float avgdl)
        {
            if (Kept.TryGetValue(avgdl, out var cache))
            {
                return cache;
            }

            // Each commit changes the lengths: the old ones are dropped wholesale now and then.
            if (Kept.Count >= MaxKept)
            {
                Kept.Clear();
            }

            return Kept.GetOrAdd(avgdl, LengthCache);
        }
    }

    private static float[] LengthCache(float avgdl)
    {
        var cache = new float[256];
        for (int i = 0; i < cache.Length; i++)
        {
            cache[i] = K1 * ((1 - B) + (B * NormTable[i] / avgdl));
        }

        return cache;
    }

    private static float[] BuildNormTable()
    {
        var table = new float[256];
        for (int i = 0; i < table.Length; i++)
        {
            float f = SmallSingle.SByte315ToSingle((sbyte)i);
            table[i] = 1.0f / (f * f);
        }

        return table;
    }

    private static void ScoreSegment(
        AtomicReaderContext leaf,
        SegmentPostings segment,
        IReadOnlyList<KeywordClause> clauses,
        TermPostings[] postings,
        int segmentCount,
        int s,
        Filter? filter,
        Scratch scratch,
        TopHits top)
    {
        var reader = leaf.AtomicReader;
        bool any = false;
        for (int c = 0; c < clauses.Count && !any; c++)
        {
            any = postings[(c * segmentCount) + s].Docs.Length > 0;
        }

        if (!any)
        {
            return;
        }

        // The filter's documents of this segment, built with the live docs as FilteredQuery does; none: nothing matches.
        IBits? accepted = null;
        if (filter is not null)
        {
            if (filter.GetDocIdSet(leaf, reader.LiveDocs) is not { } set)
            {
                return;
            }

            accepted = set.Bits;
            if (accepted is null)
            {
                if (set.GetIterator() is not { } iterator)
                {
                    return;
                }

                var bits = new FixedBitSet(reader.MaxDoc);
                bits.Or(iterator);
                accepted = bits;
            }
        }

        var scores = scratch.Scores;
        var marks = scratch.Marks;

        // Reverse clause order, as BooleanScorer's sub-scorer list adds them; each into a double, as its buckets do.
        for (int c = clauses.Count - 1; c >= 0; c--)
        {
            var docs = postings[(c * segmentCount) + s].Docs;
            if (docs.Length == 0)
            {
                continue;
            }

            var scorer = scratch.Scorer(c);
            var norms = segment.Norms(reader, clauses[c].Field);
            var freqs = postings[(c * segmentCount) + s].Freqs;
            if (freqs is null && norms is null)
            {
                // BM25DocScorer.Score without norms, as if b were 0: one value for every posting of frequency 1.
                float only = scorer.WeightValue * 1f / (1f + K1);
                for (int i = 0; i < docs.Length; i++)
                {
                    int doc = docs[i];
                    scores[doc] += only;
                    marks[doc >> 6] |= 1UL << doc;
                }
            }
            else if (freqs is null && scorer.Unit is { } unit)
            {
                // Frequency 1 everywhere: the score is a function of the norm byte alone, computed once per byte.
                for (int i = 0; i < docs.Length; i++)
                {
                    int doc = docs[i];
                    scores[doc] += unit[norms![doc]];
                    marks[doc >> 6] |= 1UL << doc;
                }
            }
            else
            {
                for (int i = 0; i < docs.Length; i++)
                {
                    int doc = docs[i];
                    scores[doc] += scorer.Score(freqs is null ? 1f : freqs[i], norms is null ? K1 : scorer.Cache[norms[doc]]);
                    marks[doc >> 6] |= 1UL << doc;
                }
            }
        }

        // Matched documents in doc id order, so equal scores keep the lower doc id; the scratch is cleared on the way.
        // The live docs and the filter are asked only about documents whose score would enter the top.
        var live = reader.LiveDocs;
        int docBase = leaf.DocBase;
        int words = (reader.MaxDoc + 63) >> 6;
        for (int w = 0; w < words; w++)
        {
            ulong word = marks[w];
            if (word == 0)
            {
                continue;
            }

            marks[w] = 0;
            while (word != 0)
            {
                int doc = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(word);
                word &= word - 1;
                float score = (float)scores[doc];
                scores[doc] = 0;
                if (top.Competitive(docBase + doc, score) && (live is null || live.Get(doc)) && (accepted is null || accepted.Get(doc)))
                {
                    top.Add(docBase + doc, score);
                }
            }
        }
    }

    private static Scratch Rent(int size, int clauses, int segments)
    {
        if (!Pool.TryTake(out var scratch))
        {
            scratch = new Scratch();
        }

        if (scratch.Scores.Length < size)
        {
            scratch.Scores = new double[size];
            scratch.Marks = new ulong[(size + 63) >> 6];
        }

        if (scratch.Postings.Length < clauses * segments)
        {
            scratch.Postings = new TermPostings[clauses * segments];
        }

        if (scratch.Segments.Length < segments)
        {
            scratch.Segments = new SegmentPostings[segments];
        }

        if (scratch.DocFreq.Length < clauses)
        {
            scratch.DocFreq = new long[clauses];
        }

        return scratch;
    }

    private static void Return(Scratch scratch)
    {
        if (Pool.Count < Environment.ProcessorCount)
        {
            Pool.Add(scratch);
        }
    }

    // One query's working arrays: the per-segment score accumulator (zero between uses) and the marks of the documents
    // touched, each clause's postings in each segment (clause-major), the segments' postings, the clauses' document
    // frequencies, and the clauses' scorers, kept for reuse.
    private sealed class Scratch
    {
        private readonly List<ClauseScorer> _scorers = [];
        private readonly List<(string Field, float[] Cache)> _lengthCaches = [];

        public double[] Scores { get; set; } = [];

        public ulong[] Marks { get; set; } = [];

        public TermPostings[] Postings { get; set; } = [];

        public SegmentPostings[] Segments { get; set; } = [];

        public long[] DocFreq { get; set; } = [];

        // The length cache of a field in this query (a query has a few fields, each in many clauses).
        public float[] LengthCache(string field, IList<AtomicReaderContext> leaves, long maxDoc)
        {
            foreach (var (f, cache) in _lengthCaches)
            {
                if (string.Equals(f, field, StringComparison.Ordinal))
                {
                    return cache;
                }
            }

            var made = LengthCaches.For(AverageFieldLength(leaves, field, maxDoc));
            _lengthCaches.Add((field, made));
            return made;
        }

        public void ClearLengthCaches() => _lengthCaches.Clear();

        // The scorer object for clause c, reused across queries.
        public ClauseScorer Scorer(int c)
        {
            while (_scorers.Count <= c)
            {
                _scorers.Add(new ClauseScorer());
            }

            return _scorers[c];
        }
    }

    // One clause's BM25 constants: Lucene's weightValue, its field's length cache, and for a clause with many postings
    // the score of a frequency-1 posting for each norm byte (the same float operations, done once per byte). Set for each
    // query; the table's array is kept.
    private sealed class ClauseScorer
    {
        private readonly float[] _unit = new float[256];

        public float WeightValue { get; private set; }

        public float[] Cache { get; private set; } = [];

        public float[]? Unit { get; private set; }

        public void Set(float weightValue, float[] cache, bool unitTable)
        {
            WeightValue = weightValue;
            Cache = cache;
            Unit = null;
            if (unitTable)
            {
                for (int n = 0; n < _unit.Length; n++)
                {
                    _unit[n] = Score(1f, cache[n]);
                }

                Unit = _unit;
            }
        }

        // BM25DocScorer.Score.
        public float Score(float freq, float norm) => WeightValue * freq / (freq + norm);
    }

    // The best k (doc, score) pairs: higher score first, then lower doc id, as TopScoreDocCollector keeps them. A binary
    // heap with the worst kept pair on top.
    private sealed class TopHits(int k)
    {
        private int[] _heapDocs = [];
        private float[] _heapScores = [];
        private int _count;

        // Whether (doc, score) would enter the top now.
        public bool Competitive(int doc, float score)
            => _count < k || score > _heapScores[0] || (score == _heapScores[0] && doc < _heapDocs[0]);

        // Adds a competitive pair, dropping the worst when full.
        public void Add(int doc, float score)
        {
            if (_count < k)
            {
                Grow();
                _heapDocs[_count] = doc;
                _heapScores[_count] = score;
                Up(_count++);
            }
            else
            {
                _heapDocs[0] = doc;
                _heapScores[0] = score;
                Down(0);
            }
        }

        public List<(int Doc, float Score)> Drain()
        {
            var result = new List<(int Doc, float Score)>(_count);
            for (int i = 0; i < _count; i++)
            {
                result.Add((_heapDocs[i], _heapScores[i]));
            }

            result.Sort((x, y) => x.Score != y.Score ? y.Score.CompareTo(x.Score) : x.Doc.CompareTo(y.Doc));
            return result;
        }

        private void Grow()
        {
            if (_count == _heapDocs.Length)
            {
                int size = Math.Min(k, Math.Max(16, _heapDocs.Length * 2));
                Array.Resize(ref _heapDocs, size);
                Array.Resize(ref _heapScores, size);
            }
        }

        // Whether the pair at i ranks below the pair at j: lower score, or the same score and a higher doc id.
        private bool Worse(int i, int j)
            => _heapScores[i] < _heapScores[j] || (_heapScores[i] == _heapScores[j] && _heapDocs[i] > _heapDocs[j]);

        private void Swap(int i, int j)
        {
            (_heapDocs[i], _heapDocs[j]) = (_heapDocs[j], _heapDocs[i]);
            (_heapScores[i], _heapScores[j]) = (_heapScores[j], _heapScores[i]);
        }

        private void Up(int i)
        {
            while (i > 0)
            {
                int parent = (i - 1) >> 1;
                if (!Worse(i, parent))
                {
                    break;
                }

                Swap(i, parent);
                i = parent;
            }
        }

        private void Down(int i)
        {
            while (true)
            {
                int left = (2 * i) + 1;
                if (left >= _count)
                {
                    return;
                }

                int worst = left + 1 < _count && Worse(left + 1, left) ? left + 1 : left;
                if (!Worse(worst, i))
                {
                    return;
                }

                Swap(i, worst);
                i = worst;
            }
        }
    }
}
