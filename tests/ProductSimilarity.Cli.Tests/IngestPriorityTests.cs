using System.Globalization;
using System.Text.RegularExpressions;

namespace ProductSimilarity.Cli.Tests;

/// <summary>
/// <c>ProductSimilarity:Ingestion:Priority</c>: <c>psim ingest</c> lowers its own CPU scheduling priority by default
/// (so a server beside it keeps its latency), and leaves it alone with <c>Normal</c>. The nice value is read back from
/// <c>/proc</c> by the ingesting process itself and logged with <c>--verbose</c>.
/// </summary>
[Collection("psim")]
public sealed partial class IngestPriorityTests
{
    [SkippableFact]
    public async Task Ingest_Default_RunsAtNiceTenOrLower()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "nice values are read from /proc");
        var (exit, err) = await IngestAsync(priority: null);

        Assert.True(exit == 0, err);
        var match = LoweredRegex().Match(err);
        Assert.True(match.Success, "no 'priority lowered' line in: " + err);
        Assert.True(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) >= 10, match.Value);
    }

    [SkippableFact]
    public async Task Ingest_PriorityNormal_LeavesThePriorityAlone()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "nice values are read from /proc");
        var (exit, err) = await IngestAsync(priority: "Normal");

        Assert.True(exit == 0, err);
        Assert.Contains("Ingestion CPU priority unchanged (Priority=Normal)", err, StringComparison.Ordinal);
        Assert.DoesNotMatch(LoweredRegex(), err);
    }

    private static async Task<(int Exit, string Err)> IngestAsync(string? priority)
    {
        using var dir = new TempDir();
        var model = TinyTokenModel.Write(dir.Path, []);
        var catalog = dir.File("catalog.csv");
        await File.WriteAllTextAsync(catalog, "id,title\nw1,compact kettle\nw2,wireless speaker\nw3,smart lamp\n");
        var env = new Dictionary<string, string>
        {
            ["ProductSimilarity__Embeddings__Onnx__ModelPath"] = model,
            ["ProductSimilarity__Embeddings__Onnx__Quantization"] = "None",
        };
        if (priority is not null)
        {
            env["ProductSimilarity__Ingestion__Priority"] = priority;
        }

        var (exit, _, err) = await PsimRunner.RunProcessAsync(dir.Path, env, "ingest", catalog, "--index", dir.File("index"), "--verbose");
        return (exit, err);
    }

    [GeneratedRegex(@"Ingestion CPU priority lowered \(nice (\d+)\)")]
    private static partial Regex LoweredRegex();
}
