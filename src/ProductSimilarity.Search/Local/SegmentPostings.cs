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
    private readonly ConcurrentDictionary<string, FieldVocabulary> _vocabularies = new(StringComparer.Ordinal);
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
    /// <param name="enums">The terms enumerators of one query in this segment, by field, reused across its terms; created
    /// here at the first seek when null.</param>
    public TermPostings Term(AtomicReader reader, string field, string term, ref Dictionary<string, TermsEnum?>? enums)
    {
        if (_terms.TryGetValue((field, term), out var cached))
        {
            return cached;
        }

        using var timer = QueryStages.Time(QueryStage.SegmentLoad);

        // A term the segment's field does not hold (most of a query's rare terms in most segments) needs no seek, and a term
        // in one document (most of a query's rare terms where they occur) is read from the vocabulary; neither allocates
        // more than the answer.
        var vocabulary = Vocabulary(reader, field);
        int at = vocabulary.Find(Hash(term));
        if (at < 0)
        {
            return TermPostings.Empty;
        }

        if (vocabulary.SingleDocs[at] >= 0)
        {
            return TermPostings.Single(vocabulary.SingleDocs[at], vocabulary.SingleFreqs[at]);
        }

        var bytes = new BytesRef(term);
        TermsEnum? termsEnum;
        enums ??= new(StringComparer.Ordinal);
        if (!enums.TryGetValue(field, out termsEnum))
        {
            termsEnum = reader.GetTerms(field)?.GetEnumerator();
            enums.Add(field, termsEnum);
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

    /// <summary>The sorted 64-bit hashes of every term of <paramref name="field"/> in the segment, with the posting of each
    /// term in a single document, read once in one pass over the field's terms: a term whose hash is not there is not in
    /// the field (a hash can only make a term look present, never absent).</summary>
    public FieldVocabulary Vocabulary(AtomicReader reader, string field)
    {
        if (_vocabularies.TryGetValue(field, out var cached))
        {
            return cached;
        }

        var built = FieldVocabulary.Read(reader, field);
        if (_vocabularies.TryAdd(field, built))
        {
            Interlocked.Add(ref _bytes, built.MemoryBytes + EntryOverhead);
            return built;
        }

        return _vocabularies[field];
    }

    // The hash of a term as the terms dictionary holds it: its UTF-8 bytes (as Lucene's UnicodeUtil writes them; both put
    // U+FFFD for a lone surrogate), encoded on the stack for a term of usual length.
    internal static ulong Hash(string term)
    {
        int most = System.Text.Encoding.UTF8.GetMaxByteCount(term.Length);
        byte[]? rented = most > 512 ? System.Buffers.ArrayPool<byte>.Shared.Rent(most) : null;
        Span<byte> buffer = rented ?? stackalloc byte[512];
        try
        {
            return Hash(buffer[..System.Text.Encoding.UTF8.GetBytes(term, buffer)]);
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    internal static ulong Hash(BytesRef term) => Hash(term.Bytes.AsSpan(term.Offset, term.Length));

    /// <summary>FNV-1a over <paramref name="bytes"/>, then SplitMix64's avalanche: a term's hash from its UTF-8 bytes.</summary>
    internal static ulong Hash(ReadOnlySpan<byte> bytes)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in bytes)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        hash = (hash ^ (hash >> 30)) * 0xBF58476D1CE4E5B9UL;
        hash = (hash ^ (hash >> 27)) * 0x94D049BB133111EBUL;
        return hash ^ (hash >> 31);
    }

    private sealed record FieldNorms(byte[]? Values);
}

/// <summary>
/// One field's terms in one segment, by hash: <see cref="Hashes"/> ascending (<see cref="SegmentPostings.Hash(string)"/>
/// of each term's UTF-8 bytes), and for a term in exactly one document, that document and the term's frequency there
/// (most of a catalog's rare words, model codes and typos), so that a query asking for one needs no seek.
/// </summary>
/// <remarks>
/// A term is known by its 64-bit hash alone: a term the field does not hold whose hash equals that of a term in one
/// document (about one lookup in 10^14 for a segment of 100,000 terms) would be scored as that term. Immutable;
/// thread-safe.
/// </remarks>
internal sealed class FieldVocabulary
{
    private FieldVocabulary(ulong[] hashes, int[] singleDocs, int[] singleFreqs)
    {
        Hashes = hashes;
        SingleDocs = singleDocs;
        SingleFreqs = singleFreqs;
    }

    /// <summary>The terms' hashes, ascending.</summary>
    public ulong[] Hashes { get; }

    /// <summary>For each hash, the one document (segment doc id, deleted or not) of a term in a single document; -1 for
    /// a term in several.</summary>
    public int[] SingleDocs { get; }

    /// <summary>For each hash, the term's frequency in its single document (0 for a term in several).</summary>
    public int[] SingleFreqs { get; }

    /// <summary>Approximate bytes of the arrays.</summary>
    public long MemoryBytes => 16L * Hashes.Length;

    /// <summary>The index of <paramref name="hash"/> in <see cref="Hashes"/>, or a negative number.</summary>
    public int Find(ulong hash) => Array.BinarySearch(Hashes, hash);

    /// <summary>Reads every term of <paramref name="field"/> in the segment of <paramref name="reader"/>.</summary>
    public static FieldVocabulary Read(AtomicReader reader, string field)
    {
        var hashes = new List<ulong>();
        var docs = new List<int>();
        var freqs = new List<int>();
        if (reader.GetTerms(field)?.GetEnumerator() is { } terms)
        {
            DocsEnum? postings = null;
            while (terms.MoveNext())
            {
                hashes.Add(SegmentPostings.Hash(terms.Term));
                if (terms.DocFreq == 1)
                {
                    // No live docs: deleted documents are kept, as TermPostings.Read keeps them.
                    postings = terms.Docs(null, postings, DocsFlags.FREQS);
                    int doc = postings.NextDoc();
                    docs.Add(doc);
                    freqs.Add(doc == DocIdSetIterator.NO_MORE_DOCS ? 0 : postings.Freq);
                }
                else
                {
                    docs.Add(-1);
                    freqs.Add(0);
                }
            }
        }

        var sortedHashes = hashes.ToArray();
        var order = Enumerable.Range(0, sortedHashes.Length).ToArray();
        Array.Sort(sortedHashes, order);
        var singleDocs = new int[order.Length];
        var singleFreqs = new int[order.Length];
        for (int i = 0; i < order.Length; i++)
        {
            // A hash shared by two terms of the field (never seen in practice) is read from the postings: not a single.
            bool shared = (i > 0 && sortedHashes[i - 1] == sortedHashes[i]) || (i + 1 < order.Length && sortedHashes[i + 1] == sortedHashes[i]);
            singleDocs[i] = shared || docs[order[i]] == DocIdSetIterator.NO_MORE_DOCS ? -1 : docs[order[i]];
            singleFreqs[i] = singleDocs[i] < 0 ? 0 : freqs[order[i]];
        }

        return new FieldVocabulary(sortedHashes, singleDocs, singleFreqs);
    }
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

    /// <summary>The postings of a term in one document.</summary>
    public static TermPostings Single(int doc, int freq) => new([doc], freq == 1 ? null : [freq]);

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
