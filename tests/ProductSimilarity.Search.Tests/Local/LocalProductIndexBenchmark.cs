using System.Diagnostics;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Search.Local;
using Xunit.Abstractions;
using static ProductSimilarity.Search.Tests.Local.LocalIndexTestData;

namespace ProductSimilarity.Search.Tests.Local;

/// <summary>A fact that runs only when <c>PSIM_BENCH=1</c>: benchmarks report figures, they are not timed tests.</summary>
public sealed class BenchmarkFactAttribute : FactAttribute
{
    public BenchmarkFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("PSIM_BENCH") != "1")
        {
            Skip = "Benchmark: set PSIM_BENCH=1 to run.";
        }
    }
}

/// <summary>
/// Exact vector and BM25 query times over 100,000 random 384-dimensional products. Run with
/// <c>PSIM_BENCH=1 dotnet test tests/ProductSimilarity.Search.Tests --filter "FullyQualifiedName~LocalProductIndexBenchmark" --logger "console;verbosity=detailed"</c>.
/// </summary>
public sealed class LocalProductIndexBenchmark(ITestOutputHelper output)
{
    private static readonly string[] Words =
    [
        "wireless", "bluetooth", "headphones", "speaker", "usb", "cable", "charger", "laptop", "stand", "mouse",
        "keyboard", "gaming", "office", "black", "white", "pro", "mini", "portable", "smart", "watch",
        "camera", "lens", "tripod", "case", "cover", "screen", "protector", "adapter", "hub", "monitor",
        "蓝牙", "耳机", "无线", "充电器", "手表", "键盘", "鼠标", "显示器", "音箱", "相机",
    ];

    [BenchmarkFact]
    public async Task Search_100kRandom384_ReportsTimings()
    {
        const int count = 100_000;
        const int dims = 384;
        var random = new Random(7);
        using var folder = new TempFolder();
        await using var index = LocalProductIndex.Open(folder.Path);
        await index.EnsureCreatedAsync(dims);

        var ingest = Stopwatch.StartNew();
        for (int start = 0; start < count; start += 1000)
        {
            var batch = new List<IndexedProduct>(1000);
            for (int i = start; i < start + 1000; i++)
            {
                string title = string.Join(' ', Enumerable.Range(0, 6).Select(_ => Words[random.Next(Words.Length)])) + $" m{i % 997}x";
                batch.Add(P($"p{i:D6}", title, RandomUnit(random, dims), category: i % 10 == 0 ? "Audio" : "Other", price: i % 500));
            }

            await index.UpsertAsync(batch);
        }

        await index.CommitAsync();
        ingest.Stop();

        var firstQuery = Stopwatch.StartNew();
        var first = await index.SearchAsync(new ProductQuery { Vector = RandomUnit(random, dims), Mode = RankingMode.Vector });
        firstQuery.Stop();
        Assert.Equal(10, first.Count);

        double vectorMs = await Time(20, () => index.SearchAsync(new ProductQuery { Vector = RandomUnit(random, dims), Mode = RankingMode.Vector }));
        double filteredMs = await Time(20, () => index.SearchAsync(new ProductQuery
        {
            Vector = RandomUnit(random, dims),
            Mode = RankingMode.Vector,
            Filter = new ProductFilter { Category = "audio", MaxPrice = 250 },
        }));
        double keywordMs = await Time(50, () => index.SearchAsync(new ProductQuery { Text = "wireless bluetooth headphones black", Mode = RankingMode.Keyword }));
        double chineseMs = await Time(50, () => index.SearchAsync(new ProductQuery { Text = "无线蓝牙耳机", Mode = RankingMode.Keyword }));
        double hybridMs = await Time(20, () => index.SearchAsync(new ProductQuery
        {
            Text = "portable bluetooth speaker",
            Vector = RandomUnit(random, dims),
            Mode = RankingMode.Hybrid,
        }));

        output.WriteLine($"ingest {count} x {dims}: {ingest.Elapsed.TotalSeconds:F1} s (incl. commit)");
        output.WriteLine($"first vector query (loads the vectors): {firstQuery.Elapsed.TotalMilliseconds:F0} ms");
        output.WriteLine($"vector top 10: {vectorMs:F1} ms/query");
        output.WriteLine($"vector top 10, category + price filter: {filteredMs:F1} ms/query");
        output.WriteLine($"keyword top 10 (4 English terms): {keywordMs:F2} ms/query");
        output.WriteLine($"keyword top 10 (Chinese, 5 bigrams): {chineseMs:F2} ms/query");
        output.WriteLine($"hybrid top 10 (50 + 50 candidates, weighted): {hybridMs:F1} ms/query");
    }

