using System.CommandLine;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Similarity;

namespace ProductSimilarity.Cli.Commands;

/// <summary>
/// <c>psim bench</c>: prints ingestion throughput and similar-items latency (p50/p99) for a catalog, measured in one
/// run on a temporary index. A benchmark that reports figures, not a test with a time limit.
/// </summary>
internal static class BenchCommand
{
    public static Command Create(CliConsole console)
    {
        var catalog = new Option<FileInfo>("--catalog") { Description = "Catalog to ingest (default: the bundled sample).", };
        var queries = new Option<int>("--queries") { Description = "Similar-items queries to time.", DefaultValueFactory = _ => 500 };
        var quantization = PsimApp.QuantizationOption();
        var json = PsimApp.JsonOption();
        var command = new Command("bench", "Measure ingestion throughput and similar-items latency on a temporary index.") { catalog, queries, quantization, json };
        command.SetAction(async (parse, ct) =>
        {
            var file = parse.GetValue(catalog)?.FullName ?? DemoCommand.SampleCatalogPath();
            if (!File.Exists(file))
            {
                throw new CliException($"catalog file '{file}' was not found.", ExitCodes.Usage);
            }

            var overrides = new Dictionary<string, string?>();
            PsimApp.AddQuantizationOverride(parse, quantization, overrides);
            return await IngestCommand.WithTemporaryIndexAsync(parse, console, file, overrides, async (services, summary) =>
            {
                var index = services.GetRequiredService<IProductIndex>();
                var service = services.GetRequiredService<SimilarityService>();
                var ids = new List<string>();
                await foreach (var id in index.GetAllIdsAsync(ct).ConfigureAwait(false))
                {
                    ids.Add(id);
                }

                if (ids.Count == 0)
                {
                    throw new CliException($"nothing to benchmark: no product of '{file}' could be indexed ({summary.Rejected} row(s) rejected).");
                }

                var random = new Random(42);
                var n = Math.Min(parse.GetValue(queries), Math.Max(ids.Count, 1) * 10);
                var latencies = new double[n];
                for (var warm = 0; warm < Math.Min(20, ids.Count); warm++)
                {
                    await service.SimilarAsync(new SimilarRequest { Id = ids[warm] }, ct).ConfigureAwait(false);
                }

                for (var i = 0; i < n; i++)
                {
                    var id = ids[random.Next(ids.Count)];
                    var start = Stopwatch.GetTimestamp();
                    await service.SimilarAsync(new SimilarRequest { Id = id }, ct).ConfigureAwait(false);
                    latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                }

                Array.Sort(latencies);
                var result = new
                {
                    catalog = Path.GetFileName(file),
                    products = summary.Embedded,
                    ingestSeconds = Math.Round(summary.Duration.TotalSeconds, 2),
                    productsPerSecond = Math.Round(summary.Embedded / summary.Duration.TotalSeconds, 1),
                    queries = n,
                    similarP50Ms = Math.Round(Percentile(latencies, 0.50), 2),
                    similarP99Ms = Math.Round(Percentile(latencies, 0.99), 2),
                    model = summary.Model,
                    cpus = Environment.ProcessorCount,
                };
                if (parse.GetValue(json))
                {
                    console.WriteJson(result);
                }
                else
                {
                    console.Out.WriteLine($"catalog:            {result.catalog} ({result.products} products, model {result.model}, {result.cpus} CPUs)");
                    console.Out.WriteLine($"ingestion:          {result.ingestSeconds} s, {result.productsPerSecond} products/s");
                    console.Out.WriteLine($"similar (n={n}):    p50 {result.similarP50Ms} ms, p99 {result.similarP99Ms} ms");
                }

                return ExitCodes.Ok;
            }, ct).ConfigureAwait(false);
        });
        return command;
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
