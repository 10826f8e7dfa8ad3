using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Lucene.Net.Util;

namespace ProductSimilarity.Search.Local;

/// <summary>
/// The exact top k of an index's vectors by dot product: the same ids, order and fp32 scores as a dot product
/// (<see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/>) of every admitted row, but reading the
/// int8 copy of each segment (<see cref="QuantizedMatrix"/>) and rescoring in fp32 only the rows that can still reach the
/// top k.
/// </summary>
/// <remarks>
/// <para><b>Why it is exact.</b> For each admitted row the int8 pass gives an approximate score <c>a</c> and a bound
/// <c>E</c> with <c>a − E ≤ F ≤ a + E</c>, where <c>F</c> is the fp32 score the full scan computes. With <c>T</c> the
/// k-th largest lower bound <c>a − E</c> over the admitted rows, k rows have <c>F ≥ T</c>, so a row with
/// <c>a + E &lt; T</c> scores below k others and cannot be in the top k, ties included. Every other admitted row is
/// rescored with the same fp32 call as the full scan and ranked by the same heap, in the same row order, so the result is
/// the full scan's. While scanning, the k-th largest lower bound so far only rises towards <c>T</c>, so rows already below
/// it are dropped at once.</para>
/// <para><b>The bound.</b> The query <c>q</c> is quantised to int16 codes <c>q̂ = s·d</c> (error <c>‖q − q̂‖₂</c>) and the
/// integer dot product <c>Σ c_j d_j</c> is exact, so <c>a = Scale · s · Σ c_j d_j = q̂·x̂</c> up to float rounding, and
/// <c>|q·x − q̂·x̂| ≤ |q·(x − x̂)| + |(q − q̂)·x̂| ≤ min(‖q‖₁‖x − x̂‖∞, ‖q‖₂‖x − x̂‖₂) + ‖q − q̂‖₂(‖x‖₂ + ‖x − x̂‖₂)</c>.
/// The fp32 dot product of n terms, in any summation order, is within <c>γ_n ‖q‖₂‖x‖₂</c> of <c>q·x</c>
/// (<c>γ_n ≈ n·2⁻²⁴</c>; <see cref="FloatRounding"/> takes twice that). Every bound is held rounded up, and the float
/// arithmetic of the bound itself is covered by a relative margin of 2⁻¹⁰, a margin of 2⁻²⁰·|a| and an absolute
/// 10⁻³⁰ (underflow).</para>
/// <para><b>Filters.</b> Rows without a vector, deleted rows and rows failing the filter's column conditions are
/// skipped before the int8 dot product, as before; the excluded ids and groups (hash look-ups) are checked only for rows
/// that reach the bound, which is the same set of admitted rows.</para>
/// <para><b>Segments without an int8 copy</b> (<see cref="SegmentVectors.IsQuantized"/> false while it is being built)
/// are scored in fp32, each row's score serving as both its bounds.</para>
/// <para>Stateless; thread-safe.</para>
/// </remarks>
internal static class ExactVectorScan
{
    private const int CancellationCheckInterval = 8192;
    private const float RelativeMargin = 1f + (1f / 1024);
    private const float ScoreMargin = 1f / (1 << 20);
    private const float AbsoluteMargin = 1e-30f;

    /// <summary>The kernel the index uses: the fastest this CPU runs.</summary>
    public static Int8Kernel DefaultKernel => Int8Dot.Best;

