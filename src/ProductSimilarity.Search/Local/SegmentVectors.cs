using System.Globalization;
using System.Runtime.InteropServices;
using Lucene.Net.Index;
using ProductSimilarity.Core.Indexing;

namespace ProductSimilarity.Search.Local;

/// <summary>
/// The vectors and filter columns of one Lucene segment, held in memory for exact search: one contiguous row-major
/// <c>float[]</c> matrix (row = segment doc id) and one array per filter column.
/// </summary>
/// <remarks>
/// Lucene segments are immutable, so this is loaded once per segment core and shared by every reader generation that
/// contains the segment; deletions are applied at search time from the reader's live docs. Loaded rows include
/// deleted documents (their stored fields stay readable until a merge drops them). Immutable after construction, apart
/// from the int8 copy (<see cref="Quantized"/>) built once under a lock; thread-safe.
/// </remarks>
internal sealed class SegmentVectors
{
    private static readonly HashSet<string> LoadedFields =
    [
        ProductFields.Id, ProductFields.Vector, ProductFields.Category, ProductFields.Brand, ProductFields.Price,
        ProductFields.InStock, ProductFields.Source, ProductFields.GroupId,
    ];

    private readonly System.Threading.Lock _quantizeGate = new();
    private QuantizedMatrix? _quantized;
    private int _quantizeStarted;

    // The rows by product id: IdHash of each row's id, ascending, and the rows in that order (IndexIds).
    private ulong[] _idHashes = [];
    private int[] _idRows = [];

    private SegmentVectors(int count, int dimensions)
    {
        Count = count;
        Dimensions = dimensions;
        Matrix = new float[(long)count * dimensions];
        HasVector = new bool[count];
        Hashes = new ulong[count];
        Ids = new string[count];
        Categories = new string?[count];
        Brands = new string?[count];
        Prices = new double[count];
        InStock = new sbyte[count];
        Sources = new string?[count];
        GroupIds = new string?[count];
    }

    /// <summary>Rows (the segment's max doc).</summary>
    public int Count { get; }

    /// <summary>Vector dimensions of this segment, 0 when it holds no vector.</summary>
    public int Dimensions { get; }

    /// <summary>Row-major vectors, <see cref="Count"/> x <see cref="Dimensions"/>.</summary>
    public float[] Matrix { get; }

    /// <summary>Whether the row has a vector of <see cref="Dimensions"/> floats.</summary>
    public bool[] HasVector { get; }

    /// <summary>A fingerprint of each row's vector bytes (<see cref="Fingerprint"/>), 0 without a vector; the HNSW graph
    /// compares it with its own record to know whether a product's vector changed.</summary>
    public ulong[] Hashes { get; }

    /// <summary>Product ids.</summary>
    public string[] Ids { get; }

    /// <summary>Categories folded with <see cref="ProductFilter.Key"/>.</summary>
    public string?[] Categories { get; }

    /// <summary>Brands folded with <see cref="ProductFilter.Key"/>.</summary>
    public string?[] Brands { get; }

    /// <summary>Prices, NaN when missing.</summary>
    public double[] Prices { get; }

    /// <summary>Stock flag: 1 true, 0 false, -1 unknown.</summary>
    public sbyte[] InStock { get; }

    /// <summary>Sources.</summary>
    public string?[] Sources { get; }

    /// <summary>Variant group ids.</summary>
    public string?[] GroupIds { get; }

    /// <summary>Whether <see cref="Quantized"/> has been built.</summary>
    public bool IsQuantized => Volatile.Read(ref _quantized) is not null;

    /// <summary>The int8 copy of <see cref="Matrix"/> that the exact scan reads first (<see cref="QuantizedMatrix"/>),
    /// built on first use: an index served by its HNSW graph never needs it.</summary>
    public QuantizedMatrix Quantized
    {
        get
        {
            if (Volatile.Read(ref _quantized) is { } built)
            {
                return built;
            }

            lock (_quantizeGate)
            {
                return _quantized ??= QuantizedMatrix.Build(Matrix, HasVector, Count, Dimensions);
            }
        }
    }