    private static async Task<double> Time(int runs, Func<Task<IReadOnlyList<SearchHit>>> query)
    {
        await query(); // warm-up
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < runs; i++)
        {
            Assert.NotEmpty(await query());
        }

        return watch.Elapsed.TotalMilliseconds / runs;
    }
}

/// <summary>
/// The exact vector scan alone over 100,000 random 384-dimensional unit vectors, k 20 with one excluded id (a similar-items
/// query's vector list): the fp32 scan of every row against the int8 scan with each kernel this CPU runs, in one process.
/// Run with <c>PSIM_BENCH=1 dotnet test tests/ProductSimilarity.Search.Tests -c Release --filter "FullyQualifiedName~ExactVectorScanBenchmark" --logger "console;verbosity=detailed"</c>.
/// </summary>
public sealed class ExactVectorScanBenchmark(ITestOutputHelper output)
{
    [BenchmarkFact]
    public void Search_100kRandom384_ReportsTimingsPerKernel()
    {
        const int count = 100_000, dims = 384, queries = 60;
        var random = new Random(7);
        var ids = Enumerable.Range(0, count).Select(i => $"p{i:D6}").ToList();
        var vectors = Enumerable.Range(0, count).Select(_ => (float[]?)RandomUnit(random, dims)).ToList();
        var segment = SegmentVectors.Create(ids, vectors);
        var build = Stopwatch.StartNew();
        _ = segment.Quantized;
        build.Stop();
        var again = Stopwatch.StartNew();
        _ = QuantizedMatrix.Build(segment.Matrix, segment.HasVector, count, dims);
        again.Stop();
        output.WriteLine($"int8 copy built again (warm code): {again.Elapsed.TotalMilliseconds:F0} ms");
        ExactVectorScan.Leaf[] leaves = [new(segment, 0, null)];
        var sample = Enumerable.Range(0, queries).Select(_ => random.Next(count)).ToList();

        output.WriteLine($"int8 copy of {count} x {dims}: built in {build.Elapsed.TotalMilliseconds:F0} ms, {segment.Quantized.MemoryBytes / (double)count:F0} B/row");
        Int8Kernel?[] kernels = [null, .. Enum.GetValues<Int8Kernel>().Where(Int8Dot.IsSupported).Cast<Int8Kernel?>()];
        var times = kernels.ToDictionary(k => k?.ToString() ?? "fp32", _ => new List<double>());
        var rescored = new List<int>();
        foreach (int row in sample)
        {
            var query = new ProductQuery { Vector = vectors[row], ExcludeIds = new HashSet<string>(StringComparer.Ordinal) { ids[row] } };
            var filter = new VectorFilter(query);
            foreach (var kernel in kernels)
            {
                var watch = Stopwatch.StartNew();
                var top = ExactVectorScan.Search(leaves, vectors[row], 20, filter, kernel, CancellationToken.None);
                watch.Stop();
                Assert.Equal(20, top.Count);
                times[kernel?.ToString() ?? "fp32"].Add(watch.Elapsed.TotalMilliseconds);
                if (kernel is not null)
                {
                    rescored.Add(ExactVectorScan.LastRescored);
                }
            }
        }

        foreach (var (name, list) in times)
        {
            list.Sort();
            output.WriteLine($"{name,-7} p50 {list[list.Count / 2]:F2} ms, mean {list.Average():F2} ms, max {list[^1]:F2} ms");
        }

        output.WriteLine($"rows rescored in fp32 per query: mean {rescored.Average():F0}, max {rescored.Max()}");
    }
}
