using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Text;
using ProductSimilarity.Search.Local;
using static ProductSimilarity.Search.Tests.Local.LocalIndexTestData;

namespace ProductSimilarity.Search.Tests.Local;

/// <summary>The Core's text rules (codes, near codes, units, Traditional Chinese) as the embedded index applies them to
/// its documents and its queries.</summary>
public sealed class LocalProductIndexTextRulesTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new();
    private LocalProductIndex _index = null!;

    public async Task InitializeAsync()
    {
        _index = LocalProductIndex.Open(_folder.Path);
        await _index.EnsureCreatedAsync(4);
        await _index.UpsertAsync(
        [
            P("exact", "Panasonic KX-TG9332 cordless phone", V(1, 0, 0, 0)),
            P("near", "Panasonic KX-TG9332S cordless phone", V(1, 0, 0, 0)),
            P("other", "Panasonic KX-TG6000 cordless phone", V(1, 0, 0, 0)),
            P("blk", "Sony SRSA212/BLK speaker", V(0, 1, 0, 0)),
            P("xb13", "Sony SRS-XB13 speaker", V(0, 1, 0, 0)),
            P("pot", "苏泊尔 不粘炒锅 28厘米", V(0, 0, 1, 0)),
            P("pot30", "苏泊尔 不粘炒锅 30 cm", V(0, 0, 1, 0)),
            P("hk", "無線藍牙耳機 降噪", V(0, 0, 0, 1)),
        ]);
        await _index.CommitAsync();
    }

    public async Task DisposeAsync()
    {
        await _index.DisposeAsync();
        _folder.Dispose();
    }

    private Task<IReadOnlyList<SearchHit>> Keyword(string text) =>
        _index.SearchAsync(new ProductQuery { Text = TextNormalizer.Default.ForKeywords(text), Mode = RankingMode.Keyword, Top = 5 });

    [Fact]
    public async Task SearchAsync_CodeWrittenDifferently_ExactAboveNearAboveNone()
    {
        var hits = await Keyword("Panasonic KX-TG9332 cordless phone");

        Assert.Equal(["exact", "near", "other"], hits.Take(3).Select(h => h.Product.Id));
        Assert.True(hits[0].KeywordScore > hits[1].KeywordScore);
        Assert.True(hits[1].KeywordScore > hits[2].KeywordScore);
    }

    [Fact]
    public async Task SearchAsync_CodeWithOtherColourSuffix_FindsNearCode()
    {
        var hits = await Keyword("Sony SRSA212BK speaker");

        Assert.Equal(["blk", "xb13"], hits.Take(2).Select(h => h.Product.Id));
    }

    [Fact]
    public async Task SearchAsync_UnitWrittenInChinese_MatchesLatinUnit()
    {
        var hits = await Keyword("28 cm 炒锅");

        Assert.Equal("pot", hits[0].Product.Id);
        Assert.True(hits[0].KeywordScore > hits[1].KeywordScore);
    }

    [Fact]
    public async Task SearchAsync_SimplifiedQuery_FindsTraditionalTitle()
    {
        var hits = await Keyword("无线蓝牙耳机");

        Assert.Equal("hk", hits[0].Product.Id);
    }

    [Fact]
    public async Task GetAsync_TraditionalTitle_StoredAsWritten()
    {
        Assert.Equal("無線藍牙耳機 降噪", (await _index.GetAsync("hk"))!.Product.Title);
    }

    [Fact]
    public async Task SearchAsync_ConfiguredBoilerplate_LeftOutOfIndexedText()
    {
        // "clearance" is not in the default list: an index built with a configured list must not index it, and a query
        // normalised with the same rules must not ask for it.
        var rules = TextNormalizer.For(new TextCleaningOptions { Boilerplate = ["clearance"] });
        using var configuredFolder = new TempFolder();
        using var defaultFolder = new TempFolder();
        await using var configured = LocalProductIndex.Open(configuredFolder.Path, options: new LocalProductIndexOptions { Text = rules });
        await using var byDefault = LocalProductIndex.Open(defaultFolder.Path);
        foreach (var index in new[] { configured, byDefault })
        {
            await index.EnsureCreatedAsync(4);
            await index.UpsertAsync([P("kettle", "clearance steel kettle", V(1, 0, 0, 0)), P("scarf", "wool scarf", V(0, 1, 0, 0))]);
            await index.CommitAsync();
        }

        var query = new ProductQuery { Text = "clearance", Mode = RankingMode.Keyword, Top = 5 };

        Assert.Empty(await configured.SearchAsync(query));
        Assert.Equal("kettle", (await byDefault.SearchAsync(query))[0].Product.Id);
        Assert.Equal("steel kettle", rules.ForKeywords("clearance steel kettle"));
        Assert.Equal("clearance steel kettle", (await configured.GetAsync("kettle"))!.Product.Title);
    }
}
