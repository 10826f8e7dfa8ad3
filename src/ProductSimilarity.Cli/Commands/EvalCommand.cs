using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ProductSimilarity.Cli.Reports;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Configuration;
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
        var rulesOff = new Option<string[]>("--rules-off")
        {
            Description = "For measurement: evaluate with text rules switched off, comma-separated: codes (the model-code fields), near-codes (suffix-insensitive codes), "
                + "units, boilerplate (everywhere), boilerplate-embedded (kept in the stored and embedded text only), emoji, punctuation (repeated marks kept), t2s (Traditional to Simplified).",
            AllowMultipleArgumentsPerToken = true,
            HelpName = "RULES",
        };
        var tune = new Option<bool>("--tune")
        {
            Description = "Learn this catalog's fusion weight from its own pairs and store it with the index (--index), which then uses it by default: "
                + "ingests the catalog into the index as psim ingest does, tries vector weights 0..1 on the training pairs (with --pairs: the train split; "
                + "else a fixed half of --matches) and prints the figures on the held-out pairs (--split, default test; else the other half).",
        };
        var command = new Command("eval", "Measure similar-items retrieval quality on a labelled catalog. Leaves nothing behind but its temporary index, which it removes (except with --tune).")
        {
            catalog, matches, pairs, split, ranking, model, vocab, quantization, int8Scheme, json, compare, withoutBrands, report, tune, rulesOff,
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

            if (parse.GetValue(tune))
            {
                if (parse.GetValue(compare) || parse.GetValue(report) is not null || parse.GetValue(withoutBrands) || parse.GetValue(model) is not null)
                {
                    throw new CliException("--tune does not go with --compare, --report, --without-brands or --model.", ExitCodes.Usage);
                }

                var tuneOverrides = new Dictionary<string, string?>();
                PsimApp.AddQuantizationOverride(parse, quantization, tuneOverrides);
                PsimApp.AddInt8SchemeOverride(parse, int8Scheme, tuneOverrides);
                return await TuneAsync(parse, console, catalogFile.FullName, matchesFile.FullName, pairsFile?.FullName, splitName, tuneOverrides, parse.GetValue(json), ct).ConfigureAwait(false);
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
            TextRules.SwitchOff(parse.GetValue(rulesOff) ?? [], overrides);

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

    /// <summary>Fewest training queries <c>--tune</c> learns from.</summary>
    internal const int MinTuningQueries = 20;

    private static async Task<int> TuneAsync(
        ParseResult parse, CliConsole console, string catalogPath, string matchesPath, string? pairsPath, string? splitName,
        Dictionary<string, string?> overrides, bool json, CancellationToken ct)
    {
        var truth = RetrievalEvaluator.ReadPairs(matchesPath);
        IReadOnlyList<(string A, string B)> train;
        IReadOnlyList<(string A, string B)> heldOut;
        if (pairsPath is not null)
        {
            train = RetrievalEvaluator.ReadPairs(pairsPath, "train");
            heldOut = RetrievalEvaluator.ReadPairs(pairsPath, splitName ?? "test");
        }
        else
        {
            (train, heldOut) = RetrievalEvaluator.SplitPairs(truth);
        }

        var trainQueries = train.SelectMany(p => new[] { p.A, p.B }).Distinct(StringComparer.Ordinal).Count();
        if (trainQueries < MinTuningQueries)
        {
            throw new CliException($"--tune needs at least {MinTuningQueries} training queries; the training pairs name {trainQueries} products.", ExitCodes.Usage);
        }

        var errors = Path.Combine(Path.GetTempPath(), $"psim-tune-{Guid.NewGuid():N}.errors.jsonl");
        await using var services = CliHost.Build(PsimApp.Globals(parse), overrides);
        var summary = await IngestCommand.RunAsync(services, console, catalogPath, errors, null, ct).ConfigureAwait(false);
        File.Delete(errors);
        console.Note($"index holds the catalog ({summary.Embedded} embedded, {summary.Unchanged} unchanged); trying vector weights on {trainQueries} training queries...");
        var configured = services.GetRequiredService<IOptions<ProductSimilarityOptions>>().Value.Ranking.ToFusionOptions();
        var tuning = await services.GetRequiredService<RetrievalEvaluator>().TuneAsync(truth, train, heldOut, configured, cancellationToken: ct).ConfigureAwait(false);
        var index = services.GetRequiredService<IProductIndex>();
        await index.SetTunedFusionAsync(tuning.Tuned, ct).ConfigureAwait(false);
        await index.CommitAsync(ct).ConfigureAwait(false);

        var figures = tuning.HeldOut.Select((c, i) => new Dictionary<string, object>
        {
            ["ranking"] = c.Name,
            ["queries"] = tuning.HeldOutFigures[i].Queries,
            ["recall@1"] = Math.Round(tuning.HeldOutFigures[i].RecallAt1, 4),
            ["recall@10"] = Math.Round(tuning.HeldOutFigures[i].RecallAt10, 4),
            ["mrr@10"] = Math.Round(tuning.HeldOutFigures[i].MrrAt10, 4),
        }).ToList();
        if (json)
        {
            console.WriteJson(new Dictionary<string, object>
            {
                ["method"] = tuning.Tuned.Method.ToString(),
                ["vectorWeight"] = tuning.Tuned.VectorWeight,
                ["trainQueries"] = tuning.Tuned.Queries,
                ["heldOut"] = figures,
            });
            return ExitCodes.Ok;
        }

        var w = console.Out;
        w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"learned: {tuning.Tuned.Method} fusion, vector weight {tuning.Tuned.VectorWeight:0.00} (configured {configured.Method} {configured.VectorWeight:0.00}), on {tuning.Tuned.Queries} training queries"));
        w.WriteLine("| vector weight | train recall@1 | train MRR@10 |");
        w.WriteLine("|---|---|---|");
        foreach (var (weight, result) in tuning.Grid)
        {
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {weight:0.00} | {result.RecallAt1:0.0000} | {result.MrrAt10:0.0000} |"));
        }

        w.WriteLine($"held-out queries: {tuning.HeldOutFigures.FirstOrDefault()?.Queries ?? 0}");
        w.WriteLine("| ranking | recall@1 | recall@10 | MRR@10 |");
        w.WriteLine("|---|---|---|---|");
        for (var i = 0; i < tuning.HeldOut.Count; i++)
        {
            var r = tuning.HeldOutFigures[i];
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {tuning.HeldOut[i].Name} | {r.RecallAt1:0.0000} | {r.RecallAt10:0.0000} | {r.MrrAt10:0.0000} |"));
        }

        console.Note("stored with the index; similar, search and recommend on it use it by default (ProductSimilarity:Ranking:UseTunedFusion=false turns it off).");
        return ExitCodes.Ok;
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

/// <summary>
/// <c>psim eval --rules-off</c>: switches text rules off for one evaluation, to measure what each is worth. The index
/// options go through configuration; the keyword-side rules live in the process-wide default cleaning options
/// (<see cref="ProductSimilarity.Core.Text.TextCleaningOptions.Default"/>, read by the shared normaliser that documents
/// and queries both use), so they are set before anything reads them. A measurement switch for a one-shot process.
/// </summary>
internal static class TextRules
{
    public static readonly IReadOnlyList<string> Names = ["codes", "near-codes", "units", "boilerplate", "boilerplate-embedded", "emoji", "punctuation", "t2s"];

    public static void SwitchOff(IEnumerable<string> values, IDictionary<string, string?> overrides, ProductSimilarity.Core.Text.TextCleaningOptions? defaults = null)
    {
        defaults ??= ProductSimilarity.Core.Text.TextCleaningOptions.Default;
        foreach (var rule in values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            switch (rule.ToLowerInvariant())
            {
                case "codes":
                    overrides["ProductSimilarity:Index:Local:ModelCodeBoost"] = "0";
                    overrides["ProductSimilarity:Index:Local:NearCodeBoost"] = "0";
                    break;
                case "near-codes":
                    overrides["ProductSimilarity:Index:Local:NearCodeBoost"] = "0";
                    break;
                case "units":
                    overrides["ProductSimilarity:Text:NormalizeUnits"] = "false";
                    defaults.NormalizeUnits = false;
                    break;
                case "boilerplate":
                    // An empty phrase is ignored: a list of one empty phrase removes nothing on either side.
                    overrides["ProductSimilarity:Text:RemoveBoilerplate"] = "false";
                    overrides["ProductSimilarity:Text:Boilerplate:0"] = string.Empty;
                    defaults.RemoveBoilerplate = false;
                    defaults.Boilerplate = [];
                    break;
                case "boilerplate-embedded":
                    overrides["ProductSimilarity:Text:RemoveBoilerplate"] = "false";
                    defaults.RemoveBoilerplate = false;
                    break;
                case "punctuation":
                    overrides["ProductSimilarity:Text:CollapseRepeatedPunctuation"] = "false";
                    defaults.CollapseRepeatedPunctuation = false;
                    break;
                case "emoji":
                    overrides["ProductSimilarity:Text:RemoveEmoji"] = "false";
                    defaults.RemoveEmoji = false;
                    break;
                case "t2s":
                    overrides["ProductSimilarity:Text:TraditionalToSimplified"] = "false";
                    defaults.TraditionalToSimplified = false;
                    break;
                default:
                    throw new CliException($"--rules-off: unknown rule '{rule}'; use {string.Join(", ", Names)}.", ExitCodes.Usage);
            }
        }
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
