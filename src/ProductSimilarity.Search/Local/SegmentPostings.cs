using System.Collections.Concurrent;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Util;
using ProductSimilarity.Core.Diagnostics;

namespace ProductSimilarity.Search.Local;

/// <summary>One SHOULD clause of a keyword query: an analysed term in one field, with that field's boost.</summary>
/// <param name="Field">The Lucene field.</param>
/// <param name="Term">The analysed term.</param>
/// <param name="Boost">The clause's boost (Lucene's <c>TermQuery.Boost</c>).</param>
internal readonly record struct KeywordClause(string Field, string Term, float Boost);

/// <summary>
/// The postings (segment doc ids and term frequencies) of the keyword terms queried so far in one Lucene segment, and the
/// segment's one-byte length norms of the fields queried, held in memory for <see cref="MemoryKeywordScorer"/>.
/// </summary>
/// <remarks>
/// Lucene segments are immutable, so this is kept per segment core (like <see cref="SegmentVectors"/>) and shared by every
/// reader generation that contains the segment. A term's postings are read from Lucene the first time a query asks for
/// the term in this segment and kept for as long as the segment lives, so memory grows with the terms queried, up to the
/// postings of the keyword fields. Terms in fewer than <see cref="RareDocs"/> of the segment's documents (and terms it does
/// not hold: a model code, a typo) are kept only up to a count proportional to the segment's size, past which they are
/// read again at each query (cheap: a seek and a few postings), so a stream of distinct rare terms cannot grow memory
/// without bound. Postings include deleted documents (Lucene's document frequency counts them too);
/// deletions are applied at search time from the reader's live docs. Thread-safe: concurrent first reads of a term may
/// both read it, and one copy is kept.
/// </remarks>
/// <param name="maxDoc">The segment's max doc.</param>
/// <param name="rareCap">The most rare or absent terms kept; by default a quarter of the documents plus 1,024.</param>
internal sealed class SegmentPostings(int maxDoc, int? rareCap = null)
{
    /// <summary>Postings shorter than this count against the segment's cap on rare entries.</summary>
    public const int RareDocs = 16;

    // Dictionary entry, key strings and array headers, roughly.
    private const int EntryOverhead = 96;

    private readonly ConcurrentDictionary<(string Field, string Term), TermPostings> _terms = new();
    private readonly ConcurrentDictionary<string, FieldNorms> _norms = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ulong[]> _vocabularies = new(StringComparer.Ordinal);
    private readonly int _rareCap = rareCap ?? ((maxDoc / 4) + 1024);
    private long _bytes;
    private int _rare;
    private int _warmed;

    /// <summary>Documents in the segment, deleted ones included (its max doc).</summary>
    public int MaxDoc { get; } = maxDoc;

    /// <summary>True for the first caller only: the one that reads the segment's likely terms ahead of queries.</summary>
    public bool StartWarm() => Interlocked.Exchange(ref _warmed, 1) == 0;

    /// <summary>Approximate bytes held: postings, frequencies, norms and term hashes.</summary>
    public long MemoryBytes => Interlocked.Read(ref _bytes);

    /// <summary>The postings of <paramref name="term"/> in <paramref name="field"/>, read from <paramref name="reader"/>
    /// (a reader of this segment) on first use.</summary>
    /// <param name="reader">A reader of this segment.</param>
    /// <param name="field">The field.</param>
    /// <param name="term">The term.</param>
    /// <param name="enums">The terms enumerators of one query in this segment, by field, reused across its terms; null
    /// for none.</param>
    public TermPostings Term(AtomicReader reader, string field, string term, Dictionary<string, TermsEnum?>? enums = null)
    {
        if (_terms.TryGetValue((field, term), out var cached))
        {
            return cached;
        }

        using var timer = QueryStages.Time(QueryStage.SegmentLoad);
        var bytes = new BytesRef(term);

        // A term the segment's field does not hold (most of a query's rare terms in most segments) needs no seek.
        if (Array.BinarySearch(Vocabulary(reader, field), Hash(bytes)) < 0)
        {
            return TermPostings.Empty;
        }

        TermsEnum? termsEnum;
        if (enums is null || !enums.TryGetValue(field, out termsEnum))
        {
            termsEnum = reader.GetTerms(field)?.GetEnumerator();
            enums?.Add(field, termsEnum);
        }

        var loaded = termsEnum is null ? TermPostings.Empty : TermPostings.Read(termsEnum, bytes);
        if (loaded.Docs.Length < RareDocs && (Volatile.Read(ref _rare) >= _rareCap || Interlocked.Increment(ref _rare) > _rareCap))
        {
            return loaded;
        }

        if (_terms.TryAdd((field, term), loaded))
        {
            Interlocked.Add(ref _bytes, loaded.MemoryBytes + EntryOverhead + (2L * (field.Length + term.Length)));
            return loaded;
        }

        return _terms[(field, term)];
    }

