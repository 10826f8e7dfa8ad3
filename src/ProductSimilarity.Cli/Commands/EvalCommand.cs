using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using ProductSimilarity.Cli.Reports;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Evaluation;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Ingestion;
using ProductSimilarity.Core.Similarity;

namespace ProductSimilarity.Cli.Commands;

/// <summary>
/// <c>psim eval</c>: ingests a labelled catalog into a temporary index through the normal pipeline and measures
/// similar-items quality (recall@1, recall@10, MRR@10) through the normal similarity service.
/// </summary>
internal static class EvalCommand
{
    public static Command Create(CliConsole console)
    {
        var catalog = new Option<FileInfo>("--catalog") { Description = "Catalog with the products (any format psim ingest reads).", Required = true };
        var matches = new Option<FileInfo>("--matches") { Description = "CSV of true match pairs: id_a,id_b.", Required = true };
        var pairs = new Option<FileInfo?>("--pairs") { Description = "CSV of labelled pairs id_a,id_b,label,split; with --split, only that split's positive pairs give the queries." };
        var split = new Option<string?>("--split") { Description = "train, valid or test (needs --pairs)." };
        var ranking = PsimApp.RankingOption();
        var model = new Option<FileInfo?>("--model") { Description = "An operator-supplied ONNX model to evaluate instead of the bundled all-MiniLM-L6-v2 (needs --vocab)." };
        var vocab = new Option<FileInfo?>("--vocab") { Description = "The WordPiece vocab.txt of --model." };
        var quantization = PsimApp.QuantizationOption();
        var int8Scheme = PsimApp.Int8SchemeOption();
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object: {\"queries\",\"recall@1\",\"recall@10\",\"mrr@10\"}." };
        var report = new Option<FileInfo?>("--report")
        {
            Description = "Also write a self-contained HTML report to this file: recall@k curves (k = 1..20) for every ranking mode, the figures, the worst misses "
                + "with their score parts and shared terms, and a histogram of the score gap between the true match and the top wrong result. "
                + "With --model, the bundled model is evaluated too and the report compares them.",
        };
        var compare = new Option<bool>("--compare") { Description = "Measure vector, keyword and every fusion rule on the same index and print a table (with --json: an array of {\"ranking\",...})." };
        var withoutBrands = new Option<bool>("--without-brands") { Description = "Evaluate a harder copy of the catalog: brand field emptied and each product's brand words removed from its title and description." };
        var command = new Command("eval", "Measure similar-items retrieval quality on a labelled catalog. Leaves nothing behind but its temporary index, which it removes.")
        {
            catalog, matches, pairs, split, ranking, model, vocab, quantization, int8Scheme, json, compare, withoutBrands, report,
        };
        command.SetAction(async (parse, ct) =>
        {
            var catalogFile = parse.GetRequiredValue(catalog);
            var matchesFile = parse.GetRequiredValue(matches);
            var pairsFile = parse.GetValue(pairs);
            var splitName = parse.GetValue(split);
            foreach (var f in new[] { catalogFile, matchesFile, pairsFile })
            {
                if (f is { Exists: false })
                {
                    throw new CliException($"file '{f.FullName}' was not found.", ExitCodes.Usage);
                }
            }

            if ((pairsFile is null) != (splitName is null))
            {
                throw new CliException("--pairs and --split go together.", ExitCodes.Usage);
            }

            var overrides = new Dictionary<string, string?>();
            var modelFile = parse.GetValue(model);
            if (modelFile is not null)
            {
                overrides["ProductSimilarity:Embeddings:Onnx:ModelPath"] = modelFile.FullName;
                overrides["ProductSimilarity:Embeddings:Onnx:VocabPath"] = parse.GetValue(vocab)?.FullName;
            }

            PsimApp.AddQuantizationOverride(parse, quantization, overrides);
            PsimApp.AddInt8SchemeOverride(parse, int8Scheme, overrides);

            string? stripped = null;
            var catalogPath = catalogFile.FullName;
            if (parse.GetValue(withoutBrands))
            {
                stripped = Path.Combine(Path.GetTempPath(), $"psim-nobrand-{Guid.NewGuid():N}.jsonl");
                await BrandStripping.WriteAsync(catalogPath, stripped, ct).ConfigureAwait(false);
                catalogPath = stripped;
            }

            try
            {
                return await RunAsync().ConfigureAwait(false);
            }
            finally
            {
                if (stripped is not null)
                {
                    File.Delete(stripped);
                }
            }

            async Task<int> RunAsync()
            {
                if (parse.GetValue(compare))
                {
                    var table = await IngestCommand.WithTemporaryIndexAsync(parse, console, catalogPath, overrides, async (services, summary) =>
                    {
                        console.Note($"indexed {summary.Embedded} products in {summary.Duration.TotalSeconds:0.0} s; comparing rankings...");
                        var truth = RetrievalEvaluator.ReadPairs(matchesFile.FullName);
                        var queryPairs = pairsFile is null ? null : RetrievalEvaluator.ReadPairs(pairsFile.FullName, splitName);
                        return await services.GetRequiredService<RetrievalEvaluator>()
                            .CompareAsync(truth, RankingCandidate.Standard, queryPairs, ct).ConfigureAwait(false);
                    }, ct).ConfigureAwait(false);
                    WriteTable(console, parse.GetValue(json), table);
                    return ExitCodes.Ok;
                }

                var reportFile = parse.GetValue(report);
                var truth = RetrievalEvaluator.ReadPairs(matchesFile.FullName);
                var queryPairs = pairsFile is null ? null : RetrievalEvaluator.ReadPairs(pairsFile.FullName, splitName);
                var requested = parse.GetValue(ranking);
                var runs = new List<ReportRun>();

                async Task<EvaluationResult> EvaluateIndexAsync(IServiceProvider services, IngestionSummary summary, string modelLabel)
                {
                    console.Note($"indexed {summary.Embedded} products in {summary.Duration.TotalSeconds:0.0} s; evaluating...");
                    var evaluator = services.GetRequiredService<RetrievalEvaluator>();
                    var expected = (queryPairs ?? truth).SelectMany(p => new[] { p.A, p.B }).Distinct(StringComparer.Ordinal).LongCount();
                    if (reportFile is null)
                    {
                        return await CliProgress.RunAsync(console, "eval", "queries", sink =>
                            evaluator.EvaluateAsync(truth, queryPairs, requested, new QueryProgress(sink, expected), ct)).ConfigureAwait(false);
                    }

                    // The report covers every ranking mode, with the top 20 of each query; the printed figures are those of the requested (or default) mode.
                    var index = services.GetRequiredService<IProductIndex>();
                    var truthById = TruthById(truth);
                    EvaluationResult? figures = null;
                    var figuresMode = requested ?? services.GetRequiredService<SimilarityService>().DefaultMode;
                    foreach (var rankingMode in new[] { RankingMode.Vector, RankingMode.Keyword, RankingMode.Hybrid })
                    {
                        var ranked = await CliProgress.RunAsync(console, $"eval {rankingMode.ToString().ToLowerInvariant()}", "queries", sink =>
                            evaluator.RankQueriesAsync(truth, queryPairs, rankingMode, EvaluationReport.MaxK, new QueryProgress(sink, expected), ct)).ConfigureAwait(false);
                        var products = new Dictionary<string, IndexedProduct>(StringComparer.Ordinal);
                        foreach (var id in EvaluationReport.IdsNeeded(ranked, truthById))
                        {
                            if (!products.ContainsKey(id) && await index.GetAsync(id, ct).ConfigureAwait(false) is { } product)
                            {
                                products[id] = product;
                            }
                        }

                        runs.Add(new ReportRun(modelLabel, rankingMode.ToString().ToLowerInvariant(), ranked, products, truthById));
                        if (rankingMode == figuresMode)
                        {
                            figures = new EvaluationResult(ranked.Outcomes.Count, ranked.RecallAt(1), ranked.RecallAt(10), ranked.MrrAt(10), ranked.MissingIds);
                        }
                    }

                    return figures!;
                }

                if (reportFile is not null && modelFile is not null)
                {
                    // Compare with the bundled model: the same catalog, ingested again without the model override.
                    var baseOverrides = new Dictionary<string, string?>(overrides)
                    {
                        ["ProductSimilarity:Embeddings:Onnx:ModelPath"] = null,
                        ["ProductSimilarity:Embeddings:Onnx:VocabPath"] = null,
                    };
                    await IngestCommand.WithTemporaryIndexAsync(parse, console, catalogPath, baseOverrides, (services, summary) =>
                        EvaluateIndexAsync(services, summary, "bundled all-MiniLM-L6-v2"), ct).ConfigureAwait(false);
                }

                var result = await IngestCommand.WithTemporaryIndexAsync(parse, console, catalogPath, overrides, (services, summary) =>
                    EvaluateIndexAsync(services, summary, modelFile is null ? "bundled all-MiniLM-L6-v2" : $"fine-tuned {modelFile.Name}"), ct).ConfigureAwait(false);

                if (reportFile is not null)
                {
                    var subtitle = string.Create(CultureInfo.InvariantCulture,
                        $"{catalogFile.Name} with {matchesFile.Name}{(splitName is null ? string.Empty : $" ({splitName} split)")}: {result.Queries} queries; written {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
                    await File.WriteAllTextAsync(reportFile.FullName, EvaluationReport.Render("Similar-items retrieval quality", subtitle, runs), ct).ConfigureAwait(false);
                    console.Note($"report written to {reportFile.FullName}");
                }

                var mode = parse.GetValue(ranking)?.ToString().ToLowerInvariant() ?? "default";
                if (parse.GetValue(json))
                {
                    console.WriteJson(new Dictionary<string, object>
                    {
                        ["queries"] = result.Queries,
                        ["recall@1"] = Math.Round(result.RecallAt1, 4),
                        ["recall@10"] = Math.Round(result.RecallAt10, 4),
                        ["mrr@10"] = Math.Round(result.MrrAt10, 4),
                    });
                }
                else
                {
                    console.Out.WriteLine($"ranking:   {mode}");
                    console.Out.WriteLine($"queries:   {result.Queries}{(result.MissingIds > 0 ? $" ({result.MissingIds} ids in the pairs are not in the catalog)" : string.Empty)}");
                    console.Out.WriteLine($"recall@1:  {result.RecallAt1:0.0000}");
                    console.Out.WriteLine($"recall@10: {result.RecallAt10:0.0000}");
                    console.Out.WriteLine($"mrr@10:    {result.MrrAt10:0.0000}");
                }

                return ExitCodes.Ok;
            }
        });
        return command;
    }

    private static void WriteTable(CliConsole console, bool json, IReadOnlyList<EvaluationResult> table)
    {
        var candidates = RankingCandidate.Standard;
        if (json)
        {
            console.WriteJson(candidates.Select((c, i) => new Dictionary<string, object>
            {
                ["ranking"] = c.Name,
                ["queries"] = table[i].Queries,
                ["recall@1"] = Math.Round(table[i].RecallAt1, 4),
                ["recall@10"] = Math.Round(table[i].RecallAt10, 4),
                ["mrr@10"] = Math.Round(table[i].MrrAt10, 4),
            }).ToList());
            return;
        }

        console.Out.WriteLine($"queries: {table.FirstOrDefault()?.Queries ?? 0}");
        console.Out.WriteLine("| ranking | recall@1 | recall@10 | MRR@10 |");
        console.Out.WriteLine("|---|---|---|---|");
        for (var i = 0; i < candidates.Count; i++)
        {
            console.Out.WriteLine($"| {candidates[i].Name} | {table[i].RecallAt1:0.0000} | {table[i].RecallAt10:0.0000} | {table[i].MrrAt10:0.0000} |");
        }
    }

    private static Dictionary<string, IReadOnlyList<string>> TruthById(IReadOnlyList<(string A, string B)> pairs)
    {
        var truth = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (a, b) in pairs)
        {
            (truth.TryGetValue(a, out var ta) ? ta : truth[a] = []).Add(b);
            (truth.TryGetValue(b, out var tb) ? tb : truth[b] = []).Add(a);
        }

        return truth.ToDictionary(t => t.Key, t => (IReadOnlyList<string>)t.Value, StringComparer.Ordinal);
    }