    /// <summary>Starts building <see cref="Quantized"/> on the thread pool, once; meanwhile scans read this segment in fp32.
    /// So the first query of a process, or the first after a commit, never waits for the int8 copy.</summary>
    public void QuantizeInBackground()
    {
        if (Volatile.Read(ref _quantized) is null && Interlocked.Exchange(ref _quantizeStarted, 1) == 0)
        {
            _ = Task.Run(() => Quantized);
        }
    }

    /// <summary>Approximate bytes this segment holds in memory (matrix, its int8 copy once built, columns; strings
    /// counted at their length).</summary>
    public long MemoryBytes
    {
        get
        {
            long bytes = (Matrix.LongLength * sizeof(float)) + (Count * (1L + 8 + 8 + 1 + (6 * 8) + 8 + 4));
            if (Volatile.Read(ref _quantized) is { } quantized)
            {
                bytes += quantized.MemoryBytes;
            }

            foreach (var id in Ids)
            {
                bytes += 24 + (2L * id.Length);
            }

            return bytes;
        }
    }

    /// <summary>A segment built from rows in memory (tests and benchmarks; the index reads segments with
    /// <see cref="Load"/>). A null vector is a row without one; filter columns start empty and can be set.</summary>
    internal static SegmentVectors Create(IReadOnlyList<string> ids, IReadOnlyList<float[]?> vectors)
    {
        int dimensions = vectors.FirstOrDefault(v => v is { Length: > 0 })?.Length ?? 0;
        var segment = new SegmentVectors(ids.Count, dimensions);
        for (int doc = 0; doc < ids.Count; doc++)
        {
            segment.Ids[doc] = ids[doc];
            segment.Prices[doc] = double.NaN;
            segment.InStock[doc] = -1;
            if (vectors[doc] is { } v && v.Length == dimensions && dimensions > 0)
            {
                v.CopyTo(segment.Matrix.AsSpan(doc * dimensions, dimensions));
                segment.HasVector[doc] = true;
                segment.Hashes[doc] = Fingerprint(MemoryMarshal.AsBytes(v.AsSpan()));
            }
        }

        segment.IndexIds();
        return segment;
    }

    /// <summary>Reads every document of the segment.</summary>
    public static SegmentVectors Load(AtomicReader reader)
    {
        int count = reader.MaxDoc;
        var rows = new Row[count];
        int dimensions = 0;
        var visitor = new RowVisitor();
        for (int doc = 0; doc < count; doc++)
        {
            visitor.Row = new Row();
            reader.Document(doc, visitor);
            rows[doc] = visitor.Row;
            if (dimensions == 0 && visitor.Row.Vector is { Length: > 0 } v)
            {
                dimensions = v.Length / sizeof(float);
            }
        }

        var segment = new SegmentVectors(count, dimensions);
        for (int doc = 0; doc < count; doc++)
        {
            var row = rows[doc];
            segment.Ids[doc] = row.Id ?? string.Empty;
            segment.Categories[doc] = ProductFilter.Key(row.Category);
            segment.Brands[doc] = ProductFilter.Key(row.Brand);
            segment.Prices[doc] = row.Price is null ? double.NaN : (double)decimal.Parse(row.Price, NumberStyles.Number, CultureInfo.InvariantCulture);
            segment.InStock[doc] = row.InStock switch
            {
                ProductFields.True => 1,
                ProductFields.False => 0,
                _ => -1,
            };
            segment.Sources[doc] = row.Source;
            segment.GroupIds[doc] = row.GroupId;
            if (row.Vector is { } bytes && bytes.Length == dimensions * sizeof(float) && dimensions > 0)
            {
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(segment.Matrix.AsSpan(doc * dimensions, dimensions));
                segment.HasVector[doc] = true;
                segment.Hashes[doc] = Fingerprint(bytes);
            }
        }

        segment.IndexIds();
        return segment;
    }