    /// <summary>The one-byte length norm of every document for <paramref name="field"/>; null when the field has none
    /// (an untokenised field, or a field this segment does not hold), which BM25 scores as if <c>b</c> were 0.</summary>
    public byte[]? Norms(AtomicReader reader, string field)
    {
        if (_norms.TryGetValue(field, out var cached))
        {
            return cached.Values;
        }

        using var timer = QueryStages.Time(QueryStage.SegmentLoad);
        byte[]? values = null;
        if (reader.GetNormValues(field) is { } norms)
        {
            values = new byte[MaxDoc];
            for (int doc = 0; doc < values.Length; doc++)
            {
                // BM25Similarity reads the norm as (sbyte)norms.Get(doc) & 0xFF: its low byte.
                values[doc] = (byte)norms.Get(doc);
            }
        }

        if (_norms.TryAdd(field, new FieldNorms(values)))
        {
            Interlocked.Add(ref _bytes, (values?.Length ?? 0) + EntryOverhead);
            return values;
        }

        return _norms[field].Values;
    }

    /// <summary>The sorted 64-bit hashes of every term of <paramref name="field"/> in the segment, read once: a term whose
    /// hash is not there is not in the field (a hash can only make a term look present, never absent).</summary>
    public ulong[] Vocabulary(AtomicReader reader, string field)
    {
        if (_vocabularies.TryGetValue(field, out var cached))
        {
            return cached;
        }

        var hashes = new List<ulong>();
        if (reader.GetTerms(field)?.GetEnumerator() is { } terms)
        {
            while (terms.MoveNext())
            {
                hashes.Add(Hash(terms.Term));
            }
        }

        var sorted = hashes.ToArray();
        Array.Sort(sorted);
        if (_vocabularies.TryAdd(field, sorted))
        {
            Interlocked.Add(ref _bytes, (8L * sorted.Length) + EntryOverhead);
            return sorted;
        }

        return _vocabularies[field];
    }

    // FNV-1a over the term's UTF-8 bytes, then SplitMix64's avalanche.
    private static ulong Hash(BytesRef term)
    {
        ulong hash = 14695981039346656037UL;
        var bytes = term.Bytes;
        for (int i = term.Offset; i < term.Offset + term.Length; i++)
        {
            hash = (hash ^ bytes[i]) * 1099511628211UL;
        }

        hash = (hash ^ (hash >> 30)) * 0xBF58476D1CE4E5B9UL;
        hash = (hash ^ (hash >> 27)) * 0x94D049BB133111EBUL;
        return hash ^ (hash >> 31);
    }

    private sealed record FieldNorms(byte[]? Values);
}

/// <summary>One term's postings in one segment: ascending segment doc ids and their term frequencies.</summary>
/// <remarks>Immutable; thread-safe.</remarks>
internal sealed class TermPostings
{
    private TermPostings(int[] docs, int[]? freqs)
    {
        Docs = docs;
        Freqs = freqs;
    }

    /// <summary>No posting: the term is not in the segment.</summary>
    public static TermPostings Empty { get; } = new([], null);

    /// <summary>Segment doc ids, ascending, deleted documents included; the length is the segment's document frequency.</summary>
    public int[] Docs { get; }

    /// <summary>Term frequency of each doc in <see cref="Docs"/>; null when every frequency is 1 (always so for an
    /// untokenised field, which records no frequencies).</summary>
    public int[]? Freqs { get; }

    /// <summary>Approximate bytes of the arrays.</summary>
    public long MemoryBytes => (4L * Docs.Length) + (4L * (Freqs?.Length ?? 0));

    /// <summary>Reads the postings of <paramref name="term"/> through a segment's terms enumerator of the field.</summary>
    public static TermPostings Read(TermsEnum termsEnum, BytesRef term)
    {
        if (!termsEnum.SeekExact(term))
        {
            return Empty;
        }

        // No live docs: deleted documents are kept (the document frequency counts them) and filtered at search time.
        var postings = termsEnum.Docs(null, null, DocsFlags.FREQS);
        var docs = new List<int>(termsEnum.DocFreq);
        List<int>? freqs = null;
        int doc;
        while ((doc = postings.NextDoc()) != DocIdSetIterator.NO_MORE_DOCS)
        {
            int freq = postings.Freq;
            if (freq != 1 && freqs is null)
            {
                freqs = new List<int>(docs.Capacity);
                freqs.AddRange(Enumerable.Repeat(1, docs.Count));
            }

            docs.Add(doc);
            freqs?.Add(freq);
        }

        return docs.Count == 0 ? Empty : new TermPostings([.. docs], freqs is null ? null : [.. freqs]);
    }
}