    /// <summary>Queries done, against the number of ids in the pairs (an upper bound: ids missing from the catalog are not queried).</summary>
    private sealed class QueryProgress(IProgressSink sink, long expected) : IProgress<int>
    {
        public void Report(int value) => sink.Report(value, Math.Max(expected, value));
    }
}

/// <summary>The harder copy of a catalog that <c>psim eval --without-brands</c> evaluates: no brand field, and each
/// product's brand words taken out of its title and description, so matching must rest on the rest of the text.</summary>
internal static class BrandStripping
{
    public static async Task WriteAsync(string catalog, string output, CancellationToken ct)
    {
        var reader = new CatalogReader();
        await using var input = File.OpenRead(catalog);
        await using var writer = new StreamWriter(output, append: false, new System.Text.UTF8Encoding(false));
        await foreach (var row in reader.ReadAsync(input, Path.GetFileName(catalog), ct).ConfigureAwait(false))
        {
            if (row.Product is not { } p)
            {
                continue;
            }

            var stripped = p with { Brand = null, Title = Strip(p.Title, p.Brand) is { Length: > 0 } t ? t : p.Title, Description = Strip(p.Description, p.Brand) };
            await writer.WriteLineAsync(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["id"] = stripped.Id,
                ["title"] = stripped.Title,
                ["description"] = stripped.Description,
                ["category"] = stripped.Category,
                ["price"] = stripped.Price,
                ["source"] = stripped.Source,
            })).ConfigureAwait(false);
        }
    }

    /// <summary>Removes the brand and each of its words of three or more characters, case-insensitively.</summary>
    internal static string? Strip(string? text, string? brand)
    {
        if (string.IsNullOrEmpty(text) || string.IsNullOrWhiteSpace(brand))
        {
            return text;
        }

        var words = brand.Split([' ', '-', '/', ',', '.', '&'], StringSplitOptions.RemoveEmptyEntries).Where(w => w.Length >= 3);
        var result = text;
        foreach (var word in new[] { brand.Trim() }.Concat(words))
        {
            result = System.Text.RegularExpressions.Regex.Replace(
                result, $@"(?<![\p{{L}}\p{{N}}]){System.Text.RegularExpressions.Regex.Escape(word)}(?![\p{{L}}\p{{N}}])", " ",
                System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant,
                TimeSpan.FromSeconds(1));
        }

        return string.Join(' ', result.Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }
}