    /// <summary>The row of product <paramref name="id"/> that <paramref name="live"/> holds live (any row when null), or
    /// -1: a lookup in memory, with no seek in the segment's terms (a row's id is compared, so a hash collision cannot
    /// return another product).</summary>
    /// <param name="id">The product id.</param>
    /// <param name="live">The reader's live docs of this segment; null when none is deleted.</param>
    public int FindRow(string id, Lucene.Net.Util.IBits? live)
    {
        ulong hash = IdHash(id);
        int i = Array.BinarySearch(_idHashes, hash);
        if (i < 0)
        {
            return -1;
        }

        // The first row with this hash, then each in turn (an updated product's old row is deleted, its new one live).
        while (i > 0 && _idHashes[i - 1] == hash)
        {
            i--;
        }

        for (; i < _idHashes.Length && _idHashes[i] == hash; i++)
        {
            int row = _idRows[i];
            if ((live is null || live.Get(row)) && string.Equals(Ids[row], id, StringComparison.Ordinal))
            {
                return row;
            }
        }

        return -1;
    }

    // The hash of an id's UTF-16 code units, with the vocabulary's hash (in-process only; never stored).
    private static ulong IdHash(string id) => SegmentPostings.Hash(MemoryMarshal.AsBytes(id.AsSpan()));

    private void IndexIds()
    {
        var hashes = new ulong[Count];
        var rows = new int[Count];
        for (int row = 0; row < Count; row++)
        {
            hashes[row] = IdHash(Ids[row]);
            rows[row] = row;
        }

        // Among equal hashes the order does not matter: a segment holds one live row per id.
        Array.Sort(hashes, rows);
        _idHashes = hashes;
        _idRows = rows;
    }

    /// <summary>A 64-bit fingerprint of a vector's bytes, stable across processes and machines (not a security hash:
    /// it only tells a re-embedded product from an unchanged one).</summary>
    public static ulong Fingerprint(ReadOnlySpan<byte> bytes)
    {
        // FNV-1a style over 8-byte words with a rotation (so high bits reach low ones), then SplitMix64's avalanche.
        ulong hash = 14695981039346656037UL ^ (ulong)bytes.Length;
        var words = MemoryMarshal.Cast<byte, ulong>(bytes);
        foreach (var word in words)
        {
            hash = System.Numerics.BitOperations.RotateLeft((hash ^ word) * 1099511628211UL, 29);
        }

        for (int i = words.Length * sizeof(ulong); i < bytes.Length; i++)
        {
            hash = (hash ^ bytes[i]) * 1099511628211UL;
        }

        hash = (hash ^ (hash >> 30)) * 0xBF58476D1CE4E5B9UL;
        hash = (hash ^ (hash >> 27)) * 0x94D049BB133111EBUL;
        return hash ^ (hash >> 31);
    }

    /// <summary>Whether row <paramref name="doc"/> passes the filter and exclusions of <paramref name="query"/>: the columnar
    /// translation of <see cref="ProductQuery.Admits"/>, same rules, no per-row product object.</summary>
    public bool Matches(int doc, in VectorFilter query)
        => query.IsEmpty || (MatchesColumns(doc, query) && !IsExcluded(doc, query));

    /// <summary>Whether row <paramref name="doc"/> passes the filter of <paramref name="query"/>, leaving out the excluded
    /// ids and groups (<see cref="IsExcluded"/>); <see cref="Matches"/> is both.</summary>
    public bool MatchesColumns(int doc, in VectorFilter query)
    {
        if (!query.HasColumnConditions)
        {
            return true;
        }

        var f = query.Filter;
        if (query.Category is { } category && !string.Equals(Categories[doc], category, StringComparison.Ordinal))
        {
            return false;
        }

        if (query.Brand is { } brand && !string.Equals(Brands[doc], brand, StringComparison.Ordinal))
        {
            return false;
        }

        if (query.MinPrice is { } min && !(Prices[doc] >= min))
        {
            return false;
        }

        if (query.MaxPrice is { } max && !(Prices[doc] <= max))
        {
            return false;
        }

        if (f.InStock is { } inStock && InStock[doc] != (inStock ? 1 : 0))
        {
            return false;
        }

        if (f.Source is { } source && !string.Equals(Sources[doc], source, StringComparison.Ordinal))
        {
            return false;
        }

        if (f.ExcludeSource is { } excluded && string.Equals(Sources[doc], excluded, StringComparison.Ordinal))
        {
            return false;
        }

        return query.AttributeDocs is not { } attributeDocs || (attributeDocs.TryGetValue(this, out var rows) && rows.Get(doc));
    }

