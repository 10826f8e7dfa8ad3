using System.Numerics.Tensors;
using Lucene.Net.Util;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Search.Local;

namespace ProductSimilarity.Search.Tests.Local;

/// <summary>
/// The int8 scan with fp32 rescoring (<see cref="ExactVectorScan"/>) against a plain fp32 brute force written here: the same
/// ids, order and bit-identical scores, on random and adversarial data, with every int8 kernel this CPU runs (the AVX-512
/// cases are skipped on CPUs without it; the AVX2, 128-bit and scalar ones run on every x64 CPU, so a CI machine of either
/// kind covers the kernels the other one uses).
/// </summary>
public sealed class ExactVectorScanTests
{
    // Kernel names (Int8Kernel is internal, so test signatures take the name).
    public static TheoryData<string> Kernels => ["Scalar", "Vector128", "Avx2", "Avx512"];

    [SkippableTheory]
    [MemberData(nameof(Kernels))]
    public void Search_RandomSegmentsDeletesFiltersAndK_SameAsFp32BruteForce(string name)
    {
        var kernel = Kernel(name);
        int[] dimensionChoices = [1, 3, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 384, 385];
        for (int seed = 0; seed < 300; seed++)
        {
            var random = new Random(seed);
            int dims = dimensionChoices[random.Next(dimensionChoices.Length)];
            var data = TestSegments.Random(random, dims, segments: random.Next(1, 4), maxRows: 250);
            var query = Vectors.Query(random, dims);
            int k = random.Next(1, data.Rows + 12);
            var productQuery = data.RandomQuery(random);

            AssertSameAsBruteForce(data, query, k, productQuery, kernel, $"seed {seed}, dims {dims}, k {k}");
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Kernels))]
    public void Search_AdversarialVectors_SameAsFp32BruteForce(string name)
    {
        var kernel = Kernel(name);
        foreach (var shape in Enum.GetValues<Shape>())
        {
            for (int seed = 0; seed < 20; seed++)
            {
                var random = new Random(1000 + seed);
                int dims = seed % 2 == 0 ? 384 : 37;
                var data = TestSegments.Adversarial(random, dims, shape);
                var query = shape switch
                {
                    Shape.OneHugeComponent when seed % 3 == 0 => Vectors.OneHot(dims, random.Next(dims), 1e6f),
                    Shape.Zero when seed % 3 == 0 => new float[dims],
                    Shape.Tiny => [.. Vectors.Query(random, dims).Select(v => v * 1e-35f)],
                    _ => Vectors.Query(random, dims),
                };
                int k = seed % 4 == 0 ? data.Rows + 5 : random.Next(1, 40);
                AssertSameAsBruteForce(data, query, k, data.RandomQuery(random), kernel, $"{shape}, seed {seed}, k {k}");
            }
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Kernels))]
    public void Search_ManyNearTiesAroundTheKthScore_KeepsFp32OrderAndIdTieBreak(string name)
    {
        var kernel = Kernel(name);
        var random = new Random(5);
        const int dims = 384;
        var query = Vectors.Query(random, dims);

        // 600 rows within a few float steps of each other (and some exact duplicates), so the k-th score is a tie of many.
        var vectors = new List<float[]?>();
        var basis = Vectors.Query(random, dims);
        for (int i = 0; i < 600; i++)
        {
            var v = (float[])basis.Clone();
            if (i % 3 != 0)
            {
                int j = random.Next(dims);
                v[j] = MathF.BitIncrement(v[j]);
            }

            vectors.Add(v);
        }

        var ids = Enumerable.Range(0, vectors.Count).Select(i => $"t{(i * 7919) % 600:D4}").ToList();
        var data = new TestSegments([new TestSegment(Quantized(SegmentVectors.Create(ids, vectors)), null)]);
        foreach (int k in new[] { 1, 10, 50, 200, 599, 600 })
        {
            AssertSameAsBruteForce(data, query, k, new ProductQuery { Vector = query }, kernel, $"k {k}");
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Kernels))]
    public void Search_RandomUnitVectors_RescoresFewRows(string name)
    {
        var kernel = Kernel(name);
        var random = new Random(11);
        const int dims = 384, rows = 5000;
        var ids = Enumerable.Range(0, rows).Select(i => $"r{i:D5}").ToList();
        var vectors = Enumerable.Range(0, rows).Select(_ => (float[]?)Vectors.Unit(random, dims)).ToList();
        var data = new TestSegments([new TestSegment(Quantized(SegmentVectors.Create(ids, vectors)), null)]);
        var query = Vectors.Unit(random, dims);

        AssertSameAsBruteForce(data, query, 50, new ProductQuery { Vector = query }, kernel, "unit vectors");

        // The bound prunes: without it every row would be rescored (a broken bound shows as wrong results above instead).
        Assert.InRange(ExactVectorScan.LastRescored, 50, rows / 4);
    }

    [SkippableTheory]
    [MemberData(nameof(Kernels))]
    public void Search_RoundingErrorsAllOneWay_StillExact(string name)
    {
        var kernel = Kernel(name);

        // Every component of a row sits just below or just above the middle between two codes, so rows of nearly the
        // same true score get int8 scores nearly two worst-case bounds apart, and the true order often differs from theirs:
        // a bound any tighter than proven drops true top rows here (random vectors stay far inside the bound and would not
        // show it).
        const int dims = 384, rows = 3000;
        var query = Enumerable.Repeat(1f / MathF.Sqrt(dims), dims).ToArray();
        for (int seed = 0; seed < 4; seed++)
        {
            var random = new Random(17 + seed);
            var ids = new List<string>();
            var vectors = new List<float[]?>();
            for (int i = 0; i < rows; i++)
            {
                const float step = 1f / QuantizedMatrix.CodeLimit;
                // Just below or just above a half step: rounded down or up, by nearly half a step in every component.
                float offset = random.Next(2) == 0 ? 0.499f : 0.501f;
                var v = new float[dims];
                v[0] = 1f;
                for (int j = 1; j < dims; j++)
                {
                    v[j] = (random.Next(-17, 18) + offset) * step;
                }

                ids.Add($"e{i:D5}");
                vectors.Add(v);
            }

            var data = new TestSegments([new TestSegment(Quantized(SegmentVectors.Create(ids, vectors)), null)]);
            foreach (int k in new[] { 1, 2, 3, 5, 10, 20, 50, 100 })
            {
                AssertSameAsBruteForce(data, query, k, new ProductQuery { Vector = query }, kernel, $"seed {seed}, k {k}");
            }
        }
    }

    [Fact]
    public void Search_NoKernel_ScansEveryRowInFp32()
    {
        var random = new Random(3);
        var data = TestSegments.Random(random, 64, segments: 2, maxRows: 100);
        var query = Vectors.Query(random, 64);
        AssertSameAsBruteForce(data, query, 10, data.RandomQuery(random), kernel: null, "fp32 reference");
    }

    [Fact]
    public void Search_NonFiniteQuery_FallsBackToFp32()
    {
        var random = new Random(4);
        var data = TestSegments.Random(random, 16, segments: 1, maxRows: 50);
        var query = Vectors.Query(random, 16);
        query[3] = float.PositiveInfinity;
        var q = new ProductQuery { Vector = query };
        var expected = BruteForce(data, query, 5, q);
        var actual = ExactVectorScan.Search(data.Leaves, query, 5, new VectorFilter(q), Int8Dot.Best, CancellationToken.None);
        AssertSame(expected, actual, "infinite query component");
    }

    [Fact]
    public void Search_QueryOfOtherLength_Throws()
    {
        var data = new TestSegments([new TestSegment(SegmentVectors.Create(["a"], [[1f, 0f]]), null)]);
        float[] query = [1f, 0f, 0f];
        Assert.Throws<ArgumentException>(() => ExactVectorScan.Search(
            data.Leaves, query, 1, new VectorFilter(new ProductQuery { Vector = query }), Int8Dot.Best, CancellationToken.None));
    }

    [Fact]
    public void Interval_RandomAndAdversarialRows_HoldsTheFp32Score()
    {
        var random = new Random(21);
        for (int trial = 0; trial < 20_000; trial++)
        {
            int dims = random.Next(1, 700);
            var shape = (Shape)(trial % Enum.GetValues<Shape>().Length);
            var x = Vectors.Row(random, dims, shape, 0);
            var query = (trial % 5 == 0 ? Vectors.Row(random, dims, shape, 1) : null) ?? Vectors.Query(random, dims);
            if (x is null || !x.All(float.IsFinite) || !query.All(float.IsFinite))
            {
                continue;
            }

            var codes = new sbyte[dims];
            var row = QuantizedMatrix.Quantize(x, codes);
            var queryCodes = new short[dims];
            var q = ExactVectorScan.QuantizeQuery(query, queryCodes);
            int dot = Int8Dot.Dot(Int8Kernel.Scalar, codes, queryCodes);
            var (lower, upper) = ExactVectorScan.Interval(q, row, dot);
            float score = TensorPrimitives.Dot(x, query);
            Assert.True(lower <= score && score <= upper, $"trial {trial} ({shape}, {dims} dims): {score} outside [{lower}, {upper}]");
        }
    }

    [Fact]
    public void Interval_RandomUnitVectors_IsNarrowEnoughToPrune()
    {
        // 384 dimensions, unit vectors: the half-width stays near 0.007, far below the spread of random scores (0.05).
        var random = new Random(2);
        var x = Vectors.Unit(random, 384);
        var codes = new sbyte[384];
        var row = QuantizedMatrix.Quantize(x, codes);
        var queryCodes = new short[384];
        var q = ExactVectorScan.QuantizeQuery(Vectors.Unit(random, 384), queryCodes);
        var (lower, upper) = ExactVectorScan.Interval(q, row, Int8Dot.Dot(Int8Kernel.Scalar, codes, queryCodes));
        Assert.InRange(upper - lower, 1e-4f, 0.03f);
    }

    [Fact]
    public void Quantize_RandomAndAdversarialRows_BoundsHoldTheExactResiduals()
    {
        var random = new Random(31);
        for (int trial = 0; trial < 5000; trial++)
        {
            int dims = random.Next(1, 1100);
            var x = Vectors.Row(random, dims, (Shape)(trial % Enum.GetValues<Shape>().Length), trial);
            if (x is null || !x.All(float.IsFinite))
            {
                continue;
            }

            var codes = new sbyte[dims];
            var row = QuantizedMatrix.Quantize(x, codes);
            double squares = 0, max = 0, norm = 0;
            for (int j = 0; j < dims; j++)
            {
                double residual = x[j] - ((double)row.Scale * codes[j]);
                squares += residual * residual;
                max = Math.Max(max, Math.Abs(residual));
                norm += (double)x[j] * x[j];
            }

            string at = $"trial {trial}, {dims} dims";
            Assert.True(codes.All(c => c is >= -127 and <= 127), at);
            Assert.True(row.ResidualL2 >= Math.Sqrt(squares) && row.ResidualL2 <= (Math.Sqrt(squares) * 1.001) + 1e-20, $"{at}: L2 {row.ResidualL2} for {Math.Sqrt(squares)}");
            Assert.True(row.ResidualMax >= max && row.ResidualMax <= (max * 1.001) + 1e-20, $"{at}: max {row.ResidualMax} for {max}");
            Assert.True(row.Norm >= Math.Sqrt(norm) && row.Norm <= (Math.Sqrt(norm) * 1.001) + 1e-20, $"{at}: norm {row.Norm} for {Math.Sqrt(norm)}");
            Assert.True(row.ResidualMax <= (row.Scale * 0.5 * 1.001) + 1e-20 || row.Scale == 0, $"{at}: a code is off by more than half a step");
        }
    }

    [Fact]
    public void Quantize_NonFiniteRow_GetsInfiniteBounds()
    {
        var codes = new sbyte[3];
        var row = QuantizedMatrix.Quantize([1f, float.NaN, 2f], codes);
        var (lower, upper) = ExactVectorScan.Interval(new ExactVectorScan.QueryBound(1, 1, 1, 0, 0), row, 0);
        Assert.Equal(float.NegativeInfinity, lower);
        Assert.Equal(float.PositiveInfinity, upper);
        Assert.All(codes, c => Assert.Equal(0, c));
    }

    [SkippableTheory]
    [MemberData(nameof(Kernels))]
    public void Dot_RandomAndExtremeCodes_EqualsTheWideSum(string name)
    {
        var kernel = Kernel(name);
        var random = new Random(9);
        for (int length = 0; length <= 200; length++)
        {
            foreach (bool extreme in new[] { false, true })
            {
                var codes = new sbyte[length];
                var query = new short[length];
                for (int j = 0; j < length; j++)
                {
                    // Extreme: every product at the largest magnitude, the sign of the pair kept equal so the sum grows.
                    codes[j] = extreme ? (sbyte)(j % 2 == 0 ? -127 : 127) : (sbyte)random.Next(-127, 128);
                    query[j] = extreme ? (short)(j % 2 == 0 ? -32767 : 32767) : (short)random.Next(-32767, 32768);
                }

                long expected = 0;
                for (int j = 0; j < length; j++)
                {
                    expected += codes[j] * (long)query[j];
                }

                Assert.Equal(expected, Int8Dot.Dot(kernel, codes, query));
            }
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Kernels))]
    public void Dot_LongestVectorAtTheQueryCodeLimit_DoesNotOverflow(string name)
    {
        var kernel = Kernel(name);
        foreach (int length in new[] { 384, 516, 517, 768, 1536, 3072 })
        {
            int limit = Int8Dot.QueryCodeLimit(length);
            var codes = Enumerable.Repeat((sbyte)127, length).ToArray();
            var query = Enumerable.Repeat((short)limit, length).ToArray();
            long expected = 127L * limit * length;
            Assert.True(expected <= int.MaxValue, $"{length}: the limit {limit} lets the sum overflow");
            Assert.Equal(expected, Int8Dot.Dot(kernel, codes, query));
        }
    }

    [Fact]
    public void Dot_UnsupportedKernel_ThrowsPlatformNotSupported()
    {
        foreach (var kernel in Enum.GetValues<Int8Kernel>().Where(k => !Int8Dot.IsSupported(k)))
        {
            Assert.Throws<PlatformNotSupportedException>(() => Int8Dot.Dot(kernel, new sbyte[4], new short[4]));
        }

        Assert.True(Int8Dot.IsSupported(Int8Dot.Best));
    }

    private static SegmentVectors Quantized(SegmentVectors segment)
    {
        _ = segment.Quantized;
        return segment;
    }

    private static Int8Kernel Kernel(string name)
    {
        var kernel = Enum.Parse<Int8Kernel>(name);
        Skip.IfNot(Int8Dot.IsSupported(kernel), $"This CPU does not run {kernel}.");
        return kernel;
    }

    private static void AssertSameAsBruteForce(TestSegments data, float[] query, int k, ProductQuery productQuery, Int8Kernel? kernel, string because)
    {
        var expected = BruteForce(data, query, k, productQuery);
        var actual = ExactVectorScan.Search(data.Leaves, query, k, data.Filter(productQuery), kernel, CancellationToken.None);
        AssertSame(expected, actual, because);
    }

    private static void AssertSame(List<(int Doc, float Score, string Id)> expected, List<(int Doc, float Score, string Id)> actual, string because)
    {
        Assert.True(expected.Count == actual.Count, $"{because}: {actual.Count} hits, expected {expected.Count}");
        for (int i = 0; i < expected.Count; i++)
        {
            var (e, a) = (expected[i], actual[i]);
            Assert.True(
                e.Id == a.Id && e.Doc == a.Doc && BitConverter.SingleToInt32Bits(e.Score) == BitConverter.SingleToInt32Bits(a.Score),
                $"{because}: hit {i} is {a.Id} (doc {a.Doc}, {a.Score:R}), expected {e.Id} (doc {e.Doc}, {e.Score:R})");
        }
    }

    // Every admitted row's fp32 dot product, sorted by score (descending; NaN last) then id: the plain answer.
    private static List<(int Doc, float Score, string Id)> BruteForce(TestSegments data, float[] query, int k, ProductQuery productQuery)
    {
        var all = new List<(int Doc, float Score, string Id)>();
        foreach (var (segment, docBase, live) in data.Leaves)
        {
            for (int doc = 0; doc < segment.Count; doc++)
            {
                if (!segment.HasVector[doc] || (live is not null && !live.Get(doc)) || !data.Admits(segment, doc, productQuery))
                {
                    continue;
                }

                all.Add((docBase + doc, TensorPrimitives.Dot(segment.Matrix.AsSpan(doc * segment.Dimensions, segment.Dimensions), query), segment.Ids[doc]));
            }
        }

        return [.. all.OrderByDescending(h => h.Score).ThenBy(h => h.Id, StringComparer.Ordinal).Take(k)];
    }

    internal enum Shape
    {
        NearDuplicates,
        OneHugeComponent,
        Zero,
        Tiny,
        Mixed,
        NonFinite,
    }

    private sealed record TestSegment(SegmentVectors Segment, FixedBitSet? Live);

    // Segments with ids unique across them, categories and groups, random deletes.
    private sealed class TestSegments(IReadOnlyList<TestSegment> segments)
    {
        private static readonly string[] Categories = ["audio", "video", "books"];

        public IReadOnlyList<ExactVectorScan.Leaf> Leaves { get; } = Build(segments);

        public int Rows => segments.Sum(s => s.Segment.Count);

        public static TestSegments Random(Random random, int dims, int segments, int maxRows)
        {
            var list = new List<TestSegment>();
            int next = 0;
            for (int s = 0; s < segments; s++)
            {
                int rows = random.Next(0, maxRows + 1);
                var vectors = new List<float[]?>();
                var ids = new List<string>();
                for (int i = 0; i < rows; i++)
                {
                    ids.Add($"p{random.Next(100_000):D6}-{next++}");
                    vectors.Add(random.Next(20) == 0 ? null : random.Next(4) == 0 ? Vectors.Query(random, dims) : Vectors.Unit(random, dims));
                }

                list.Add(WithColumns(random, ids, vectors));
            }

            return new TestSegments(list);
        }

        public static TestSegments Adversarial(Random random, int dims, Shape shape)
        {
            var list = new List<TestSegment>();
            int next = 0;
            for (int s = 0; s < 2; s++)
            {
                int rows = random.Next(1, 200);
                var ids = new List<string>();
                var vectors = new List<float[]?>();
                for (int i = 0; i < rows; i++)
                {
                    ids.Add($"a{(next * 31) % 997:D4}-{next}");
                    vectors.Add(Vectors.Row(random, dims, shape, next));
                    next++;
                }

                list.Add(WithColumns(random, ids, vectors));
            }

            return new TestSegments(list);
        }

        public ProductQuery RandomQuery(Random random)
        {
            var all = Leaves.SelectMany(l => l.Segment.Ids).ToList();
            var excluded = new HashSet<string>(StringComparer.Ordinal);
            int exclusions = all.Count == 0 ? 0 : random.Next(0, 4);
            for (int i = 0; i < exclusions; i++)
            {
                excluded.Add(all[random.Next(all.Count)]);
            }

            return new ProductQuery
            {
                Vector = new float[1],
                ExcludeIds = excluded,
                ExcludeGroupIds = random.Next(3) == 0 ? new HashSet<string>(StringComparer.Ordinal) { "g1" } : new HashSet<string>(StringComparer.Ordinal),
                Filter = random.Next(3) switch
                {
                    0 => new ProductFilter(),
                    1 => new ProductFilter { Category = Categories[random.Next(Categories.Length)] },
                    _ => new ProductFilter { MaxPrice = random.Next(0, 100) },
                },
            };
        }

        public VectorFilter Filter(ProductQuery query) => new(query);

        // The rules written out again from the columns, not through SegmentVectors.Matches.
        public bool Admits(SegmentVectors segment, int doc, ProductQuery query)
        {
            var f = query.Filter;
            return (f.Category is null || segment.Categories[doc] == f.Category)
                && (f.MaxPrice is null || segment.Prices[doc] <= (double)f.MaxPrice.Value)
                && !query.ExcludeIds.Contains(segment.Ids[doc])
                && (segment.GroupIds[doc] is null || !query.ExcludeGroupIds.Contains(segment.GroupIds[doc]!));
        }

        private static TestSegment WithColumns(Random random, List<string> ids, List<float[]?> vectors)
        {
            // Most segments with their int8 copy, some without (still being built in the index): scored in fp32.
            var segment = SegmentVectors.Create(ids, vectors);
            if (random.Next(5) != 0)
            {
                _ = segment.Quantized;
            }

            FixedBitSet? live = null;
            if (random.Next(2) == 0)
            {
                live = new FixedBitSet(Math.Max(1, ids.Count));
                live.Set(0, Math.Max(1, ids.Count));
                for (int i = 0; i < ids.Count; i++)
                {
                    if (random.Next(6) == 0)
                    {
                        live.Clear(i);
                    }
                }
            }

            for (int i = 0; i < ids.Count; i++)
            {
                segment.Categories[i] = Categories[random.Next(Categories.Length)];
                segment.Prices[i] = random.Next(5) == 0 ? double.NaN : random.Next(0, 100);
                segment.GroupIds[i] = random.Next(4) == 0 ? $"g{random.Next(3)}" : null;
            }

            return new TestSegment(segment, live);
        }

        private static List<ExactVectorScan.Leaf> Build(IReadOnlyList<TestSegment> segments)
        {
            var leaves = new List<ExactVectorScan.Leaf>();
            int docBase = 0;
            foreach (var (segment, live) in segments)
            {
                leaves.Add(new ExactVectorScan.Leaf(segment, docBase, live));
                docBase += segment.Count;
            }

            return leaves;
        }
    }

    private static class Vectors
    {
        public static float[] Unit(Random random, int dims)
        {
            var v = Query(random, dims);
            float norm = TensorPrimitives.Norm(v);
            return norm > 0 ? [.. v.Select(x => x / norm)] : v;
        }

        // Gaussian components, not normalised.
        public static float[] Query(Random random, int dims)
        {
            var v = new float[dims];
            for (int i = 0; i < dims; i++)
            {
                v[i] = (float)(Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2.0 * Math.PI * random.NextDouble()));
            }

            return v;
        }

        public static float[] OneHot(int dims, int at, float value)
        {
            var v = new float[dims];
            v[at] = value;
            return v;
        }

        public static float[]? Row(Random random, int dims, Shape shape, int index)
        {
            switch (shape)
            {
                case Shape.NearDuplicates:
                    {
                        // A few base vectors, each repeated with changes of one float step: many exact and near ties.
                        var v = Unit(new Random(index % 3), dims);
                        if (index % 2 == 1)
                        {
                            int j = random.Next(dims);
                            v[j] = random.Next(2) == 0 ? MathF.BitIncrement(v[j]) : MathF.BitDecrement(v[j]);
                        }

                        return v;
                    }

                case Shape.OneHugeComponent:
                    {
                        var v = Unit(random, dims);
                        v[random.Next(dims)] = random.Next(2) == 0 ? 1e4f : -3e3f;
                        return v;
                    }

                case Shape.Zero:
                    return index % 3 == 0 ? new float[dims] : Unit(random, dims);

                case Shape.Tiny:
                    return [.. Unit(random, dims).Select(x => x * (index % 2 == 0 ? 1e-38f : 1e-20f))];

                case Shape.NonFinite:
                    {
                        var v = Unit(random, dims);
                        if (index % 4 == 0)
                        {
                            v[random.Next(dims)] = index % 8 == 0 ? float.NaN : float.NegativeInfinity;
                        }

                        return v;
                    }

                default:
                    return random.Next(10) switch
                    {
                        0 => null,
                        1 => new float[dims],
                        2 => [.. Query(random, dims).Select(x => x * 1000)],
                        _ => Unit(random, dims),
                    };
            }
        }
    }
}
