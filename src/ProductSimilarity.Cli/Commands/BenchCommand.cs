using System.CommandLine;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Similarity;
using ProductSimilarity.Embeddings.Onnx;

namespace ProductSimilarity.Cli.Commands;

/// <summary>
/// <c>psim bench</c>: embedding throughput against the <c>SentenceEncoder</c> baseline (see <see cref="EmbeddingBench"/>),
/// ingestion throughput and similar-items latency (p50/p99) for a catalog, measured in one run on a temporary index.
/// A benchmark that reports figures, not a test with a time limit.
/// </summary>
internal static class BenchCommand
{
    public static Command Create(CliConsole console)
    {
        var catalog = new Option<FileInfo>("--catalog") { Description = "Catalog to ingest (default: the bundled sample).", };
        var queries = new Option<int>("--queries") { Description = "Similar-items queries to time.", DefaultValueFactory = _ => 500 };
        var titles = new Option<int>("--titles")
        {
            Description = "Titles for the embedding benchmark (taken from the catalog, cycled when it has fewer); 0 skips it.",
            DefaultValueFactory = _ => 2000,
            Validators = { r => { if (r.GetValueOrDefault<int>() is < 0 or > 100_000) { r.AddError("--titles must be between 0 and 100000."); } } },
        };
        var quantization = PsimApp.QuantizationOption();
        var int8Scheme = PsimApp.Int8SchemeOption();
        var json = PsimApp.JsonOption();
        var command = new Command("bench", "Measure embedding throughput (against the SentenceEncoder baseline), ingestion throughput and similar-items latency on a temporary index.")
        {
            catalog, queries, titles, quantization, int8Scheme, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            var file = parse.GetValue(catalog)?.FullName ?? DemoCommand.SampleCatalogPath();
            if (!File.Exists(file))
            {
                throw new CliException($"catalog file '{file}' was not found.", ExitCodes.Usage);
            }

            var overrides = new Dictionary<string, string?>();
            PsimApp.AddQuantizationOverride(parse, quantization, overrides);
            PsimApp.AddInt8SchemeOverride(parse, int8Scheme, overrides);
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
                var onnx = services.GetRequiredService<IOptions<ProductSimilarityOptions>>().Value.Embeddings.Onnx;
                var scheme = Int8SchemeSelector.Choose(onnx.Int8Scheme, CpuInt8Features.Current);
                var embedding = Array.Empty<EmbeddingBench.Result>() as IReadOnlyList<EmbeddingBench.Result>;
                var titleCount = parse.GetValue(titles);
                var distinctTitles = 0;
                if (titleCount > 0)
                {
                    var catalogTitles = new List<string>();
                    foreach (var id in ids)
                    {
                        if (await index.GetAsync(id, ct).ConfigureAwait(false) is { } product)
                        {
                            catalogTitles.Add(product.Product.Title);
                        }
                    }

                    distinctTitles = catalogTitles.Count;
                    var sample = Enumerable.Range(0, titleCount).Select(i => catalogTitles[i % catalogTitles.Count]).ToList();
                    embedding = await EmbeddingBench.RunAsync(sample, parse, overrides, console, ct).ConfigureAwait(false);
                }

                double? Rate(string variant, bool batch64) => embedding.FirstOrDefault(r => r.Variant == variant) is { } r
                    ? batch64 ? r.TitlesPerSecondBatch64 : r.TitlesPerSecondBatch1
                    : null;
                var result = new Dictionary<string, object?>
                {
                    ["cpu"] = EmbeddingBench.CpuModel(),
                    ["cpu_features"] = CpuInt8Features.Current.Describe(),
                    ["int8_scheme"] = scheme.Scheme.ToString(),
                    ["int8_scheme_reason"] = scheme.Reason,
                    ["catalog"] = Path.GetFileName(file),
                    ["products"] = summary.Embedded,
                    ["model"] = summary.Model,
                    ["cpus"] = Environment.ProcessorCount,
                    ["ingestSeconds"] = Math.Round(summary.Duration.TotalSeconds, 2),
                    ["productsPerSecond"] = Math.Round(summary.Embedded / summary.Duration.TotalSeconds, 1),
                    ["queries"] = n,
                    ["similarP50Ms"] = Math.Round(Percentile(latencies, 0.50), 2),
                    ["similarP99Ms"] = Math.Round(Percentile(latencies, 0.99), 2),
                };
                if (embedding.Count > 0)
                {
                    result["titles"] = titleCount;
                    result["sentence_encoder_titles_per_s"] = Rate("sentence_encoder", true);
                    result["fp32_titles_per_s"] = Rate("fp32", true);
                    result["int8_titles_per_s"] = Rate("int8", true);
                    result["embedding"] = embedding.Select(r => new Dictionary<string, object?>
                    {
                        ["variant"] = r.Variant,
                        ["model"] = r.Model,
                        ["titles_per_s_batch_1"] = r.TitlesPerSecondBatch1,
                        ["titles_per_s_batch_64"] = r.TitlesPerSecondBatch64,
                        ["peak_rss_mb"] = r.PeakRssMb,
                    }).ToList();
                    result["peak_rss_method"] = "each variant in its own child process; peak RSS = the child's VmHWM (Process.PeakWorkingSet64)";
                }

                if (parse.GetValue(json))
                {
                    console.WriteJson(result);
                }
                else
                {
                    console.Out.WriteLine($"cpu:                {result["cpu"]}; {result["cpu_features"]}");
                    console.Out.WriteLine($"int8 scheme:        {scheme.Scheme}: {scheme.Reason}");
                    if (embedding.Count > 0)
                    {
                        var baseline = embedding[0];
                        console.Out.WriteLine($"embedding:          {titleCount} titles ({distinctTitles} distinct, from the catalog), each variant in a child process");
                        console.Out.WriteLine($"  {"variant",-18} {"batch 1/s",10} {"batch 64/s",11} {"vs baseline",12} {"peak RSS MB",12}  model");
                        foreach (var r in embedding)
                        {
                            var ratio = baseline.TitlesPerSecondBatch64 > 0 ? r.TitlesPerSecondBatch64 / baseline.TitlesPerSecondBatch64 : 0;
                            console.Out.WriteLine($"  {r.Variant,-18} {r.TitlesPerSecondBatch1,10:F1} {r.TitlesPerSecondBatch64,11:F1} {ratio,11:F2}x {r.PeakRssMb,12:F1}  {r.Model}");
                        }
                    }

                    console.Out.WriteLine($"catalog:            {result["catalog"]} ({summary.Embedded} products, model {summary.Model}, {Environment.ProcessorCount} CPUs)");
                    console.Out.WriteLine($"ingestion:          {result["ingestSeconds"]} s, {result["productsPerSecond"]} products/s");
                    console.Out.WriteLine($"similar (n={n}):    p50 {result["similarP50Ms"]} ms, p99 {result["similarP99Ms"]} ms");
                }

                return ExitCodes.Ok;
            }, ct).ConfigureAwait(false);
        });
        return command;
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
