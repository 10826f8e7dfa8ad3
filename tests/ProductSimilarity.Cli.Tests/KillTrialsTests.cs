using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Search.Local;
using Xunit.Abstractions;

namespace ProductSimilarity.Cli.Tests;

/// <summary>
/// Crash safety over many trials: <c>psim ingest</c> is killed with SIGKILL at seeded random points, then run again,
/// and every time the index must hold exactly the products of the file, each with the fields and the vector an
/// uninterrupted run gives it, and its HNSW graph must be in step.
/// </summary>
/// <remarks>
/// Each kill point is a commit count (plus a few random milliseconds, so kills land inside a batch, an embedding or a
/// commit, not only just after one) or, for point 0, a random instant of start-up. The test follows the commits by
/// listing the index folder for Lucene's <c>segments_N</c> files, which a commit renames into place atomically; it
/// never opens the index while the process runs, so it cannot race the writer. The HNSW graph is on from the first
/// product and must match the index after every rerun. The model is <see cref="TinyTokenModel"/>,
/// so a trial costs two process starts and about a second of work.
/// </remarks>
[Collection("psim")]
public sealed partial class KillTrialsTests(ITestOutputHelper output)
{
    private const int Trials = 20;
    private const int Seed = 20261130;
    private const int Products = 600;
    private const int BatchSize = 20;

    [Fact]
    public async Task Ingest_KilledAtTwentyRandomPointsThenRerun_IndexHoldsExactlyTheFileEveryTime()
    {
        using var dir = new TempDir();
        var modelPath = TinyTokenModel.Write(dir.Path, Enumerable.Range(0, Products).Select(UniqueWord));
        var catalog = dir.File("catalog.csv");
        var titles = BuildCatalog(catalog);
        var env = new Dictionary<string, string>
        {
            ["ProductSimilarity__Embeddings__Onnx__ModelPath"] = modelPath,
            ["ProductSimilarity__Embeddings__Onnx__Quantization"] = "None",
            ["ProductSimilarity__Ingestion__BatchSize"] = BatchSize.ToString(CultureInfo.InvariantCulture),
            ["ProductSimilarity__Ingestion__CommitEvery"] = "1",
            ["ProductSimilarity__Index__Local__Hnsw__MinProducts"] = "0", // an HNSW graph from the first product, to check it too
        };

        // The reference: one uninterrupted run, and how many commits it makes.
        var referencePath = dir.File("reference");
        var reference = await PsimRunner.RunProcessAsync(dir.Path, env, "ingest", catalog, "--index", referencePath, "--json");
        Assert.True(reference.Exit == 0, reference.Err);
        var lastGeneration = CommitGeneration(referencePath);
        Assert.True(lastGeneration > Products / BatchSize, $"expected a commit per batch, saw generation {lastGeneration}");
        var expected = await SnapshotAsync(referencePath);
        Assert.Equal(titles.Keys.Order(StringComparer.Ordinal), expected.Keys.Order(StringComparer.Ordinal));

        var random = new Random(Seed);
        var results = new List<Trial>();
        for (var trial = 1; trial <= Trials; trial++)
        {
            // Kill points spread over the run, leaving at least 5 batches to go so the kill lands before the end.
            var killAtCommit = random.Next(0, (int)lastGeneration - 5);
            var extraMs = random.Next(0, 40);
            var index = dir.File($"trial-{trial:00}");
            var (killed, committed) = await KillAsync(dir.Path, env, catalog, index, killAtCommit, extraMs);

            var rerun = await PsimRunner.RunProcessAsync(dir.Path, env, "ingest", catalog, "--index", index, "--json");
            Assert.True(rerun.Exit == 0, $"trial {trial}: the rerun failed: {rerun.Err}");
            var unchanged = long.Parse(UnchangedRegex().Match(rerun.Out).Groups[1].Value, CultureInfo.InvariantCulture);
            var embedded = long.Parse(EmbeddedRegex().Match(rerun.Out).Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.True(unchanged == committed, $"trial {trial}: {committed} products were committed before the kill, but the rerun found {unchanged} unchanged");
            Assert.True(unchanged + embedded == Products, $"trial {trial}: the rerun saw {unchanged} unchanged and {embedded} embedded of {Products}");

            var actual = await SnapshotAsync(index);
            Assert.True(actual.Count == Products, $"trial {trial}: {actual.Count} products in the index, {Products} in the file");
            // In step: the graph saved for the last commit holds every product with its current vector and nothing else.
            // Each product finding itself first is a property of the approximate search (198/200 seen on these 16-dimension
            // vectors), not of crash safety, so it is reported, not asserted.
            var graph = await CheckGraphAsync(index);
            Assert.True(
                graph is { Saved: true, Missing: 0, Stale: 0, Extra: 0, GraphProducts: Products, LiveProducts: Products },
                $"trial {trial}: the HNSW graph is out of step with the index: {graph}");
            foreach (var (id, want) in expected)
            {
                Assert.True(actual.TryGetValue(id, out var got), $"trial {trial}: product {id} is missing");
                Assert.True(got.Title == want.Title && got.Hash == want.Hash, $"trial {trial}: product {id} holds '{got.Title}' ({got.Hash}), expected '{want.Title}' ({want.Hash})");
                Assert.True(got.Vector.AsSpan().SequenceEqual(want.Vector), $"trial {trial}: product {id} has a torn or foreign vector");
            }

            results.Add(new Trial(trial, killAtCommit, extraMs, killed, committed));
            output.WriteLine($"trial {trial,2}: kill after commit {killAtCommit,3} + {extraMs,2} ms: {(killed ? "killed" : "had finished")}, {committed,4} of {Products} products committed before the kill; rerun: {unchanged} unchanged + {embedded} embedded, {actual.Count} products, all fields and vectors as the reference, HNSW graph in step ({graph.GraphProducts} nodes, {graph.SelfFound}/{graph.SelfChecked} found themselves)");
        }

        // The kills must really land mid-run, or the trials test nothing.
        Assert.True(results.Count(r => r.Killed && r.Committed < Products) >= Trials * 3 / 4, "most kills should land mid-run: " + string.Join("; ", results));
        Assert.Contains(results, r => r.Committed > 0);
    }

    /// <summary>Starts an ingestion, kills it (SIGKILL) after the given commit and delay, and counts what it committed.</summary>
    private static async Task<(bool Killed, long Committed)> KillAsync(string workDir, Dictionary<string, string> env, string catalog, string index, int killAtCommit, int extraMs)
    {
        using var process = PsimRunner.Start(workDir, env, "ingest", catalog, "--index", index);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var deadline = Stopwatch.StartNew();
        while (!process.HasExited && CommitGeneration(index) < killAtCommit && deadline.Elapsed < TimeSpan.FromMinutes(2))
        {
            await Task.Delay(2);
        }

        await Task.Delay(killAtCommit == 0 ? extraMs * 25 : extraMs); // point 0: anywhere in the first second of start-up
        var killed = !process.HasExited;
        if (killed)
        {
            process.Kill(entireProcessTree: true);
        }

        await process.WaitForExitAsync();
        await Task.WhenAll(stdout, stderr);
        if (!killed && process.ExitCode != 0)
        {
            Assert.Fail($"ingest failed before it was killed: {await stderr}");
        }

        return (killed, await CountAsync(index));
    }

    /// <summary>The generation of the last Lucene commit in the folder (0: none), read from the file names only.</summary>
    private static long CommitGeneration(string index)
    {
        try
        {
            return Directory.EnumerateFiles(index, "segments_*")
                .Select(f => Path.GetFileName(f)["segments_".Length..])
                .Select(ParseBase36)
                .DefaultIfEmpty(0)
                .Max();
        }
        catch (DirectoryNotFoundException)
        {
            return 0;
        }
    }

    private static long ParseBase36(string digits)
    {
        long value = 0;
        foreach (var c in digits)
        {
            var digit = c is >= '0' and <= '9' ? c - '0' : c is >= 'a' and <= 'z' ? c - 'a' + 10 : -1;
            if (digit < 0)
            {
                return 0; // not a commit point
            }

            value = value * 36 + digit;
        }

        return value;
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
            return 0; // nothing committed
        }
    }

