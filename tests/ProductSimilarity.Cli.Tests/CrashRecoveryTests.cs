using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Search.Local;

namespace ProductSimilarity.Cli.Tests;

[Collection("psim")]
public sealed partial class CrashRecoveryTests
{
    private const int Products = 4000;

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
            // Wait until some checkpoints are durable (read through a second, read-only index instance, as
            // another process would), then kill without warning (SIGKILL) while the rest is still being embedded.
            var deadline = DateTime.UtcNow.AddMinutes(3);
            long committed = 0;
            while (!process.HasExited && DateTime.UtcNow < deadline && committed < 300)
            {
                await Task.Delay(50);
                committed = await CountAsync(index);
            }

            if (process.HasExited)
            {
                Assert.Fail("ingest finished before it could be killed; make the catalog larger. " + await stderr);
            }

            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        var afterKill = await CountAsync(index);
        Assert.InRange(afterKill, 300, Products - 1);

        var rerun = await PsimRunner.RunProcessAsync(dir.Path, env, "ingest", catalog, "--index", index, "--json");
        Assert.True(rerun.Exit == 0, rerun.Err);
        var unchanged = int.Parse(UnchangedRegex().Match(rerun.Out).Groups[1].Value, CultureInfo.InvariantCulture);
        var embedded = int.Parse(EmbeddedRegex().Match(rerun.Out).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(unchanged > 0, "the rerun should find the committed products: " + rerun.Out);
        Assert.True(embedded > 0, "the rerun should finish the job: " + rerun.Out);
        Assert.Equal(Products, unchanged + embedded);

        // Every product exactly once: the count equals the catalog, and a third run finds everything unchanged.
        Assert.Equal(Products, await CountAsync(index));
        var third = await PsimRunner.RunProcessAsync(dir.Path, env, "ingest", catalog, "--index", index, "--json");
        Assert.Contains($"\"unchanged\":{Products}", third.Out, StringComparison.Ordinal);
        Assert.Contains("\"embedded\":0", third.Out, StringComparison.Ordinal);
    }

    private static async Task<long> CountAsync(string index)
    {
        try
        {
            await using var reader = LocalProductIndex.Open(index, readOnly: true);
            return await reader.CountAsync();
        }
        catch (ProductIndexException)
        {
            return 0; // nothing committed yet
        }
    }

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
