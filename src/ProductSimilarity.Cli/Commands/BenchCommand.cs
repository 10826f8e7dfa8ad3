using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ProductSimilarity.Api;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Diagnostics;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Ranking;
using ProductSimilarity.Core.Similarity;
using ProductSimilarity.Core.Text;
using ProductSimilarity.Embeddings.Onnx;
using ProductSimilarity.Search.Local;

namespace ProductSimilarity.Cli.Commands;

/// <summary>
/// <c>psim bench</c>, in one run and one process tree, so that every figure has its baseline beside it:
/// <list type="bullet">
/// <item><c>embed</c>: titles/s against the <c>SentenceEncoder</c> baseline (see <see cref="EmbeddingBench"/>);</item>
/// <item><c>ingest</c>: end-to-end ingestion of a synthetic catalog (<see cref="SyntheticCatalog"/>), products/s;</item>
/// <item><c>search</c>: similar-items latency p50/p99 with exact search and with the HNSW graph on the same index and
/// the same products, HNSW recall@10 against exact, and bytes per product in memory and on disk.</item>
/// </list>
/// A benchmark that reports figures, not a test with a time limit.
/// </summary>
internal static class BenchCommand
{
    private static readonly string[] Sections = ["embed", "ingest", "search"];

    public static Command Create(CliConsole console)
    {
        var catalog = new Option<FileInfo>("--catalog") { Description = "Catalog to ingest instead of the synthetic one (and to take the embedding titles from).", };
        var products = new Option<int>("--products")
        {
            Description = "Products in the synthetic catalog (ingest and search sections).",
            DefaultValueFactory = _ => 100_000,
            Validators = { r => { if (r.GetValueOrDefault<int>() is < 10 or > 10_000_000) { r.AddError("--products must be between 10 and 10000000."); } } },
        };
        var only = new Option<string[]>("--only")
        {
            Description = "Run only these sections: embed, ingest, search (comma-separated or repeated). Default: all. 'search' without 'ingest' writes synthetic vectors directly.",
            AllowMultipleArgumentsPerToken = true,
            Validators =
            {
                r =>
                {
                    foreach (var s in SplitList(r.GetValueOrDefault<string[]>()))
                    {
                        if (!Sections.Contains(s))
                        {
                            r.AddError($"--only: unknown section '{s}'; use embed, ingest or search.");
                        }
                    }
                },
            },
        };
        var queries = new Option<int>("--queries") { Description = "Similar-items queries to time (each way), and recall queries.", DefaultValueFactory = _ => 500 };
        var titles = new Option<int>("--titles")
        {
            Description = "Titles for the embedding section (from the catalog, cycled when it has fewer); 0 skips it.",
            DefaultValueFactory = _ => 2000,
            Validators = { r => { if (r.GetValueOrDefault<int>() is < 0 or > 100_000) { r.AddError("--titles must be between 0 and 100000."); } } },
        };
        var ef = new Option<string?>("--ef")
        {
            Description = "HNSW search expansions to measure, comma-separated (e.g. 32,64,128,256); the first gives the headline figures. Default: Index:Local:Hnsw:ExpansionSearch.",
            HelpName = "N[,N...]",
        };
        var sweepThreads = new Option<string?>("--threads")
        {
            Description = "Embedding sweep (embed section): ONNX Runtime intra-op thread counts to measure, comma-separated, 0 for ONNX Runtime's own choice (e.g. 1,2). Prints titles/s of our fp32 and int8 paths for every thread count and batch size.",
            HelpName = "N[,N...]",
        };
        var sweepBatchSizes = new Option<string?>("--batch-sizes")
        {
            Description = "Embedding sweep (embed section): texts per ONNX run to measure, comma-separated (e.g. 1,16,32,64,128, the default when only --threads is given).",
            HelpName = "N[,N...]",
        };
        var quantization = PsimApp.QuantizationOption();
        var int8Scheme = PsimApp.Int8SchemeOption();
        var json = PsimApp.JsonOption();
        var command = new Command(
            "bench",
            "Measure embedding throughput (against the SentenceEncoder baseline), ingestion of a synthetic catalog, and similar-items latency with exact and HNSW search (with HNSW recall@10), in one run on a temporary index.")
        {
            catalog, products, only, queries, titles, ef, sweepThreads, sweepBatchSizes, quantization, int8Scheme, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            var selected = SplitList(parse.GetValue(only)).ToHashSet(StringComparer.Ordinal);
            bool Runs(string section) => selected.Count == 0 || selected.Contains(section);
            var file = parse.GetValue(catalog)?.FullName;
            if (file is not null && !File.Exists(file))
            {
                throw new CliException($"catalog file '{file}' was not found.", ExitCodes.Usage);
            }

            var efs = ParseExpansions(parse.GetValue(ef));
            var threadCounts = ParseList(parse.GetValue(sweepThreads), "--threads", 0, 256);
            var batchSizeList = ParseList(parse.GetValue(sweepBatchSizes), "--batch-sizes", 1, 1024);
            var overrides = new Dictionary<string, string?>();
            PsimApp.AddQuantizationOverride(parse, quantization, overrides);
            PsimApp.AddInt8SchemeOverride(parse, int8Scheme, overrides);
            int count = parse.GetValue(products);
            int queryCount = parse.GetValue(queries);
            var temp = Directory.CreateTempSubdirectory("psim-bench-");
            try
            {
                var services = CliHost.Build(PsimApp.Globals(parse) with { Index = Path.Combine(temp.FullName, "index") }, overrides);
                await using (services.ConfigureAwait(false))
                {
                    var options = services.GetRequiredService<IOptions<ProductSimilarityOptions>>().Value;
                    var scheme = Int8SchemeSelector.Choose(options.Embeddings.Onnx.Int8Scheme, CpuInt8Features.Current);
                    var result = new Dictionary<string, object?>
                    {
                        ["cpu"] = EmbeddingBench.CpuModel(),
                        ["cpu_features"] = CpuInt8Features.Current.Describe(),
                        ["cpus"] = Environment.ProcessorCount,
                        ["gc_mode"] = (System.Runtime.GCSettings.IsServerGC ? "server" : "workstation") + (System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.Batch ? ", non-concurrent" : ", concurrent"),
                        ["load_average_start"] = LoadAverage(),
                        ["int8_scheme"] = scheme.Scheme.ToString(),
                        ["int8_scheme_reason"] = scheme.Reason,
                        ["sections"] = Sections.Where(Runs).ToList(),
                        ["sentence_encoder_titles_per_s"] = null,
                        ["fp32_titles_per_s"] = null,
                        ["int8_titles_per_s"] = null,
                        ["ingest_products_per_s"] = null,
                        ["similar_p99_ms_exact"] = null,
                        ["similar_p99_ms_hnsw"] = null,
                        ["hnsw_recall_at_10"] = null,
                    };

                    // ---- ingest (first, so the embedding titles can come from --catalog's products) ----
                    string indexPath = Path.Combine(temp.FullName, "index");
                    bool indexed = false;
                    List<string>? catalogTitles = null;
                    if (Runs("ingest"))
                    {
                        var source = file;
                        if (source is null)
                        {
                            source = Path.Combine(temp.FullName, "synthetic.csv");
                            console.Note($"ingest: writing a synthetic catalog of {count} products...");
                            await SyntheticCatalog.WriteCsvAsync(source, count, ct).ConfigureAwait(false);
                        }

                        console.Note($"ingest: {Path.GetFileName(source)} with the default pipeline and model...");
                        var summary = await IngestCommand.RunAsync(services, console, source, Path.Combine(temp.FullName, "errors.jsonl"), null, ct).ConfigureAwait(false);
                        if (summary.Embedded == 0)
                        {
                            throw new CliException($"nothing to benchmark: no product of '{source}' could be indexed ({summary.Rejected} row(s) rejected).");
                        }

                        var index = services.GetRequiredService<IProductIndex>();
                        if (file is not null && parse.GetValue(titles) > 0)
                        {
                            catalogTitles = [];
                            await foreach (var id in index.GetAllIdsAsync(ct).ConfigureAwait(false))
                            {
                                if (catalogTitles.Count < parse.GetValue(titles) && await index.GetAsync(id, ct).ConfigureAwait(false) is { } product)
                                {
                                    catalogTitles.Add(product.Product.Title);
                                }
                            }
                        }

                        // Close the ingest's index (the writer saves its HNSW graph) before the search section opens it.
                        await index.DisposeAsync().ConfigureAwait(false);
                        indexed = true;
                        result["catalog"] = file is null ? "synthetic" : Path.GetFileName(file);
                        result["model"] = summary.Model;
                        result["ingest_products"] = summary.Embedded;
                        result["ingest_seconds"] = Math.Round(summary.Duration.TotalSeconds, 2);
                        result["ingest_products_per_s"] = Math.Round(summary.Embedded / summary.Duration.TotalSeconds, 1);
                    }

                    // ---- embed ----
                    if (Runs("embed") && parse.GetValue(titles) is > 0 and var titleCount)
                    {
                        var pool = catalogTitles is { Count: > 0 } ? catalogTitles : SyntheticCatalog.Rows(Math.Min(titleCount, count)).Select(r => r.Title).ToList();
                        var sample = Enumerable.Range(0, titleCount).Select(i => pool[i % pool.Count]).ToList();
                        var embedding = await EmbeddingBench.RunAsync(sample, parse, overrides, console, ct).ConfigureAwait(false);
                        double? Rate(string variant) => embedding.FirstOrDefault(r => r.Variant == variant)?.TitlesPerSecondBatch64;
                        result["titles"] = titleCount;
                        result["distinct_titles"] = pool.Count;
                        result["sentence_encoder_titles_per_s"] = Rate("sentence_encoder");
                        result["fp32_titles_per_s"] = Rate("fp32");
                        result["int8_titles_per_s"] = Rate("int8");
                        result["fp32_vs_baseline"] = Ratio(Rate("fp32"), Rate("sentence_encoder"));
                        result["int8_vs_baseline"] = Ratio(Rate("int8"), Rate("sentence_encoder"));
                        result["embedding"] = embedding.Select(r => new Dictionary<string, object?>
                        {
                            ["variant"] = r.Variant,
                            ["model"] = r.Model,
                            ["titles_per_s_batch_1"] = r.TitlesPerSecondBatch1,
                            ["titles_per_s_batch_64"] = r.TitlesPerSecondBatch64,
                            ["peak_rss_mb"] = r.PeakRssMb,
                        }).ToList();
                        result["peak_rss_method"] = "each variant in its own child process; peak RSS = the child's VmHWM (Process.PeakWorkingSet64)";
                        if (threadCounts is not null || batchSizeList is not null)
                        {
                            int[] sizes = batchSizeList ?? [1, 16, 32, 64, 128];
                            var sweep = await EmbeddingBench.SweepAsync(sample, threadCounts ?? [options.Embeddings.Onnx.Threads], sizes, parse, overrides, console, ct).ConfigureAwait(false);
                            result["embedding_sweep_call_size"] = sizes.Max();
                            result["embedding_sweep"] = sweep.Select(r => new Dictionary<string, object?>
                            {
                                ["variant"] = r.Variant,
                                ["threads"] = r.Threads,
                                ["batch_size"] = r.BatchSize,
                                ["titles_per_s"] = r.TitlesPerSecond,
                            }).ToList();
                        }
                    }

                    // ---- search ----
                    if (Runs("search"))
                    {
                        if (!indexed)
                        {
                            console.Note($"search: writing {count} synthetic products with synthetic vectors directly (no model)...");
                            var coverage = services.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>().GetService<ITokenCoverage>();
                            await SyntheticVectors.WriteIndexAsync(indexPath, count, LocalOptions(options, minProducts: null, options.Index.Local.Hnsw.ExpansionSearch), coverage, ct).ConfigureAwait(false);
                            result["search_vectors"] = "synthetic (title words hashed to vectors; no model)";
                        }
                        else
                        {
                            result["search_vectors"] = "embedded by the ingest section";
                        }

                        await SearchSection.RunAsync(services, options, indexPath, queryCount, efs, console, result, ct).ConfigureAwait(false);
                    }

                    result["load_average_end"] = LoadAverage();
                    if (parse.GetValue(json))
                    {
                        console.WriteJson(result);
                    }
                    else
                    {
                        WriteTable(console, result);
                    }
                }
            }
            finally
            {
                temp.Delete(recursive: true);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The local index settings of <paramref name="options"/>, with the HNSW threshold and expansion overridden.</summary>
    internal static LocalProductIndexOptions LocalOptions(ProductSimilarityOptions options, int? minProducts, int expansionSearch)
    {
        var hnsw = options.Index.Local.Hnsw;
        return new LocalProductIndexOptions
        {
            KeywordScorer = options.Index.Local.KeywordScorer,
            Hnsw = new HnswSettings
            {
                MinProducts = minProducts ?? hnsw.MinProducts,
                Connectivity = hnsw.Connectivity,
                ExpansionAdd = hnsw.ExpansionAdd,
                ExpansionSearch = expansionSearch,
                MinFilterFraction = hnsw.MinFilterFraction,
                Scalar = hnsw.Scalar,

                // The benchmark waits for the graph rather than measuring exact search while it is built.
                InlineSyncLimit = int.MaxValue,
            },
        };
    }

    internal static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static double? Ratio(double? value, double? baseline) => value is { } v && baseline is > 0 ? Math.Round(v / baseline.Value, 2) : null;

    private static IEnumerable<string> SplitList(string[]? values)
        => (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(v => v.ToLowerInvariant());

    /// <summary>A comma-separated list of whole numbers between <paramref name="min"/> and <paramref name="max"/>, or null when not given.</summary>
    internal static int[]? ParseList(string? value, string option, int min, int max)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var list = new List<int>();
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
            {
                throw new CliException($"{option}: '{part}' is not a number between {min} and {max}.", ExitCodes.Usage);
            }

            if (!list.Contains(n))
            {
                list.Add(n);
            }
        }

        return list.Count == 0 ? null : [.. list];
    }

    private static int[] ParseExpansions(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return [0];
        }

        var list = new List<int>();
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n is < 8 or > 4096)
            {
                throw new CliException($"--ef: '{part}' is not a number between 8 and 4096.", ExitCodes.Usage);
            }

            list.Add(n);
        }