    /// <summary>Whether row <paramref name="doc"/> is one of the query's excluded ids or in one of its excluded groups.</summary>
    public bool IsExcluded(int doc, in VectorFilter query)
        => (query.ExcludeIds.Count > 0 && query.ExcludeIds.Contains(Ids[doc]))
            || (query.ExcludeGroupIds.Count > 0 && GroupIds[doc] is { } group && query.ExcludeGroupIds.Contains(group));

    private sealed class Row
    {
        public string? Id;
        public byte[]? Vector;
        public string? Category;
        public string? Brand;
        public string? Price;
        public string? InStock;
        public string? Source;
        public string? GroupId;
    }

    private sealed class RowVisitor : StoredFieldVisitor
    {
        public Row Row { get; set; } = new();

        public override Status NeedsField(FieldInfo fieldInfo)
            => LoadedFields.Contains(fieldInfo.Name) ? Status.YES : Status.NO;

        public override void BinaryField(FieldInfo fieldInfo, byte[] value)
        {
            if (fieldInfo.Name == ProductFields.Vector)
            {
                Row.Vector = value;
            }
        }

        public override void StringField(FieldInfo fieldInfo, string value)
        {
            switch (fieldInfo.Name)
            {
                case ProductFields.Id: Row.Id = value; break;
                case ProductFields.Category: Row.Category = value; break;
                case ProductFields.Brand: Row.Brand = value; break;
                case ProductFields.Price: Row.Price = value; break;
                case ProductFields.InStock: Row.InStock = value; break;
                case ProductFields.Source: Row.Source = value; break;
                case ProductFields.GroupId: Row.GroupId = value; break;
                default: break;
            }
        }
    }
}

/// <summary>The vector side's view of a query's filter and exclusions, with the case-insensitive keys pre-lowered.</summary>
internal readonly struct VectorFilter
{
    public VectorFilter(ProductQuery query, IReadOnlyDictionary<SegmentVectors, Lucene.Net.Util.FixedBitSet>? attributeDocs = null)
    {
        AttributeDocs = attributeDocs;
        Filter = query.Filter;
        Category = ProductFilter.Key(query.Filter.Category);
        Brand = ProductFilter.Key(query.Filter.Brand);
        MinPrice = query.Filter.MinPrice is { } min ? (double)min : null;
        MaxPrice = query.Filter.MaxPrice is { } max ? (double)max : null;
        ExcludeIds = query.ExcludeIds;
        ExcludeGroupIds = query.ExcludeGroupIds;
        HasColumnConditions = !query.Filter.IsEmpty || attributeDocs is not null;
        HasExclusions = ExcludeIds.Count > 0 || ExcludeGroupIds.Count > 0;
        IsEmpty = !HasColumnConditions && !HasExclusions;
    }

    public ProductFilter Filter { get; }

    public string? Category { get; }

    public string? Brand { get; }

    public double? MinPrice { get; }

    public double? MaxPrice { get; }

    public IReadOnlySet<string> ExcludeIds { get; }

    public IReadOnlySet<string> ExcludeGroupIds { get; }

    // Per segment, the rows that pass the attribute conditions; null when the filter has none.
    public IReadOnlyDictionary<SegmentVectors, Lucene.Net.Util.FixedBitSet>? AttributeDocs { get; }

    public bool IsEmpty { get; }

    // Conditions on the rows' columns (category, price, attributes...), apart from the exclusions.
    public bool HasColumnConditions { get; }

    // Excluded ids or groups.
    public bool HasExclusions { get; }
}