    /// <summary>The top <paramref name="k"/> admitted rows of <paramref name="leaves"/> by dot product with
    /// <paramref name="query"/>, best first (on equal scores the smaller id first): int8 scan, fp32 rescore.</summary>
    /// <param name="leaves">The segments, their doc bases and live docs.</param>
    /// <param name="query">The query vector, as long as every segment's rows.</param>
    /// <param name="k">How many to keep (at least 1).</param>
    /// <param name="filter">The filter and exclusions.</param>
    /// <param name="kernel">The int8 kernel; null scans every row in fp32 (the reference).</param>
    /// <param name="cancellationToken">Checked every few thousand rows.</param>
    /// <returns>Doc (with its leaf's doc base), fp32 score and id of each kept row.</returns>
    public static List<(int Doc, float Score, string Id)> Search(
        IReadOnlyList<Leaf> leaves,
        ReadOnlySpan<float> query,
        int k,
        in VectorFilter filter,
        Int8Kernel? kernel,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        foreach (var leaf in leaves)
        {
            if (leaf.Segment.Dimensions != 0 && leaf.Segment.Dimensions != query.Length)
            {
                throw new ArgumentException($"The query has {query.Length} dimensions; a segment holds {leaf.Segment.Dimensions}.", nameof(query));
            }
        }

        if (kernel is not { } int8 || !float.IsFinite(TensorPrimitives.SumOfMagnitudes(query)))
        {
            // The reference, and the way for a query whose bound would not be finite.
            return FullScan(leaves, query, k, filter, cancellationToken);
        }

        if (!Int8Dot.IsSupported(int8))
        {
            throw new PlatformNotSupportedException($"This CPU does not run the {int8} kernel.");
        }

        return int8 switch
        {
            Int8Kernel.Avx512 => BoundedScan<Int8Dot.Avx512Kernel>(leaves, query, k, filter, cancellationToken),
            Int8Kernel.Avx2 => BoundedScan<Int8Dot.Avx2Kernel>(leaves, query, k, filter, cancellationToken),
            Int8Kernel.Vector128 => BoundedScan<Int8Dot.Vector128Kernel>(leaves, query, k, filter, cancellationToken),
            _ => BoundedScan<Int8Dot.ScalarKernel>(leaves, query, k, filter, cancellationToken),
        };
    }

    // n·2⁻²⁴/(1 − n·2⁻²⁴) bounds the relative error of an n-term float dot product in any order; twice that, rounded up.
    internal static float FloatRounding(int dimensions) => 2f * (dimensions + 2) / (1 << 24);

