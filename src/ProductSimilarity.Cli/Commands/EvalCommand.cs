using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using ProductSimilarity.Core.Evaluation;

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
        var command = new Command("eval", "Measure similar-items retrieval quality on a labelled catalog. Leaves nothing behind but its temporary index, which it removes.")
        {
            catalog, matches, pairs, split, ranking, model, vocab, quantization, int8Scheme, json,
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
            if (parse.GetValue(model) is { } m)
            {
                overrides["ProductSimilarity:Embeddings:Onnx:ModelPath"] = m.FullName;
                overrides["ProductSimilarity:Embeddings:Onnx:VocabPath"] = parse.GetValue(vocab)?.FullName;
            }

            PsimApp.AddQuantizationOverride(parse, quantization, overrides);
            PsimApp.AddInt8SchemeOverride(parse, int8Scheme, overrides);

            var result = await IngestCommand.WithTemporaryIndexAsync(parse, console, catalogFile.FullName, overrides, async (services, summary) =>
            {
                console.Note($"indexed {summary.Embedded} products in {summary.Duration.TotalSeconds:0.0} s; evaluating...");
                var truth = RetrievalEvaluator.ReadPairs(matchesFile.FullName);
                var queryPairs = pairsFile is null ? null : RetrievalEvaluator.ReadPairs(pairsFile.FullName, splitName);
                return await services.GetRequiredService<RetrievalEvaluator>()
                    .EvaluateAsync(truth, queryPairs, parse.GetValue(ranking), null, ct).ConfigureAwait(false);
            }, ct).ConfigureAwait(false);

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
        });
        return command;
    }
}
