using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using ProductSimilarity.Core.Catalog;

namespace ProductSimilarity.Benchmarks;

/// <summary>
/// Reads a synthetic 1,000,000-row CSV catalog from memory through <see cref="CatalogReader"/>. Each operation is one
/// row (OperationsPerInvoke), so BenchmarkDotNet's Mean is time per row and Allocated is bytes per row; rows/s is
/// 1e9 / Mean(ns).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ReaderConfig))]
public class CatalogReaderBenchmarks
{
    /// <summary>
    /// In-process (no generated project), one launch, one invocation per iteration, a short warm-up: each invocation
    /// already reads a million rows, so the pilot stage and unrolling add nothing.
    /// </summary>
    private sealed class ReaderConfig : ManualConfig
    {
        public ReaderConfig() => AddJob(Job.Default
            .WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(30), logOutput: false))
            .WithStrategy(RunStrategy.Monitoring)
            .WithLaunchCount(1)
            .WithWarmupCount(1)
            .WithIterationCount(5)
            .WithInvocationCount(1)
            .WithUnrollFactor(1));
    }

    private const int Rows = 1_000_000;

    private byte[] _csv = [];

    [GlobalSetup]
    public void Setup() => _csv = BuildCsv(Rows);

    [Benchmark(OperationsPerInvoke = Rows)]
    public async Task<long> ReadCsv()
    {
        long products = 0;
        using var stream = new MemoryStream(_csv, writable: false);
        await foreach (var row in new CatalogReader().ReadAsync(stream, "bench.csv"))
        {
            if (row.Product is not null)
            {
                products++;
            }
        }

        if (products != Rows)
        {
            throw new InvalidOperationException($"read {products} products, expected {Rows}");
        }

        return products;
    }

    /// <summary>A catalog shaped like a shop export: plain and quoted fields, an escaped quote, an attribute column.</summary>
    internal static byte[] BuildCsv(int rows)
    {
        string[] brands = ["Acme", "Globex", "Initech", "Umbrella", "Hooli"];
        string[] categories = ["Electronics > Audio", "Home > Kitchen", "Sports", "Toys > Puzzles"];
        var text = new StringBuilder(rows * 170);
        text.Append("id,title,description,brand,category,price,currency,in_stock,color\n");
        for (var i = 0; i < rows; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"SKU-{i:D7},");
            if (i % 4 == 0)
            {
                text.Append(CultureInfo.InvariantCulture, $"\"Wireless headphones, model {i % 977}\",");
            }
            else
            {
                text.Append(CultureInfo.InvariantCulture, $"Stainless steel kettle {i % 613} litre,");
            }

            text.Append(i % 8 == 0
                ? "\"Noise cancelling, 30 h battery, \"\"studio\"\" sound\","
                : "A sturdy everyday product with a two-year warranty,");
            text.Append(brands[i % brands.Length]).Append(',');
            text.Append(categories[i % categories.Length]).Append(',');
            text.Append(CultureInfo.InvariantCulture, $"{10 + (i % 5000) / 100.0:0.00},EUR,{(i % 3 == 0 ? "false" : "true")},");
            text.Append(i % 2 == 0 ? "black" : string.Empty).Append('\n');
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }
}
