using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Util;
using ProductSimilarity.Core.Indexing;

namespace ProductSimilarity.Search.Local;

/// <summary>
/// A query's filter and exclusions as a Lucene <see cref="Filter"/> for the in-memory keyword scorer: in a segment whose
/// vectors and columns are in memory (<see cref="SegmentVectors"/>), each document is asked of those columns (the same
/// rules the vector side applies, <see cref="SegmentVectors.Matches"/>), with no term seek and nothing allocated per
/// document; in any other segment, Lucene's translation of the same filter (<see cref="LocalProductIndex.BuildFilter"/>)
/// answers.
/// </summary>
/// <remarks>
/// The seeks of Lucene's translation (one terms enumerator per excluded id and group in every segment, at every query)
/// were most of what a similar-items query allocated. Only the scorer's random access (<see cref="DocIdSet.Bits"/>) is
/// cheap here; the iterator walks every row. Attribute conditions are not columns: a query with one keeps Lucene's
/// translation (<see cref="For"/>).
/// </remarks>
internal sealed class ColumnFilter : Filter
{
    private readonly ProductQuery _query;
    private readonly Func<AtomicReader, SegmentVectors?> _loaded;
    private readonly VectorFilter _columns;
    private Filter? _lucene;

    private ColumnFilter(ProductQuery query, Func<AtomicReader, SegmentVectors?> loaded, VectorFilter columns)
    {
        _query = query;
        _loaded = loaded;
        _columns = columns;
    }

    /// <summary>The filter of <paramref name="query"/> for the in-memory scorer; null when the query has no condition.</summary>
    /// <param name="query">The query.</param>
    /// <param name="loaded">A segment's vectors and columns when they are in memory, else null (nothing is loaded).</param>
    public static Filter? For(ProductQuery query, Func<AtomicReader, SegmentVectors?> loaded)
    {
        if (query.Filter.Attributes.Count > 0)
        {
            return LocalProductIndex.BuildFilter(query);
        }

        // No condition and no exclusion is exactly when Lucene's translation has no clause (BuildFilter returns null).
        var columns = new VectorFilter(query);
        return columns.IsEmpty ? null : new ColumnFilter(query, loaded, columns);
    }

    /// <inheritdoc/>
    /// <remarks>Lucene's translation is built only for a segment whose columns are not in memory. One query's filter is
    /// used by one thread.</remarks>
    public override DocIdSet? GetDocIdSet(AtomicReaderContext context, IBits? acceptDocs)
        => _loaded(context.AtomicReader) is { } segment
            ? new Rows(segment, _columns, acceptDocs)
            : (_lucene ??= LocalProductIndex.BuildFilter(_query)!).GetDocIdSet(context, acceptDocs);

    // The rows of one segment that pass: accepted (live) and admitted by the columns.
    private sealed class Rows(SegmentVectors segment, VectorFilter columns, IBits? accept) : DocIdSet, IBits
    {
        public override IBits Bits => this;

        public override bool IsCacheable => false;

        public int Length => segment.Count;

        public bool Get(int index) => (accept is null || accept.Get(index)) && segment.Matches(index, in columns);

        public override DocIdSetIterator GetIterator() => new Iterator(this);

        private sealed class Iterator(Rows rows) : DocIdSetIterator
        {
            private int _doc = -1;

            public override int DocID => _doc;

            public override int NextDoc() => Advance(_doc + 1);

            public override int Advance(int target)
            {
                for (int doc = Math.Max(target, 0); doc < rows.Length; doc++)
                {
                    if (rows.Get(doc))
                    {
                        return _doc = doc;
                    }
                }

                return _doc = NO_MORE_DOCS;
            }

            public override long GetCost() => rows.Length;
        }
    }
}