        return [.. list];
    }

    private static double? LoadAverage()
    {
        try
        {
            var text = File.ReadAllText("/proc/loadavg");
            return double.Parse(text.Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    private static void WriteTable(CliConsole console, Dictionary<string, object?> r)
    {
        string F(string key, string format = "0.0") => r.TryGetValue(key, out var v) && v is IFormattable f ? f.ToString(format, CultureInfo.InvariantCulture) : "-";
        string V(string key) => r.TryGetValue(key, out var v) && v is not null ? Convert.ToString(v, CultureInfo.InvariantCulture) ?? "-" : "-";
        var o = console.Out;
        o.WriteLine($"cpu:             {r["cpu"]}; {r["cpu_features"]}");
        o.WriteLine($"load average:    {F("load_average_start", "0.00")} at start, {F("load_average_end", "0.00")} at end (other work on this machine slows every figure alike)");
        o.WriteLine($"int8 scheme:     {r["int8_scheme"]}: {r["int8_scheme_reason"]}");
        if (r.TryGetValue("embedding", out var e) && e is List<Dictionary<string, object?>> variants)
        {
            o.WriteLine($"embedding:       {r["titles"]} titles ({r["distinct_titles"]} distinct), each variant in a child process");
            o.WriteLine($"  {"variant",-18} {"batch 1/s",10} {"batch 64/s",11} {"vs baseline",12} {"peak RSS MB",12}  model");
            var baseline = variants[0]["titles_per_s_batch_64"] is double b ? b : 0;
            foreach (var v in variants)
            {
                double b64 = (double)v["titles_per_s_batch_64"]!;
                o.WriteLine($"  {v["variant"],-18} {(double)v["titles_per_s_batch_1"]!,10:F1} {b64,11:F1} {(baseline > 0 ? b64 / baseline : 0),11:F2}x {(double)v["peak_rss_mb"]!,12:F1}  {v["model"]}");
            }
        }

        if (r.TryGetValue("embedding_sweep", out var sw) && sw is List<Dictionary<string, object?>> cells)
        {
            var sizes = cells.Select(c => (int)c["batch_size"]!).Distinct().ToList();
            o.WriteLine($"embedding sweep: titles/s by ONNX Runtime threads (0: its own choice) and batch size (texts per ONNX run); titles handed over {r["embedding_sweep_call_size"]} at a time and sorted by length within each call; best of 2 rounds");
            o.WriteLine($"  {"variant",-8} {"threads",7} " + string.Join(" ", sizes.Select(b => $"{"b" + b.ToString(CultureInfo.InvariantCulture),8}")));
            foreach (var group in cells.GroupBy(c => ((string)c["variant"]!, (int)c["threads"]!)))
            {
                o.WriteLine($"  {group.Key.Item1,-8} {group.Key.Item2,7} " + string.Join(" ", sizes.Select(b => group.FirstOrDefault(c => (int)c["batch_size"]! == b) is { } c ? $"{(double)c["titles_per_s"]!,8:F1}" : $"{"-",8}")));
            }
        }

        if (r.ContainsKey("ingest_seconds"))
        {
            o.WriteLine($"ingestion:       {r["catalog"]}, {r["ingest_products"]} products in {F("ingest_seconds")} s = {F("ingest_products_per_s")} products/s (model {r["model"]})");
        }

        if (r.ContainsKey("search_products"))
        {
            o.WriteLine($"search:          {r["search_products"]} products ({r["search_vectors"]}), {r["queries"]} similar-items queries each way");
            if (r.TryGetValue("hnsw_unavailable", out var why))
            {
                o.WriteLine($"  hnsw           not measured: {why}");
            }

            o.WriteLine($"  exact          p50 {F("similar_p50_ms_exact", "0.00")} ms, p99 {F("similar_p99_ms_exact", "0.00")} ms (fp32 scan of every row: p50 {F("similar_p50_ms_exact_fp32", "0.00")} ms, p99 {F("similar_p99_ms_exact_fp32", "0.00")} ms)");
            o.WriteLine($"  exact vector   stage alone p50 {F("vector_p50_ms_exact", "0.00")} ms, p99 {F("vector_p99_ms_exact", "0.00")} ms (fp32 scan: p50 {F("vector_p50_ms_exact_fp32", "0.00")} ms, p99 {F("vector_p99_ms_exact_fp32", "0.00")} ms)");
            o.WriteLine($"  hnsw           p50 {F("similar_p50_ms_hnsw", "0.00")} ms, p99 {F("similar_p99_ms_hnsw", "0.00")} ms, vector recall@10 {F("hnsw_recall_at_10", "0.0000")}, similar top-10 agreement {F("similar_top10_agreement", "0.0000")} (M {V("hnsw_connectivity")}, ef {V("hnsw_expansion_search")}; graph ready in {F("hnsw_ready_seconds", "0.00")} s)");
            if (r.TryGetValue("hnsw_sweep", out var s) && s is List<Dictionary<string, object?>> { Count: > 1 } sweep)
            {
                foreach (var row in sweep)
                {
                    o.WriteLine($"    ef {row["ef"],-6} p50 {(double)row["p50_ms"]!:F2} ms, p99 {(double)row["p99_ms"]!:F2} ms, recall@10 {(double)row["recall_at_10"]!:F4}");
                }
            }

            o.WriteLine($"  keyword stage  p50 {F("similar_keyword_p50_ms_exact", "0.00")} ms, p99 {F("similar_keyword_p99_ms_exact", "0.00")} ms, {F("similar_keyword_share_exact", "0.000")} of the time (exact); p50 {F("similar_keyword_p50_ms_hnsw", "0.00")} ms, p99 {F("similar_keyword_p99_ms_hnsw", "0.00")} ms, {F("similar_keyword_share_hnsw", "0.000")} (hnsw)");
            foreach (var kind in new[] { "exact", "hnsw" })
            {
                if (r.TryGetValue($"similar_stage_mean_ms_{kind}", out var st) && st is Dictionary<string, double> means)
                {
                    o.WriteLine($"  stages {kind,-7} mean ms: {string.Join(", ", means.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Key} {m.Value:0.00}")))}");
                }

                if (r.TryGetValue($"similar_gc_{kind}", out var g) && g is Dictionary<string, object?> gc)
                {
                    o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  gc {kind,-11} {gc["queries_with_a_collection"]} queries met a garbage collection ({gc["pause_ms_in_queries"]} ms of pauses in all); {gc["allocated_kb_per_query"]} KB allocated per query ({gc["process_allocated_kb_per_query"]} by the whole process)"));
                }
            }

            o.WriteLine($"  gc mode        {V("gc_mode")}");

            o.WriteLine($"  keyword alone  in memory p50 {F("keyword_p50_ms_memory", "0.000")} ms, p99 {F("keyword_p99_ms_memory", "0.000")} ms; Lucene p50 {F("keyword_p50_ms_lucene", "0.000")} ms, p99 {F("keyword_p99_ms_lucene", "0.000")} ms; equal lists {F("keyword_lists_equal", "0.0000")}");
            o.WriteLine($"  memory         {F("memory_bytes_per_product_exact", "0")} B/product exact (vectors, their int8 copies and filter columns; {F("memory_bytes_per_product_exact_fp32", "0")} with the fp32 scan), +{F("memory_bytes_per_product_hnsw_graph", "0")} B/product for the HNSW graph, +{F("memory_bytes_per_product_keyword", "0")} B/product keyword postings and norms");
            o.WriteLine($"  disk           {F("disk_bytes_per_product_lucene", "0")} B/product Lucene, +{F("disk_bytes_per_product_hnsw_graph", "0")} B/product HNSW graph");
        }
    }

    /// <summary>The search section: the same index opened twice, exact and with the graph, asked the same things.</summary>
    private static class SearchSection
    {
        public static async Task RunAsync(
            IServiceProvider services,
            ProductSimilarityOptions options,
            string indexPath,
            int queryCount,
            int[] expansions,
            CliConsole console,
            Dictionary<string, object?> result,
            CancellationToken ct)
        {
            var generator = services.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
            var wrapped = services.GetRequiredService<IOptions<ProductSimilarityOptions>>();
            await using var exact = LocalProductIndex.Open(indexPath, readOnly: true, Served(LocalOptions(options, int.MaxValue, options.Index.Local.Hnsw.ExpansionSearch)));
            exact.WarmUp(ct);
            var ids = new List<string>();
            await foreach (var id in exact.GetAllIdsAsync(ct).ConfigureAwait(false))
            {
                ids.Add(id);
            }

            ids.Sort(StringComparer.Ordinal);
            var random = new Random(42);
            var sample = Enumerable.Range(0, Math.Max(1, queryCount)).Select(_ => ids[random.Next(ids.Count)]).ToList();
            result["search_products"] = ids.Count;
            result["queries"] = sample.Count;

            // The fp32 scan of every row (the exact scan before the int8 copies) on the same index, its baseline in this run:
            // the queries go to the two in turn, so both see the same machine noise and warm code. Closed before the HNSW
            // figures are taken.
            var exactService = new SimilarityService(exact, generator, wrapped, TimeProvider.System);
            int candidates = Math.Max(options.Ranking.CandidateCount, new SimilarRequest { Id = sample[0] }.Top);
            TimedQueries[] timed;
            (double[] Int8, double[] Fp32) stage;
            long fp32Bytes;
            var fp32 = LocalProductIndex.Open(indexPath, readOnly: true, Served(LocalOptions(options, int.MaxValue, options.Index.Local.Hnsw.ExpansionSearch)) with { ExactScan = ExactScanMode.Fp32 });
            try
            {
                fp32.WarmUp(ct);
                ServingWarmup.SettleHeap();
                console.Note($"search: exact, {sample.Count} similar-items queries, with the int8 scan and the fp32 scan in turn...");
                timed = await TimeInTurnAsync([exactService, new SimilarityService(fp32, generator, wrapped, TimeProvider.System)], sample, ct).ConfigureAwait(false);
                console.Note($"search: the exact vector stage alone, int8 and fp32 scans in turn, {sample.Count} queries each...");
                stage = await VectorStageAsync(exact, fp32, sample, candidates, ct).ConfigureAwait(false);
                fp32Bytes = fp32.VectorMemoryBytes().Matrices;
            }
            finally
            {
                await fp32.DisposeAsync().ConfigureAwait(false);
            }

            var (exactLatencies, exactTop, exactKeyword, exactStages) = (timed[0].Latencies, timed[0].Top, timed[0].Keyword, timed[0].Stages);
            result["similar_slowest_exact"] = timed[0].Slowest();
            result["similar_gc_exact"] = timed[0].Collections();
            result["similar_p50_ms_exact"] = Math.Round(Percentile(exactLatencies, 0.50), 2);
            result["similar_p99_ms_exact"] = Math.Round(Percentile(exactLatencies, 0.99), 2);
            result["similar_keyword_p50_ms_exact"] = Math.Round(Percentile(exactKeyword, 0.50), 2);
            result["similar_keyword_p99_ms_exact"] = Math.Round(Percentile(exactKeyword, 0.99), 2);
            result["similar_stage_mean_ms_exact"] = exactStages;
            result["similar_keyword_share_exact"] = Math.Round(exactKeyword.Sum() / Math.Max(1e-9, exactLatencies.Sum()), 3);
            result["similar_p50_ms_exact_fp32"] = Math.Round(Percentile(timed[1].Latencies, 0.50), 2);
            result["similar_p99_ms_exact_fp32"] = Math.Round(Percentile(timed[1].Latencies, 0.99), 2);
            result["vector_p50_ms_exact"] = Math.Round(Percentile(stage.Int8, 0.50), 2);
            result["vector_p99_ms_exact"] = Math.Round(Percentile(stage.Int8, 0.99), 2);
            result["vector_p50_ms_exact_fp32"] = Math.Round(Percentile(stage.Fp32, 0.50), 2);
            result["vector_p99_ms_exact_fp32"] = Math.Round(Percentile(stage.Fp32, 0.99), 2);
            result["memory_bytes_per_product_exact_fp32"] = Math.Round((double)fp32Bytes / ids.Count, 0);

            var truth = await VectorTopAsync(exact, sample, ct).ConfigureAwait(false);
            var sweep = new List<Dictionary<string, object?>>();
            foreach (var ef in expansions.Select(e => e == 0 ? options.Index.Local.Hnsw.ExpansionSearch : e))
            {
                await using var hnsw = LocalProductIndex.Open(indexPath, readOnly: true, Served(LocalOptions(options, 0, ef)));
                console.Note($"search: HNSW (ef {ef}), loading or building the graph...");
                var ready = Stopwatch.StartNew();

                // As the server does before it listens (ServingWarmup): the graph is loaded or built off the request path.
                hnsw.WarmUp(ct);
                await hnsw.GetCandidatesAsync(new ProductQuery { Vector = (await exact.GetAsync(sample[0], ct).ConfigureAwait(false))!.Vector, Mode = RankingMode.Vector, Top = 1 }, ct).ConfigureAwait(false);
                double readySeconds = ready.Elapsed.TotalSeconds;
                ServingWarmup.SettleHeap();
                if (hnsw.VectorGraphGeneration is null)
                {
                    // E.g. no USearch native library for this platform: the product searches exactly, and so does this run.
                    result["hnsw_unavailable"] = hnsw.VectorGraphUnavailable ?? "the graph was not built";
                    console.Note($"search: no HNSW graph here ({result["hnsw_unavailable"]}); HNSW figures are left out.");
                    break;
                }

                console.Note($"search: HNSW (ef {ef}), {sample.Count} similar-items queries...");
                var hnswService = new SimilarityService(hnsw, generator, wrapped, TimeProvider.System);
                var hnswTimed = await TimeAsync(hnswService, sample, ct).ConfigureAwait(false);
                var (latencies, top, keyword, stages) = (hnswTimed.Latencies, hnswTimed.Top, hnswTimed.Keyword, hnswTimed.Stages);
                var found = await VectorTopAsync(hnsw, sample, ct).ConfigureAwait(false);
                double recall = Overlap(truth, found);
                double agreement = Overlap(exactTop, top);
                sweep.Add(new Dictionary<string, object?>
                {
                    ["ef"] = ef,
                    ["p50_ms"] = Math.Round(Percentile(latencies, 0.50), 2),
                    ["p99_ms"] = Math.Round(Percentile(latencies, 0.99), 2),
                    ["recall_at_10"] = Math.Round(recall, 4),
                    ["similar_top10_agreement"] = Math.Round(agreement, 4),
                });
                if (sweep.Count == 1)
                {
                    result["hnsw_connectivity"] = options.Index.Local.Hnsw.Connectivity;
                    result["hnsw_expansion_add"] = options.Index.Local.Hnsw.ExpansionAdd;
                    result["hnsw_scalar"] = options.Index.Local.Hnsw.Scalar.ToString().ToLowerInvariant();
                    result["hnsw_expansion_search"] = ef;
                    result["hnsw_ready_seconds"] = Math.Round(readySeconds, 2);
                    result["similar_p50_ms_hnsw"] = sweep[0]["p50_ms"];
                    result["similar_p99_ms_hnsw"] = sweep[0]["p99_ms"];
                    result["similar_keyword_p50_ms_hnsw"] = Math.Round(Percentile(keyword, 0.50), 2);
                    result["similar_keyword_p99_ms_hnsw"] = Math.Round(Percentile(keyword, 0.99), 2);
                    result["similar_stage_mean_ms_hnsw"] = stages;
                    result["similar_slowest_hnsw"] = hnswTimed.Slowest();
                    result["similar_gc_hnsw"] = hnswTimed.Collections();
                    result["managed_heap_mb"] = Math.Round(GC.GetGCMemoryInfo().HeapSizeBytes / 1048576.0, 1);
                    result["similar_keyword_share_hnsw"] = Math.Round(keyword.Sum() / Math.Max(1e-9, latencies.Sum()), 3);
                    result["hnsw_recall_at_10"] = sweep[0]["recall_at_10"];
                    result["similar_top10_agreement"] = sweep[0]["similar_top10_agreement"];
                    var (_, graphBytes) = hnsw.VectorMemoryBytes();
                    result["memory_bytes_per_product_hnsw_graph"] = Math.Round((double)graphBytes / ids.Count, 0);
                }
            }

            result["hnsw_sweep"] = sweep;
            await KeywordScorersAsync(options, indexPath, exact, sample, ids.Count, console, result, ct).ConfigureAwait(false);
            var (matrices, _) = exact.VectorMemoryBytes();
            result["memory_bytes_per_product_exact"] = Math.Round((double)matrices / ids.Count, 0);
            long lucene = Directory.EnumerateFiles(indexPath).Sum(f => new FileInfo(f).Length);
            var graphFolder = Path.Combine(indexPath, "hnsw");
            long graph = Directory.Exists(graphFolder) ? Directory.EnumerateFiles(graphFolder).Sum(f => new FileInfo(f).Length) : 0;
            result["disk_bytes_per_product_lucene"] = Math.Round((double)lucene / ids.Count, 0);
            result["disk_bytes_per_product_hnsw_graph"] = Math.Round((double)graph / ids.Count, 0);
        }

        // The index as `psim serve` opens it: a background task looks for new commits, so a query does not check the folder
        // for one at each read (three times per similar-items query) as a one-shot CLI command does.
        private static LocalProductIndexOptions Served(LocalProductIndexOptions local)
            => local with { RefreshInterval = TimeSpan.FromMilliseconds(new LocalIndexOptions().RefreshIntervalMilliseconds) };

        // Similar-items latencies (sorted), each query's top ids, and the keyword stage's share of each query (sorted).
        private static async Task<TimedQueries> TimeAsync(SimilarityService service, List<string> ids, CancellationToken ct)
            => (await TimeInTurnAsync([service], ids, ct).ConfigureAwait(false))[0];

        // Each query asked of every service in turn (so they share the machine's noise), after 20 warm-up queries each.
        private static async Task<TimedQueries[]> TimeInTurnAsync(SimilarityService[] services, List<string> ids, CancellationToken ct)
        {
            foreach (var id in ids.Take(20))
            {
                foreach (var service in services)
                {
                    await service.SimilarAsync(new SimilarRequest { Id = id }, ct).ConfigureAwait(false);
                }
            }

            var results = services.Select(_ => new TimedQueries(ids.Count)).ToArray();
            long process = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < ids.Count; i++)
            {
                for (int s = 0; s < services.Length; s++)
                {
                    // The query's stage timer, as the HTTP API starts one, so the keyword list's time is known; and the
                    // collections and GC pause that happened during the query, for the slowest queries' breakdown. Kept in
                    // preallocated arrays, so that this bookkeeping adds next to nothing to what the collector has to do.
                    using var timed = ProductSimilarityTelemetry.StartQuery("bench");
                    int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
                    var paused = GC.GetTotalPauseDuration();
                    long allocated = GC.GetAllocatedBytesForCurrentThread();
                    var start = Stopwatch.GetTimestamp();
                    var similar = await services[s].SimilarAsync(new SimilarRequest { Id = ids[i] }, ct).ConfigureAwait(false);
                    results[s].Record(
                        i,
                        Stopwatch.GetElapsedTime(start).TotalMilliseconds,
                        timed,
                        (GC.GetTotalPauseDuration() - paused).TotalMilliseconds,
                        (GC.CollectionCount(0) - gen0, GC.CollectionCount(1) - gen1, GC.CollectionCount(2) - gen2),
                        GC.GetAllocatedBytesForCurrentThread() - allocated,
                        similar);
                }
            }

            process = GC.GetTotalAllocatedBytes(precise: true) - process;
            foreach (var r in results)
            {
                r.ProcessAllocatedBytes = process / results.Length;
            }

            return results;
        }

        // One service's timed similar-items queries: each query's time, stages, GC activity and top ids in the order asked.
        private sealed class TimedQueries(int count)
        {
            private static readonly QueryStage[] StageKinds = Enum.GetValues<QueryStage>();
            private readonly double[] _ms = new double[count];
            private readonly double[,] _stages = new double[count, StageKinds.Length];
            private readonly double[] _pause = new double[count];
            private readonly (int Gen0, int Gen1, int Gen2)[] _collections = new (int, int, int)[count];
            private readonly long[] _allocated = new long[count];
            private readonly string[][] _top = new string[count][];

            // Latencies, sorted.
            public double[] Latencies => [.. _ms.Order()];

            // Keyword-stage times, sorted.
            public double[] Keyword => [.. Enumerable.Range(0, count).Select(i => _stages[i, (int)QueryStage.Keyword]).Order()];

            // Each query's top ids.
            public List<HashSet<string>> Top => [.. _top.Select(t => t.ToHashSet(StringComparer.Ordinal))];

            // The mean time of each stage.
            public Dictionary<string, double> Stages => StageKinds.ToDictionary(
                s => s.ToString().ToLowerInvariant(),
                s => Math.Round(Enumerable.Range(0, count).Average(i => _stages[i, (int)s]), 3));

            // Bytes the whole process allocated meanwhile (shared evenly when several services were timed in turn).
            public long ProcessAllocatedBytes { get; set; }

            public void Record(int i, double ms, ProductSimilarityTelemetry.Query timed, double pause, (int, int, int) collections, long allocated, SimilarityResult similar)
            {
                _ms[i] = ms;
                foreach (var stage in StageKinds)
                {
                    _stages[i, (int)stage] = timed.Stages[stage].TotalMilliseconds;
                }

                _pause[i] = pause;
                _collections[i] = collections;
                _allocated[i] = allocated;
                _top[i] = [.. similar.Hits.Select(h => h.Product.Product.Id)];
            }

            // The garbage collections during the timed queries (on any thread), and the GC pauses they added to the queries.
            public Dictionary<string, object?> Collections() => new()
            {
                ["queries_with_a_collection"] = _collections.Count(c => c != default),
                ["pause_ms_in_queries"] = Math.Round(_pause.Sum(), 1),
                ["allocated_kb_per_query"] = Math.Round(_allocated.Sum() / 1024.0 / Math.Max(1, count), 1),
                ["process_allocated_kb_per_query"] = Math.Round(ProcessAllocatedBytes / 1024.0 / Math.Max(1, count), 1),
            };

            // The slowest 1% (at least 3) with their stages and GC activity: what the p99 is made of.
            public List<Dictionary<string, object?>> Slowest()
                => [.. Enumerable.Range(0, count).OrderByDescending(i => _ms[i]).Take(Math.Max(3, count / 100)).Select(Query)];

            private Dictionary<string, object?> Query(int i)
            {
                var query = new Dictionary<string, object?>
                {
                    ["at"] = i,
                    ["ms"] = Math.Round(_ms[i], 2),
                    ["gc_pause_ms"] = Math.Round(_pause[i], 2),
                    ["gc"] = $"{_collections[i].Gen0}/{_collections[i].Gen1}/{_collections[i].Gen2}",
                    ["allocated_kb"] = Math.Round(_allocated[i] / 1024.0, 1),
                };
                foreach (var stage in StageKinds)
                {
                    if (_stages[i, (int)stage] > 0)
                    {
                        query[stage.ToString().ToLowerInvariant()] = Math.Round(_stages[i, (int)stage], 2);
                    }
                }

                return query;
            }
        }

        // The keyword list alone, the in-memory scorer against Lucene's searcher on the same queries in the same process
        // (alternating, so both see the same machine noise), with how often the two lists are equal (ids, order, scores).
        private static async Task KeywordScorersAsync(
            ProductSimilarityOptions options,
            string indexPath,
            LocalProductIndex exact,
            List<string> sample,
            int products,
            CliConsole console,
            Dictionary<string, object?> result,
            CancellationToken ct)
        {
            console.Note($"search: keyword list alone, in memory and by Lucene, {sample.Count} similar-items queries each...");
            var local = Served(LocalOptions(options, int.MaxValue, options.Index.Local.Hnsw.ExpansionSearch));
            await using var memory = LocalProductIndex.Open(indexPath, readOnly: true, local with { KeywordScorer = KeywordScorerKind.Memory });
            await using var lucene = LocalProductIndex.Open(indexPath, readOnly: true, local with { KeywordScorer = KeywordScorerKind.Lucene });
            var queries = new List<ProductQuery>(sample.Count);
            var keywords = TextNormalizer.For(options.Text);
            foreach (var id in sample)
            {
                var product = (await exact.GetAsync(id, ct).ConfigureAwait(false))!;
                queries.Add(new ProductQuery
                {
                    Text = keywords.ForKeywords(ProductText.ForKeywordQuery(product.Product)),
                    Mode = RankingMode.Keyword,
                    Top = Math.Max(FusionOptions.Default.CandidateCount, 10),
                    ExcludeIds = new HashSet<string>(StringComparer.Ordinal) { id },
                });
            }

            // Warm both (ids in memory for the hits, and the terms' postings for the in-memory side).
            memory.WarmUp(ct);
            lucene.WarmUp(ct);
            foreach (var query in queries.Take(20))
            {
                await memory.GetCandidatesAsync(query, ct).ConfigureAwait(false);
                await lucene.GetCandidatesAsync(query, ct).ConfigureAwait(false);
            }

            // The keyword stage's own time (analysis, scoring, ids), as the query's stage timer records it.
            var inMemory = new double[queries.Count];
            var byLucene = new double[queries.Count];
            int equal = 0;
            for (int i = 0; i < queries.Count; i++)
            {
                IReadOnlyList<ScoredCandidate> a, b;
                using (var timed = ProductSimilarityTelemetry.StartQuery("bench"))
                {
                    a = (await memory.GetCandidatesAsync(queries[i], ct).ConfigureAwait(false)).Keyword;
                    inMemory[i] = timed.Stages[QueryStage.Keyword].TotalMilliseconds;
                }

                using (var timed = ProductSimilarityTelemetry.StartQuery("bench"))
                {
                    b = (await lucene.GetCandidatesAsync(queries[i], ct).ConfigureAwait(false)).Keyword;
                    byLucene[i] = timed.Stages[QueryStage.Keyword].TotalMilliseconds;
                }

                equal += a.Select(c => (c.Id, c.Score)).SequenceEqual(b.Select(c => (c.Id, c.Score))) ? 1 : 0;
            }

            Array.Sort(inMemory);
            Array.Sort(byLucene);
            result["keyword_p50_ms_memory"] = Math.Round(Percentile(inMemory, 0.50), 3);
            result["keyword_p99_ms_memory"] = Math.Round(Percentile(inMemory, 0.99), 3);
            result["keyword_p50_ms_lucene"] = Math.Round(Percentile(byLucene, 0.50), 3);
            result["keyword_p99_ms_lucene"] = Math.Round(Percentile(byLucene, 0.99), 3);
            result["keyword_lists_equal"] = Math.Round((double)equal / Math.Max(1, queries.Count), 4);
            result["memory_bytes_per_product_keyword"] = Math.Round((double)memory.KeywordMemoryBytes() / Math.Max(1, products), 0);
        }

        // The exact vector list of each sampled product's similar-items query (its vector, itself excluded), timed on two
        // indexes in turn so that both see the same load.
        private static async Task<(double[] First, double[] Second)> VectorStageAsync(
            LocalProductIndex first, LocalProductIndex second, List<string> ids, int candidates, CancellationToken ct)
        {
            var queries = new List<ProductQuery>(ids.Count);
            foreach (var id in ids)
            {
                var product = await first.GetAsync(id, ct).ConfigureAwait(false);
                queries.Add(new ProductQuery { Vector = product!.Vector, Mode = RankingMode.Vector, Top = candidates, ExcludeIds = new HashSet<string>(StringComparer.Ordinal) { id } });
            }

            foreach (var query in queries.Take(10))
            {
                await first.GetCandidatesAsync(query, ct).ConfigureAwait(false);
                await second.GetCandidatesAsync(query, ct).ConfigureAwait(false);
            }

            var a = new double[queries.Count];
            var b = new double[queries.Count];
            for (int i = 0; i < queries.Count; i++)
            {
                var start = Stopwatch.GetTimestamp();
                await first.GetCandidatesAsync(queries[i], ct).ConfigureAwait(false);
                a[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                start = Stopwatch.GetTimestamp();
                await second.GetCandidatesAsync(queries[i], ct).ConfigureAwait(false);
                b[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }

            Array.Sort(a);
            Array.Sort(b);
            return (a, b);
        }

        // The vector side alone: each product's 10 nearest others.
        private static async Task<List<HashSet<string>>> VectorTopAsync(LocalProductIndex index, List<string> ids, CancellationToken ct)
        {
            var top = new List<HashSet<string>>(ids.Count);
            foreach (var id in ids)
            {
                var product = await index.GetAsync(id, ct).ConfigureAwait(false);
                var query = new ProductQuery { Vector = product!.Vector, Mode = RankingMode.Vector, Top = 10, ExcludeIds = new HashSet<string>(StringComparer.Ordinal) { id } };
                var lists = await index.GetCandidatesAsync(query, ct).ConfigureAwait(false);
                top.Add(lists.Vector.Select(c => c.Id).ToHashSet(StringComparer.Ordinal));
            }

            return top;
        }

        private static double Overlap(List<HashSet<string>> truth, List<HashSet<string>> found)
        {
            double sum = 0;
            int counted = 0;
            for (int i = 0; i < truth.Count; i++)
            {
                if (truth[i].Count == 0)
                {
                    continue;
                }

                sum += (double)found[i].Count(truth[i].Contains) / truth[i].Count;
                counted++;
            }

            return counted == 0 ? 1 : sum / counted;
        }
    }
}
