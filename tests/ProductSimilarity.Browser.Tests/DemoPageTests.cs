using Microsoft.Playwright;

namespace ProductSimilarity.Browser.Tests;

/// <summary>
/// The demo page in a real browser: Playwright drives the system Chromium (Debian's <c>chromium</c> package; no
/// browser download) against <c>psim serve</c> with the sample catalog. Skipped, with the reason, where no Chromium
/// is installed (<c>./test.sh</c> installs it with apt-get where it can).
/// </summary>
[Collection(PsimServeCollection.Name)]
public sealed class DemoPageTests(PsimServeFixture server) : IAsyncLifetime
{
    private static readonly string[] ChromiumArgs = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"];
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>Where the browser tests leave their screenshots: <c>PSIM_BROWSER_ARTIFACTS</c>, or <c>TestResults/browser</c>.</summary>
    public static string ArtifactsFolder { get; } = Environment.GetEnvironmentVariable("PSIM_BROWSER_ARTIFACTS") is { Length: > 0 } folder
        ? folder
        : Path.Combine(PsimServeFixture.RepositoryRoot, "TestResults", "browser");

    public static string? Chromium { get; } = FindChromium();

    public async Task InitializeAsync()
    {
        if (Chromium is null)
        {
            return;
        }

        Assertions.SetDefaultExpectTimeout(30_000); // the first map and search on a cold server load the model
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ChromiumArgs,
        });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }

    [SkippableFact]
    public async Task DemoPage_SearchSimilarHistoryAndMap_RenderAndReact()
    {
        var page = await NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        page.Console += (_, m) =>
        {
            if (m.Type == "error")
            {
                errors.Add($"{m.Text} ({m.Location})");
            }
        };

        await page.GotoAsync(server.BaseAddress.ToString());
        await Expect(page.GetByTestId("health")).ToContainTextAsync("240 products");
        await Expect(page.Locator("a#openapi-link")).ToHaveAttributeAsync("href", "openapi.json");

        // The map: one point per product, coloured by category, with hover titles.
        var points = page.Locator("#map svg circle");
        await Expect(points).ToHaveCountAsync(240);
        Assert.Contains("Electronics > Audio", await page.Locator("#legend").InnerTextAsync(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(await points.First.Locator("title").TextContentAsync()));
        var fills = await page.Locator("#map svg circle").EvaluateAllAsync<string[]>("cs => [...new Set(cs.map(c => c.getAttribute('fill')))]");
        Assert.True(fills.Length >= 10, $"expected a colour per category, got {fills.Length}");

        // Search.
        await page.Locator("#q").FillAsync("noise cancelling earbuds");
        await page.Locator("#q").PressAsync("Enter");
        var cards = page.Locator("#results .card");
        await Expect(cards.First).ToBeVisibleAsync();
        Assert.InRange(await cards.CountAsync(), 3, 12);
        Assert.Contains("arbuds", await cards.First.Locator(".title").InnerTextAsync(), StringComparison.OrdinalIgnoreCase);

        // Open a product: similar items with score bars, shared terms and matching attributes.
        await cards.First.Locator("button[data-action=similar]").ClickAsync();
        var similar = page.Locator("#similar > li");
        await Expect(similar.First).ToBeVisibleAsync();
        Assert.InRange(await similar.CountAsync(), 3, 8);
        await Expect(similar.First.Locator(".bar")).ToHaveCountAsync(3);
        var vectorWidth = await similar.First.Locator(".bar.vector .fill").EvaluateAsync<string>("e => e.style.width");
        Assert.NotEqual("0.0%", vectorWidth);
        Assert.True(await page.Locator("#similar mark").CountAsync() > 0, "shared terms are highlighted in the titles");
        Assert.True(await page.Locator("#similar .chip.attr").CountAsync() > 0, "matching attributes are shown");
        await Expect(page.Locator("#map circle.selected")).ToHaveCountAsync(1);

        // Build a history: each click changes the recommendations, and each recommendation says what drove it.
        var recs = page.Locator("#recs > li[data-id]");
        await cards.First.Locator("button[data-action=view]").ClickAsync();
        await Expect(recs.First).ToBeVisibleAsync();
        var afterView = await RecommendationIdsAsync(page);
        Assert.NotEmpty(afterView);
        await Expect(page.Locator("#recs .because").First).ToContainTextAsync("Because of");

        await page.Locator("#q").FillAsync("电饭煲");
        await page.Locator("#q").PressAsync("Enter");
        await Expect(cards.First).ToContainTextAsync("电饭煲");
        await cards.First.Locator("button[data-action=cart]").ClickAsync();
        await Expect(page.Locator("#history li")).ToHaveCountAsync(2);
        await page.WaitForFunctionAsync(
            "before => { const ids = [...document.querySelectorAll('#recs > li[data-id]')].map(li => li.dataset.id).join(','); return ids.length > 0 && ids !== before; }",
            string.Join(',', afterView));
        var afterCart = await RecommendationIdsAsync(page);
        Assert.NotEqual(afterView, afterCart);

        // "Not interested" removes a recommendation.
        var dropped = afterCart[0];
        await page.Locator($"#recs > li[data-id='{dropped}'] button[data-action=exclude]").ClickAsync();
        await page.WaitForFunctionAsync(
            "id => { const ids = [...document.querySelectorAll('#recs > li[data-id]')].map(li => li.dataset.id); return ids.length > 0 && !ids.includes(id); }",
            dropped);

        await page.Locator("#q").FillAsync("noise cancelling earbuds");
        await page.Locator("#q").PressAsync("Enter");
        await Expect(cards.First).ToContainTextAsync("arbuds");
        Directory.CreateDirectory(ArtifactsFolder);
        var screenshot = Path.Combine(ArtifactsFolder, "demo.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        Assert.True(new FileInfo(screenshot).Length > 10_000);
        Assert.Empty(errors);
    }

    [SkippableFact]
    public async Task DemoPage_ChineseSearchWithFilters_ShowsOnlyMatchingProducts()
    {
        var page = await NewPageAsync();
        await page.GotoAsync(server.BaseAddress.ToString());
        await Expect(page.Locator("#f-category option")).ToHaveCountAsync(13); // "all" and the 12 sample categories
        await page.Locator("#f-category").SelectOptionAsync("Electronics > Audio");
        await page.Locator("#f-stock").SelectOptionAsync("true");
        await page.Locator("#q").FillAsync("蓝牙耳机 降噪");
        await page.Locator("#q").PressAsync("Enter");

        var cards = page.Locator("#results .card");
        await Expect(cards.First).ToBeVisibleAsync();
        var categories = await page.Locator("#results .card .info").AllInnerTextsAsync();
        Assert.All(categories, c => Assert.EndsWith("Electronics > Audio", c.Trim(), StringComparison.Ordinal));
        Assert.Equal(0, await page.Locator("#results .stock.out").CountAsync());
        Assert.Contains("耳机", await cards.First.Locator(".title").InnerTextAsync(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task DemoPage_FewMatchFilters_FillsWithRelaxedItemsThatSaySo()
    {
        var page = await NewPageAsync();
        await page.GotoAsync(server.BaseAddress.ToString());
        await Expect(page.Locator("#f-category option")).ToHaveCountAsync(13);
        await page.Locator("#f-category").SelectOptionAsync("Electronics > Audio");
        await page.Locator("#f-max").FillAsync("100");
        await page.Locator("#q").FillAsync("noise cancelling earbuds");
        await page.Locator("#q").PressAsync("Enter");

        // Three audio products cost at most 100; the fallback relaxes the price (not the category) to fill the 12 places.
        var cards = page.Locator("#results .card");
        await Expect(cards).ToHaveCountAsync(12);
        var relaxed = page.Locator("#results .card [data-testid=relaxed]");
        Assert.Equal(9, await relaxed.CountAsync());
        Assert.All(await relaxed.AllInnerTextsAsync(), t => Assert.Equal("relaxed: price", t.Trim()));
        Assert.Equal(0, await cards.Nth(0).Locator("[data-testid=relaxed]").CountAsync());
        Assert.All(await page.Locator("#results .card .info").AllInnerTextsAsync(), c => Assert.EndsWith("Electronics > Audio", c.Trim(), StringComparison.Ordinal));

        // Without the fallback only the three remain.
        await page.Locator("#f-fallback").UncheckAsync();
        await Expect(cards).ToHaveCountAsync(3);
        Assert.Equal(0, await page.Locator("#results .card [data-testid=relaxed]").CountAsync());
    }

    private async Task<IPage> NewPageAsync()
    {
        Skip.If(Chromium is null, "Chromium was not found (apt-get install chromium, or set PSIM_CHROMIUM); the browser tests are skipped.");
        var context = await _browser!.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1440, Height = 1000 } });
        context.SetDefaultTimeout(30_000);
        return await context.NewPageAsync();
    }

    private static async Task<string[]> RecommendationIdsAsync(IPage page) =>
        await page.Locator("#recs > li[data-id]").EvaluateAllAsync<string[]>("lis => lis.map(li => li.dataset.id)");

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    private static string? FindChromium()
    {
        if (Environment.GetEnvironmentVariable("PSIM_CHROMIUM") is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? configured : null;
        }

        return new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);
    }
}