    // The fp32 scan of every admitted row: what the index did before the int8 copy, kept as the reference.
    private static List<(int Doc, float Score, string Id)> FullScan(
        IReadOnlyList<Leaf> leaves, ReadOnlySpan<float> query, int k, in VectorFilter filter, CancellationToken cancellationToken)
    {
        var heap = new TopK(k);
        foreach (var (segment, docBase, live) in leaves)
        {
            if (segment.Dimensions == 0)
            {
                continue;
            }

            var matrix = segment.Matrix.AsSpan();
            int dims = segment.Dimensions;
            for (int doc = 0; doc < segment.Count; doc++)
            {
                if (doc % CancellationCheckInterval == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                if (!segment.HasVector[doc] || (live is not null && !live.Get(doc)) || !segment.Matches(doc, filter))
                {
                    continue;
                }

                heap.Offer(docBase + doc, TensorPrimitives.Dot(matrix.Slice(doc * dims, dims), query), segment.Ids[doc]);
            }
        }

        return heap.BestFirst();
    }

    private static List<(int Doc, float Score, string Id)> BoundedScan<TKernel>(
        IReadOnlyList<Leaf> leaves, ReadOnlySpan<float> query, int k, in VectorFilter filter, CancellationToken cancellationToken)
        where TKernel : struct, Int8Dot.IKernel
    {
        int dims = query.Length;
        var queryCodes = new short[dims];
        var q = QuantizeQuery(query, queryCodes);

        // The k largest lower bounds so far; its root is the k-th largest once full, the threshold.
        var lowest = new LowerBounds(k);
        float threshold = float.NegativeInfinity;
        var candidates = new List<Candidate>(Math.Min(4 * k, 4096));
        bool columns = filter.HasColumnConditions, exclusions = filter.HasExclusions;

        for (int leafIndex = 0; leafIndex < leaves.Count; leafIndex++)
        {
            var (segment, _, live) = leaves[leafIndex];
            if (segment.Dimensions == 0)
            {
                continue;
            }

            if (!segment.IsQuantized)
            {
                // No int8 copy yet (being built): this segment's rows get their fp32 score as both bounds.
                ScoreInFp32(leafIndex, segment, live, query, filter, lowest, ref threshold, candidates, cancellationToken);
                continue;
            }

            var quantized = segment.Quantized;
            ref sbyte codes = ref MemoryMarshal.GetArrayDataReference(quantized.Codes);
            ref short qCodes = ref MemoryMarshal.GetArrayDataReference(queryCodes);
            var bounds = quantized.Bounds;
            var hasVector = segment.HasVector;
            for (int doc = 0; doc < segment.Count; doc++)
            {
                if (doc % CancellationCheckInterval == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                if (!hasVector[doc] || (live is not null && !live.Get(doc)) || (columns && !segment.MatchesColumns(doc, filter)))
                {
                    continue;
                }

                int dot = TKernel.Dot(ref Unsafe.Add(ref codes, (nint)doc * dims), ref qCodes, dims);
                var (lower, upper) = Interval(q, bounds[doc], dot);
                if (upper < threshold || (exclusions && segment.IsExcluded(doc, filter)))
                {
                    continue;
                }

                threshold = lowest.Add(lower);
                candidates.Add(new Candidate(leafIndex, doc, upper));
            }
        }

        // Rescore in fp32, in row order, every candidate that can still reach the final threshold.
        var heap = new TopK(k);
        int rescored = 0;
        foreach (var (leafIndex, doc, upper) in CollectionsMarshal.AsSpan(candidates))
        {
            if (upper < threshold)
            {
                continue;
            }

            if (++rescored % CancellationCheckInterval == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var (segment, docBase, _) = leaves[leafIndex];
            float score = TensorPrimitives.Dot(segment.Matrix.AsSpan(doc * dims, dims), query);
            heap.Offer(docBase + doc, score, segment.Ids[doc]);
        }

        LastRescored = rescored;
        return heap.BestFirst();
    }

    private static void ScoreInFp32(
        int leafIndex,
        SegmentVectors segment,
        IBits? live,
        ReadOnlySpan<float> query,
        in VectorFilter filter,
        LowerBounds lowest,
        ref float threshold,
        List<Candidate> candidates,
        CancellationToken cancellationToken)
    {
        int dims = segment.Dimensions;
        for (int doc = 0; doc < segment.Count; doc++)
        {
            if (doc % CancellationCheckInterval == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            if (!segment.HasVector[doc] || (live is not null && !live.Get(doc)) || !segment.Matches(doc, filter))
            {
                continue;
            }

            float score = TensorPrimitives.Dot(segment.Matrix.AsSpan(doc * dims, dims), query);
            if (score < threshold)
            {
                continue;
            }

            // A NaN score is kept (as the full scan keeps it) but never raises the threshold.
            threshold = lowest.Add(float.IsNaN(score) ? float.NegativeInfinity : score);
            candidates.Add(new Candidate(leafIndex, doc, float.IsNaN(score) ? float.PositiveInfinity : score));
        }
    }

    /// <summary>
    /// Where a row's fp32 score lies, from its int8 dot product <paramref name="dot"/> with the query's codes: lower ≤ the
    /// score <see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/> gives ≤ upper (see the remarks
    /// of <see cref="ExactVectorScan"/>). A non-finite row gets (−∞, +∞).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (float Lower, float Upper) Interval(in QueryBound q, in RowBound row, int dot)
    {
        float approximate = row.Scale * q.Scale * dot;
        float bound = ((Math.Min(q.L1 * row.ResidualMax, q.L2 * row.ResidualL2) + (q.Error * (row.Norm + row.ResidualL2)) + (q.Rounding * row.Norm))
            * RelativeMargin) + (Math.Abs(approximate) * ScoreMargin) + AbsoluteMargin;

        // Infinite or NaN (a non-finite row, or an overflow): always rescored, never raises the threshold.
        return bound < float.PositiveInfinity
            ? (approximate - bound, approximate + bound)
            : (float.NegativeInfinity, float.PositiveInfinity);
    }

    /// <summary>Rows rescored in fp32 by the last bounded scan on this thread (tests and diagnostics).</summary>
    [field: ThreadStatic]
    internal static int LastRescored { get; private set; }

    /// <summary>Quantises the query to codes within <see cref="Int8Dot.QueryCodeLimit"/>: <c>q̂ = Scale · codes</c>.</summary>
    internal static QueryBound QuantizeQuery(ReadOnlySpan<float> query, Span<short> codes)
    {
        int limit = Int8Dot.QueryCodeLimit(query.Length);
        float scale = Math.Abs(TensorPrimitives.MaxMagnitude(query)) / limit;
        if (!float.IsNormal(scale))
        {
            // Tiny (or zero) query: no codes; the error term then carries the whole query.
            scale = 0;
        }

        double l1 = 0, l2 = 0, error = 0;
        for (int j = 0; j < query.Length; j++)
        {
            int code = scale > 0 ? (int)Math.Clamp(Math.Round(query[j] / (double)scale), -limit, limit) : 0;
            codes[j] = (short)code;
            double residual = query[j] - ((double)scale * code);
            error += residual * residual;
            l1 += Math.Abs(query[j]);
            l2 += (double)query[j] * query[j];
        }

        float norm = QuantizedMatrix.RoundUp(Math.Sqrt(l2));
        return new QueryBound(scale, QuantizedMatrix.RoundUp(l1), norm, QuantizedMatrix.RoundUp(Math.Sqrt(error)), FloatRounding(query.Length) * norm);
    }

    /// <summary>The quantised query's scale and, rounded up, what the row bounds are multiplied by.</summary>
    /// <param name="Scale">The query's value per code step.</param>
    /// <param name="L1">‖q‖₁.</param>
    /// <param name="L2">‖q‖₂.</param>
    /// <param name="Error">‖q − q̂‖₂.</param>
    /// <param name="Rounding">The fp32 dot product's rounding bound per unit of ‖x‖₂: γ · ‖q‖₂.</param>
    internal readonly record struct QueryBound(float Scale, float L1, float L2, float Error, float Rounding);

    /// <summary>One segment of the scan.</summary>
    /// <param name="Segment">Its vectors and columns.</param>
    /// <param name="DocBase">Added to its row numbers to give the reader's doc ids.</param>
    /// <param name="Live">Its live docs; null when nothing is deleted.</param>
    internal readonly record struct Leaf(SegmentVectors Segment, int DocBase, IBits? Live);

    private readonly record struct Candidate(int Leaf, int Doc, float Upper);

    // A min-heap of the k largest values added; Add returns the k-th largest so far (-∞ until k were added).
    private sealed class LowerBounds(int k)
    {
        private readonly float[] _heap = new float[Math.Min(k, 1 << 20)];
        private readonly int _k = k;
        private int _count;

        public float Add(float value)
        {
            if (_count < _k)
            {
                if (_count == _heap.Length)
                {
                    // k beyond the preallocated size: keep everything (-∞ threshold), which is exact, only slower.
                    return float.NegativeInfinity;
                }

                int i = _count++;
                while (i > 0 && _heap[(i - 1) / 2] > value)
                {
                    _heap[i] = _heap[(i - 1) / 2];
                    i = (i - 1) / 2;
                }

                _heap[i] = value;
                return _count == _k ? _heap[0] : float.NegativeInfinity;
            }

            if (value > _heap[0])
            {
                int i = 0;
                while (true)
                {
                    int child = (2 * i) + 1;
                    if (child >= _count)
                    {
                        break;
                    }

                    if (child + 1 < _count && _heap[child + 1] < _heap[child])
                    {
                        child++;
                    }

                    if (_heap[child] >= value)
                    {
                        break;
                    }

                    _heap[i] = _heap[child];
                    i = child;
                }

                _heap[i] = value;
            }

            return _heap[0];
        }
    }

    // The best k rows offered, by (score, id): the ranking the index has always used (LocalProductIndex.WorstFirstComparer).
    private sealed class TopK(int k)
    {
        private readonly PriorityQueue<int, (float Score, string Id)> _heap = new(Math.Min(k, 1 << 16) + 1, LocalProductIndex.WorstFirstComparer);

        public void Offer(int doc, float score, string id)
        {
            if (_heap.Count < k)
            {
                _heap.Enqueue(doc, (score, id));
            }
            else if (_heap.TryPeek(out _, out var worst) && LocalProductIndex.WorstFirstComparer.Compare((score, id), worst) > 0)
            {
                _heap.DequeueEnqueue(doc, (score, id));
            }
        }

        public List<(int Doc, float Score, string Id)> BestFirst()
        {
            var result = new (int Doc, float Score, string Id)[_heap.Count];
            for (int i = result.Length - 1; i >= 0; i--)
            {
                _heap.TryDequeue(out int doc, out var priority);
                result[i] = (doc, priority.Score, priority.Id);
            }

            return [.. result];
        }
    }
}
