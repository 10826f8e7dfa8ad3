using Microsoft.Extensions.DependencyInjection;
using ProductSimilarity.Cli.Commands;
using ProductSimilarity.Core.Evaluation;
using ProductSimilarity.Core.Indexing;

namespace ProductSimilarity.Cli.Tests;

/// <summary>
/// Retrieval quality on the real amazon-google benchmark in ../shared (research-only data, never copied into the
/// project). Skips cleanly when the data set is not there.
/// </summary>
[Collection("psim")]
public sealed class AmazonGoogleQualityTests
{
    private static readonly string? DatasetDir = FindDataset();

    [SkippableFact]
    public async Task Eval_AmazonGoogle_HybridBeatsBothOfItsParts()
    {
        Skip.If(DatasetDir is null, "../shared/datasets/amazon-google is not available");
        using var dir = new TempDir();
        var services = CliHost.Build(new GlobalSettings(dir.File("index"), null, false));
        await using (services)
        {
            var console = new CliConsole(TextWriter.Null, TextWriter.Null);
            var summary = await IngestCommand.RunAsync(services, console, Path.Combine(DatasetDir!, "catalog.jsonl"), dir.File("errors.jsonl"), null, CancellationToken.None);
            Assert.Equal(4589, summary.Embedded);
            var truth = RetrievalEvaluator.ReadPairs(Path.Combine(DatasetDir!, "matches.csv"));
            var evaluator = services.GetRequiredService<RetrievalEvaluator>();

            var vector = await evaluator.EvaluateAsync(truth, mode: RankingMode.Vector);
            var keyword = await evaluator.EvaluateAsync(truth, mode: RankingMode.Keyword);
            var hybrid = await evaluator.EvaluateAsync(truth, mode: RankingMode.Hybrid);

            Assert.Equal(2404, hybrid.Queries);
            Assert.True(vector.RecallAt1 > 0.6, $"vector recall@1 {vector.RecallAt1:0.000}");
            Assert.True(keyword.RecallAt1 > 0.6, $"keyword recall@1 {keyword.RecallAt1:0.000}");
            Assert.True(hybrid.RecallAt1 > vector.RecallAt1, $"hybrid {hybrid.RecallAt1:0.000} vs vector {vector.RecallAt1:0.000}");
            Assert.True(hybrid.RecallAt1 > keyword.RecallAt1, $"hybrid {hybrid.RecallAt1:0.000} vs keyword {keyword.RecallAt1:0.000}");
            Assert.True(hybrid.MrrAt10 > Math.Max(vector.MrrAt10, keyword.MrrAt10), "hybrid MRR@10 should beat both parts");
        }
    }

    private static string? FindDataset()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "datasets", "amazon-google");
            if (File.Exists(Path.Combine(candidate, "catalog.jsonl")) && File.Exists(Path.Combine(candidate, "matches.csv")))
            {
                return candidate;
            }
        }

        return null;
    }
}