    private static async Task<VectorGraphCheck> CheckGraphAsync(string path)
    {
        await using var index = LocalProductIndex.Open(path, readOnly: true, new LocalProductIndexOptions { Hnsw = HnswSettings.Default with { MinProducts = 0 } });
        return index.CheckVectorGraph();
    }

    /// <summary>Every product of the index by id, read back whole; a repeated id fails the test.</summary>
    private static async Task<Dictionary<string, Stored>> SnapshotAsync(string path)
    {
        await using var index = LocalProductIndex.Open(path, readOnly: true);
        var products = new Dictionary<string, Stored>(StringComparer.Ordinal);
        await foreach (var id in index.GetAllIdsAsync())
        {
            var product = await index.GetAsync(id) ?? throw new InvalidOperationException($"{id} is listed but cannot be read");
            Assert.True(product.Vector.Length == TinyTokenModel.Dimensions, $"{id} has a {product.Vector.Length}-dimensional vector");
            Assert.True(products.TryAdd(id, new Stored(product.Product.Title, product.ContentHash, product.Vector.ToArray())), $"{id} is stored twice");
        }

        Assert.Equal(products.Count, await index.CountAsync()); // no hidden second document under an id
        return products;
    }

    private static Dictionary<string, string> BuildCatalog(string path)
    {
        string[] kinds = ["widget", "gadget", "kettle", "lamp", "backpack", "speaker", "mug", "charger", "blender", "jacket"];
        string[] adjectives = ["compact", "deluxe", "portable", "smart", "classic", "ergonomic", "wireless", "stainless", "foldable", "heavy-duty"];
        var titles = new Dictionary<string, string>(StringComparer.Ordinal);
        var sb = new StringBuilder("id,title,brand,price\n");
        for (var i = 0; i < Products; i++)
        {
            var id = string.Create(CultureInfo.InvariantCulture, $"P{i:00000}");
            var title = string.Create(CultureInfo.InvariantCulture, $"{adjectives[i % 10]} {kinds[i / 10 % 10]} model {i} {UniqueWord(i)}");
            titles[id] = title;
            sb.Append(CultureInfo.InvariantCulture, $"{id},{title},Brand{i % 37},{10 + i % 90}.99\n");
        }

        File.WriteAllText(path, sb.ToString());
        return titles;
    }

    private static string UniqueWord(int i) => string.Create(CultureInfo.InvariantCulture, $"n{i}");

    private sealed record Stored(string Title, string Hash, float[] Vector);

    private sealed record Trial(int Number, int KillAtCommit, int ExtraMs, bool Killed, long Committed);

    [GeneratedRegex("\"unchanged\":(\\d+)")]
    private static partial Regex UnchangedRegex();

    [GeneratedRegex("\"embedded\":(\\d+)")]
    private static partial Regex EmbeddedRegex();
}
