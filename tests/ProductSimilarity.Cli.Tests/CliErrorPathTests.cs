namespace ProductSimilarity.Cli.Tests;

/// <summary>
/// The one error path of psim, driven through the real entry point (a psim process): whatever fails, the user gets
/// one line on stderr and exit 1 (2 for usage), never a stack trace; <c>--verbose</c> adds the stack.
/// </summary>
[Collection("psim")]
public sealed class CliErrorPathTests
{
    [Fact]
    public async Task Bench_AllRowsRejected_OneLineExitOne()
    {
        using var dir = new TempDir();
        var catalog = dir.File("all-bad.csv");
        await File.WriteAllTextAsync(catalog, "id,title,price\n,No id here,1.00\n,Nor here,2.00\n");

        var (exit, _, stderr) = await PsimRunner.RunProcessAsync(dir.Path, null, "bench", "--catalog", catalog, "--queries", "5");

        Assert.Equal(1, exit);
        var line = AssertOneErrorLine(stderr);
        Assert.Contains("2 row(s) rejected", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingest_MissingModelFile_OneLineNamingThePath()
    {
        using var dir = new TempDir();
        var catalog = dir.File("catalog.csv");
        await File.WriteAllTextAsync(catalog, "id,title\nA1,Stainless steel chef knife\n");
        var model = dir.File("missing-model.onnx");
        var environment = new Dictionary<string, string>
        {
            ["ProductSimilarity__Embeddings__Onnx__ModelPath"] = model,
            ["ProductSimilarity__Embeddings__Onnx__VocabPath"] = dir.File("missing-vocab.txt"),
        };

        var (exit, _, stderr) = await PsimRunner.RunProcessAsync(dir.Path, environment, "ingest", catalog, "--index", dir.File("index"));

        Assert.InRange(exit, 1, 2);
        var line = AssertOneErrorLine(stderr);
        Assert.Contains("missing-", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Similar_UnreachableAzureSearch_OneLineExitOne()
    {
        using var dir = new TempDir();
        var environment = UnreachableSearch();

        var (exit, _, stderr) = await PsimRunner.RunProcessAsync(dir.Path, environment, "similar", "P1");

        Assert.Equal(1, exit);
        var line = AssertOneErrorLine(stderr);
        Assert.Contains("127.0.0.1", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Similar_UnreachableAzureSearchVerbose_AddsTheStack()
    {
        using var dir = new TempDir();

        var (exit, _, stderr) = await PsimRunner.RunProcessAsync(dir.Path, UnreachableSearch(), "similar", "P1", "--verbose");

        Assert.Equal(1, exit);
        Assert.StartsWith("error: ", ErrorLines(stderr)[0], StringComparison.Ordinal);
        Assert.Contains("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_WrappedException_NamesTheCauseOnOneLine()
    {
        var ex = new AggregateException(new InvalidDataException("first line\nsecond line", new IOException("disk gone")));

        var (message, exit) = CliErrors.Describe(ex);

        Assert.Equal(1, exit);
        Assert.Equal("error: first line second line (disk gone)", message);
    }

    [Fact]
    public void Describe_CliException_KeepsItsExitCode()
    {
        var (message, exit) = CliErrors.Describe(new CliException("bad flag", ExitCodes.Usage));

        Assert.Equal(2, exit);
        Assert.Equal("error: bad flag", message);
    }

    [Fact]
    public void Describe_SameFailureOnEveryRetry_SaysItOnceWithTheCount()
    {
        var tries = Enumerable.Range(0, 3).Select(_ => new IOException("Connection refused (127.0.0.1:1)")).ToArray();

        var (message, exit) = CliErrors.Describe(new AggregateException("Retry failed after 3 tries.", tries));

        Assert.Equal(1, exit);
        Assert.Equal("error: Connection refused (127.0.0.1:1) (failed 3 times)", message);
    }

    private static Dictionary<string, string> UnreachableSearch() => new()
    {
        ["ProductSimilarity__Index__Provider"] = "AzureAISearch",
        // Port 1 on loopback: nothing listens, so the connection is refused at once.
        ["ProductSimilarity__Index__AzureAISearch__Endpoint"] = "https://127.0.0.1:1",
        ["ProductSimilarity__Index__AzureAISearch__ApiKey"] = "test-key",
    };

    private static string[] ErrorLines(string stderr) =>
        stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.StartsWith("warn:", StringComparison.Ordinal) && !l.StartsWith("info:", StringComparison.Ordinal))
            .ToArray();

    private static string AssertOneErrorLine(string stderr)
    {
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", stderr, StringComparison.Ordinal);
        var errors = ErrorLines(stderr).Where(l => l.StartsWith("error: ", StringComparison.Ordinal)).ToArray();
        var line = Assert.Single(errors);
        Assert.True(line.Length > "error: ".Length + 10, $"the error line says too little: '{line}'");
        return line;
    }
}
