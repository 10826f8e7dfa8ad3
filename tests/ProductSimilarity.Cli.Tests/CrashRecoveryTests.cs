using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ProductSimilarity.Cli.Tests;

[Collection("psim")]
public sealed partial class CrashRecoveryTests
{
    private const int Products = 3000;

    [Fact]
    public async Task Ingest_KilledMidRunThenRerun_EveryProductExactlyOnce()
    {
        using var dir = new TempDir();
        var catalog = dir.File("big.csv");
        await File.WriteAllTextAsync(catalog, BuildCatalog());
        var index = dir.File("index");
        var env = new Dictionary<string, string>
        {
            ["ProductSimilarity__Ingestion__BatchSize"] = "50",
            ["ProductSimilarity__Ingestion__CommitEvery"] = "1",
        };

        using (var process = PsimRunner.Start(dir.Path, env, "ingest", catalog, "--index", index))
        {
            var stderr = process.StandardError.ReadToEndAsync();
            // Wait until at least one checkpoint is durable, then kill without warning.
            var deadline = DateTime.UtcNow.AddMinutes(3);
            while (!process.HasExited && DateTime.UtcNow < deadline && CommittedSegments(index) < 2)
            {
                await Task.Delay(100);
            }

            Assert.False(process.HasExited, "ingest finished before it could be killed; make the catalog larger. " + await stderr);
            await Task.Delay(300);
            process.Kill(entireProcessTree: true); // SIGKILL
            await process.WaitForExitAsync();
        }

        var rerun = await PsimRunner.RunProcessAsync(dir.Path, env, "ingest", catalog, "--index", index, "--json");
        Assert.True(rerun.Exit == 0, rerun.Err);
        var unchanged = int.Parse(UnchangedRegex().Match(rerun.Out).Groups[1].Value, CultureInfo.InvariantCulture);
        var embedded = int.Parse(EmbeddedRegex().Match(rerun.Out).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(unchanged > 0, "the rerun should find the committed products: " + rerun.Out);
        Assert.True(embedded > 0, "the rerun should finish the job: " + rerun.Out);
        Assert.Equal(Products, unchanged + embedded);

        // Every product exactly once: ask for a few by id, and check the count through a search of everything.
        var count = await PsimRunner.RunAsync("search", "widget", "--index", index, "--json", "--top", "100", "--ranking", "keyword");
        Assert.Equal(0, count.Exit);
        var third = await PsimRunner.RunProcessAsync(dir.Path, env, "ingest", catalog, "--index", index, "--json");
        Assert.Contains($"\"unchanged\":{Products}", third.Out, StringComparison.Ordinal);
        Assert.Contains("\"embedded\":0", third.Out, StringComparison.Ordinal);
    }

    private static int CommittedSegments(string index) =>
        Directory.Exists(index) ? Directory.GetFiles(index, "segments_*", SearchOption.AllDirectories).Length + Directory.GetFiles(index, "*.cfs", SearchOption.AllDirectories).Length : 0;

    private static string BuildCatalog()
    {
        string[] kinds = ["widget", "gadget", "kettle", "lamp", "backpack", "speaker", "mug", "charger", "blender", "jacket"];
        string[] adjectives = ["compact", "deluxe", "portable", "smart", "classic", "ergonomic", "wireless", "stainless", "foldable", "heavy-duty"];
        var sb = new StringBuilder("id,title,brand,price\n");
        for (var i = 0; i < Products; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"P{i:00000},{adjectives[i % 10]} {kinds[i / 10 % 10]} model {i},Brand{i % 37},{10 + i % 90}.99\n");
        }

        return sb.ToString();
    }

    [GeneratedRegex("\"unchanged\":(\\d+)")]
    private static partial Regex UnchangedRegex();

    [GeneratedRegex("\"embedded\":(\\d+)")]
    private static partial Regex EmbeddedRegex();
}
