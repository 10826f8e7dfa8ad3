using System.Globalization;
using System.Text.Json;
using ProductSimilarity.Core.Similarity;

namespace ProductSimilarity.Cli.Tests;

/// <summary>The sample catalog, ingested once for the export tests.</summary>
public sealed class SampleIndexFixture : IAsyncLifetime
{
    private readonly TempDir _dir = new();

    public string Index => _dir.File("index");

    public string Folder => _dir.Path;

    public async Task InitializeAsync()
    {
        var catalog = Path.Combine(RepoRoot(), "samples", "catalog.csv");
        var (exit, _, stderr) = await PsimRunner.RunAsync("ingest", catalog, "--index", Index, "--errors", _dir.File("errors.jsonl"));
        Assert.True(exit == 0, stderr);
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "samples", "catalog.csv")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("samples/catalog.csv not found above " + AppContext.BaseDirectory);
    }
}

[Collection("psim")]
public sealed class ExportCommandTests(SampleIndexFixture fixture) : IClassFixture<SampleIndexFixture>
{
    [Fact]
    public async Task Export_InStockCsv_SameListsAsSimilarForSampledProducts()
    {
        using var dir = new TempDir();
        var output = dir.File("matrix.csv");

        var (exit, stdout, stderr) = await PsimRunner.RunAsync("export", output, "--top", "5", "--in-stock", "true", "--index", fixture.Index, "--json");

        Assert.True(exit == 0, stderr);
        using var summary = JsonDocument.Parse(stdout);
        Assert.Equal("csv", summary.RootElement.GetProperty("format").GetString());
        var products = summary.RootElement.GetProperty("products").GetInt64();
        var rows = File.ReadAllLines(output).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(summary.RootElement.GetProperty("rows").GetInt64(), rows.Count);
        Assert.True(products > 200, stdout);

        var sampled = rows.Select(r => r[0]).Distinct().Where((_, i) => i % 37 == 0).ToList();
        Assert.True(sampled.Count >= 5);
        foreach (var id in sampled)
        {
            var similar = await PsimRunner.RunAsync("similar", id, "--top", "5", "--in-stock", "true", "--index", fixture.Index, "--json");
            Assert.True(similar.Exit == 0, similar.Err);
            using var doc = JsonDocument.Parse(similar.Out);
            var items = doc.RootElement.GetProperty("items").EnumerateArray().ToList();
            var exported = rows.Where(r => r[0] == id).ToList();
            Assert.Equal(items.Select(i => i.GetProperty("product").GetProperty("id").GetString()), exported.Select(r => r[2]));
            Assert.Equal(items.Select(i => i.GetProperty("score").GetDouble()), exported.Select(r => double.Parse(r[3], CultureInfo.InvariantCulture)));
        }
    }

    [Theory]
    [InlineData("matrix.jsonl")]
    [InlineData("matrix.parquet")]
    public async Task Export_FormatFromExtension_OneEntryPerProduct(string name)
    {
        using var dir = new TempDir();
        var output = dir.File(name);

        var (exit, stdout, stderr) = await PsimRunner.RunAsync("export", output, "--top", "3", "--index", fixture.Index, "--json");

        Assert.True(exit == 0, stderr);
        using var summary = JsonDocument.Parse(stdout);
        var products = summary.RootElement.GetProperty("products").GetInt64();
        var rows = summary.RootElement.GetProperty("rows").GetInt64();
        Assert.Equal(products * 3, rows);
        if (name.EndsWith(".jsonl", StringComparison.Ordinal))
        {
            Assert.Equal(products, File.ReadAllLines(output).Length);
        }
        else
        {
            await using var stream = File.OpenRead(output);
            await using var reader = await Parquet.ParquetReader.CreateAsync(stream);
            Assert.Equal(rows, Enumerable.Range(0, reader.RowGroupCount).Sum(g => reader.OpenRowGroupReader(g).RowCount));
        }
    }

    [Fact]
    public async Task Export_ProcessKilledMidRun_RerunResumesToTheSameFile()
    {
        using var dir = new TempDir();
        var reference = dir.File("reference.csv");
        Assert.Equal(0, (await PsimRunner.RunAsync("export", reference, "--top", "4", "--index", fixture.Index)).Exit);
        var output = dir.File("matrix.csv");
        string[] args = ["export", output, "--top", "4", "--parallel", "1", "--chunk-size", "2", "--index", fixture.Index];

        using (var process = PsimRunner.Start(dir.Path, null, args))
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var checkpoint = SimilarityExporter.CheckpointPath(output);
            var deadline = DateTime.UtcNow.AddMinutes(3);
            while (!process.HasExited && DateTime.UtcNow < deadline && Done(checkpoint) < 10)
            {
                await Task.Delay(10);
            }

            if (process.HasExited)
            {
                Assert.Fail("export finished before it could be killed. " + await stderr);
            }

            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        Assert.False(File.Exists(output));
        Assert.True(Done(SimilarityExporter.CheckpointPath(output)) >= 10);

        var rerun = await PsimRunner.RunProcessAsync(dir.Path, null, [.. args, "--json"]);

        Assert.True(rerun.Exit == 0, rerun.Err);
        using var summary = JsonDocument.Parse(rerun.Out);
        Assert.True(summary.RootElement.GetProperty("resumedFrom").GetInt64() >= 10, rerun.Out);
        Assert.Equal(File.ReadAllText(reference), File.ReadAllText(output));
    }

    [Fact]
    public async Task Export_CheckpointOfOtherSettings_ExitsTwoNamingRestart()
    {
        using var dir = new TempDir();
        var output = dir.File("matrix.jsonl");
        await File.WriteAllTextAsync(SimilarityExporter.PartialPath(output), string.Empty);
        await File.WriteAllTextAsync(SimilarityExporter.CheckpointPath(output), """{"settings":"format=Csv; request=other","lastId":null,"done":0,"rows":0,"bytes":0}""");

        var (exit, _, stderr) = await PsimRunner.RunAsync("export", output, "--index", fixture.Index);

        Assert.Equal(2, exit);
        Assert.Contains("--restart", stderr, StringComparison.Ordinal);
        Assert.Equal(0, (await PsimRunner.RunAsync("export", output, "--restart", "--index", fixture.Index)).Exit);
        Assert.True(File.Exists(output));
    }

    private static long Done(string checkpoint)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(checkpoint));
            return doc.RootElement.GetProperty("done").GetInt64();
        }
        catch (Exception ex) when (ex is IOException or JsonException)
        {
            return 0;
        }
    }
}
