using System.Globalization;
using System.Text.Json;
using ProductSimilarity.Cli.Commands;
using ProductSimilarity.Core.Similarity;

namespace ProductSimilarity.Cli.Tests;

[Collection("psim")]
public sealed class RecommendCommandTests
{
    private const string Catalog = """
        id,title,brand,category,price,in_stock,units_sold
        E1,Wireless Noise Cancelling Earbuds,Sonic,Electronics > Audio,79.00,true,500
        E2,Bluetooth Earphones with ANC,Auris,Electronics > Audio,59.00,true,120
        E3,Over-Ear Studio Headphones,Sonic,Electronics > Audio,99.00,true,
        K1,Chef's Knife 20 cm Stainless Steel,Blade,Home & Kitchen > Cookware,35.00,true,900
        K2,Japanese Santoku Kitchen Knife,Kiru,Home & Kitchen > Cookware,45.00,true,80
        K3,Paring Knife 9 cm Stainless Steel,Blade,Home & Kitchen > Cookware,19.00,true,
        """;

    [Theory]
    [InlineData("K1", "K1", InteractionKind.View, null)]
    [InlineData("K1:cart", "K1", InteractionKind.Cart, null)]
    [InlineData("K1:purchase@2026-11-20T10:00Z", "K1", InteractionKind.Purchase, "2026-11-20T10:00:00+00:00")]
    [InlineData("K1@2026-11-20T10:00:00+01:00", "K1", InteractionKind.View, "2026-11-20T10:00:00+01:00")]
    [InlineData("shop:K1:not_interested", "shop:K1", InteractionKind.NotInterested, null)]
    [InlineData("user@example:view", "user@example", InteractionKind.View, null)]
    public void Parse_IdEventAndTime_Split(string text, string id, InteractionKind kind, string? at)
    {
        var e = RecommendCommand.Parse(text);

        Assert.Equal(id, e.Id);
        Assert.Equal(kind, e.Event);
        Assert.Equal(at is null ? null : DateTimeOffset.Parse(at, CultureInfo.InvariantCulture), e.At);
    }

    [Fact]
    public void Parse_BadTime_UsageErrorSaysTheFormat()
    {
        var ex = Assert.Throws<CliException>(() => RecommendCommand.Parse("K1:view@2026-13-45T99:00Z"));

        Assert.Equal(ExitCodes.Usage, ex.ExitCode);
        Assert.Contains("ISO 8601", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadHistoryFileAsync_GoodAndBadLines_BadLineNamesFileLineAndField()
    {
        using var dir = new TempDir();
        var good = dir.File("history.jsonl");
        await File.WriteAllTextAsync(good, """
            {"id":"K1","event":"purchase","at":"2026-11-20T10:00Z"}

            {"id":"new-1","category":"Knives"}
            """);
        var bad = dir.File("bad.jsonl");
        await File.WriteAllTextAsync(bad, "{\"id\":\"K1\"}\n{\"id\":\"K2\",\"event\":\"wish\"}\n");

        var events = await RecommendCommand.ReadHistoryFileAsync(new FileInfo(good), default);
        var ex = await Assert.ThrowsAsync<CliException>(() => RecommendCommand.ReadHistoryFileAsync(new FileInfo(bad), default));

        Assert.Equal(
            [new HistoryEvent("K1", InteractionKind.Purchase, new DateTimeOffset(2026, 11, 20, 10, 0, 0, TimeSpan.Zero)), new HistoryEvent("new-1", InteractionKind.View, null, "Knives")],
            events);
        Assert.StartsWith("bad.jsonl:2: field 'event'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Recommend_HistoryOverConfiguredLimit_UsageErrorNamesTheSetting()
    {
        using var dir = new TempDir();
        var config = dir.File("psim.json");
        await File.WriteAllTextAsync(config, """{"ProductSimilarity":{"Limits":{"MaxHistory":2}}}""");
        var historyFile = dir.File("history.jsonl");
        await File.WriteAllTextAsync(historyFile, "{\"id\":\"K1\"}\n{\"id\":\"K2\"}\n{\"id\":\"K3\"}\n");

        var (argsExit, _, argsError) = await PsimRunner.RunAsync("recommend", "K1", "K2", "K3", "--config", config, "--index", dir.File("idx"));
        var (fileExit, _, fileError) = await PsimRunner.RunAsync("recommend", "--history", historyFile, "--config", config, "--index", dir.File("idx"));

        Assert.Equal(ExitCodes.Usage, argsExit);
        Assert.Contains("at most 2 history events", argsError, StringComparison.Ordinal);
        Assert.Contains("ProductSimilarity:Limits:MaxHistory", argsError, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, fileExit);
        Assert.Contains("history.jsonl: at most 2 history events", fileError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Recommend_RealTimestampsAndColdStart_EndToEnd()
    {
        using var dir = new TempDir();
        var catalog = dir.File("shop.csv");
        await File.WriteAllTextAsync(catalog, Catalog);
        var index = dir.File("index");
        Assert.Equal(0, (await PsimRunner.RunAsync("ingest", catalog, "--index", index)).Exit);
        var now = DateTimeOffset.UtcNow;
        string At(TimeSpan ago) => (now - ago).ToString("yyyy-MM-ddTHH:mmK", CultureInfo.InvariantCulture);

        var knifeRecent = await RunJsonAsync("recommend", $"E1:view@{At(TimeSpan.FromDays(60))}", $"K1:view@{At(TimeSpan.FromMinutes(5))}", "--index", index, "--json", "--top", "2");
        var earbudsRecent = await RunJsonAsync("recommend", $"E1:view@{At(TimeSpan.FromMinutes(5))}", $"K1:view@{At(TimeSpan.FromDays(60))}", "--index", index, "--json", "--top", "2");
        var history = dir.File("history.jsonl");
        await File.WriteAllTextAsync(history, "{\"id\":\"ghost\",\"event\":\"view\"}\n");
        var coldStart = await RunJsonAsync("recommend", "--history", history, "--index", index, "--json", "--top", "3");

        Assert.All(Ids(knifeRecent), id => Assert.StartsWith("K", id, StringComparison.Ordinal));
        Assert.All(Ids(earbudsRecent), id => Assert.StartsWith("E", id, StringComparison.Ordinal));
        Assert.False(knifeRecent.TryGetProperty("fallback", out _)); // the history alone filled the list
        Assert.Equal(["K1", "E1", "E2"], Ids(coldStart));
        Assert.Equal("popular", coldStart.GetProperty("fallback").GetString());
    }

    private static async Task<JsonElement> RunJsonAsync(params string[] args)
    {
        var (exit, stdout, stderr) = await PsimRunner.RunAsync(args);
        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        return doc.RootElement.Clone();
    }

    private static List<string?> Ids(JsonElement result) =>
        [.. result.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("product").GetProperty("id").GetString())];
}
