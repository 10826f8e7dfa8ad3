using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Search.Local;
using static ProductSimilarity.Search.Tests.Local.LocalIndexTestData;

namespace ProductSimilarity.Search.Tests.Local;

public sealed class LocalProductIndexSearchTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new();
    private LocalProductIndex _index = null!;

    public async Task InitializeAsync()
    {
        _index = LocalProductIndex.Open(_folder.Path);
        await _index.EnsureCreatedAsync(4);
        await _index.UpsertAsync(Catalog());
        await _index.CommitAsync();
    }

    public async Task DisposeAsync()
    {
        await _index.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task SearchAsync_Vector_RanksByCosine()
    {
        var hits = await _index.SearchAsync(new ProductQuery { Vector = V(1, 0, 0, 0), Mode = RankingMode.Vector, Top = 3 });

        Assert.Equal(["a1", "a2", "g1"], hits.Select(h => h.Product.Id));
        Assert.Equal(V(1, 0.1f, 0, 0)[0], hits[0].Score, 5);
        Assert.Equal(hits[0].Score, hits[0].VectorScore);
        Assert.Equal(1, hits[0].VectorRank);
        Assert.Null(hits[0].KeywordRank);
        Assert.True(hits[0].Score >= hits[1].Score && hits[1].Score >= hits[2].Score);
    }

    [Fact]
    public async Task SearchAsync_VectorOverRandomVectors_MatchesBruteForce()
    {
        var random = new Random(42);
        await using var folder = new AsyncTempFolder();
        await using var index = LocalProductIndex.Open(folder.Path);
        var products = Enumerable.Range(0, 600)
            .Select(i => P($"r{i:D4}", $"item {i}", RandomUnit(random, 16), category: i % 3 == 0 ? "Even" : "Odd"))
            .ToList();

        // Three commits: several segments, and rewritten products whose old documents are deleted.
        await index.UpsertAsync(products.Take(300).ToList());
        await index.CommitAsync();
        await index.UpsertAsync(products.Skip(250).ToList());
        await index.CommitAsync();
        await index.DeleteAsync(["r0001", "r0500"]);
        await index.CommitAsync();
        var live = products.Where(p => p.Id is not "r0001" and not "r0500").ToList();

        for (int q = 0; q < 5; q++)
        {
            var query = RandomUnit(random, 16);
            var expected = live
                .Select(p => (p.Id, Score: Dot(p.Vector.Span, query)))
                .OrderByDescending(x => x.Score).ThenBy(x => x.Id, StringComparer.Ordinal)
                .Take(10).ToList();
            var expectedFiltered = live.Where(p => p.Product.Category == "Even")
                .Select(p => (p.Id, Score: Dot(p.Vector.Span, query)))
                .OrderByDescending(x => x.Score).ThenBy(x => x.Id, StringComparer.Ordinal)
                .Take(10).Select(x => x.Id).ToList();

            var hits = await index.SearchAsync(new ProductQuery { Vector = query, Mode = RankingMode.Vector, Top = 10 });
            var filtered = await index.SearchAsync(new ProductQuery
            {
                Vector = query,
                Mode = RankingMode.Vector,
                Top = 10,
                Filter = new ProductFilter { Category = "even" },
            });

            Assert.Equal(expected.Select(x => x.Id), hits.Select(h => h.Product.Id));
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].Score, hits[i].Score, 5);
            }

            Assert.Equal(expectedFiltered, filtered.Select(h => h.Product.Id));
        }
    }

    [Fact]
    public async Task SearchAsync_KeywordTitle_FindsProduct()
    {
        var hits = await _index.SearchAsync(new ProductQuery { Text = "Bose QuietComfort headphones", Mode = RankingMode.Keyword });

        Assert.Equal("a3", hits[0].Product.Id);
        Assert.Equal(hits[0].Score, hits[0].KeywordScore);
        Assert.Equal(1, hits[0].KeywordRank);
        Assert.Null(hits[0].VectorRank);
    }

    [Fact]
    public async Task SearchAsync_TitleFromOtherSource_FindsSameProductFirst()
    {
        var hits = await _index.SearchAsync(new ProductQuery
        {
            Text = "Sony WH-1000XM4 Wireless Noise Cancelling Headphones",
            Mode = RankingMode.Keyword,
            Filter = new ProductFilter { ExcludeSource = "amazon" },
        });

        Assert.Equal("g1", hits[0].Product.Id);
    }

    [Theory]
    [InlineData("WH1000XM4")]
    [InlineData("wh-1000xm4")]
    [InlineData("ps4")]
    public async Task SearchAsync_KeywordModelNumber_FindsProduct(string text)
    {
        var hits = await _index.SearchAsync(new ProductQuery { Text = text, Mode = RankingMode.Keyword });

        Assert.NotEmpty(hits);
        Assert.All(hits, h => Assert.Contains(h.Product.Id, (string[])["a1", "a2", "g1", "a4"]));
        if (text == "ps4")
        {
            Assert.Equal("a4", Assert.Single(hits).Product.Id);
        }
        else
        {
            Assert.Equal(3, hits.Count);
        }
    }

    [Fact]
    public async Task SearchAsync_ChineseQuery_FindsChineseTitle()
    {
        var hits = await _index.SearchAsync(new ProductQuery { Text = "蓝牙耳机", Mode = RankingMode.Keyword });

        Assert.Equal("c1", Assert.Single(hits).Product.Id);
    }

    [Fact]
    public async Task SearchAsync_FullWidthQuery_MatchesHalfWidthTitle()
    {
        var hits = await _index.SearchAsync(new ProductQuery { Text = "ＰＳ４", Mode = RankingMode.Keyword });

        Assert.Equal("a4", hits[0].Product.Id);
    }

    [Fact]
    public async Task SearchAsync_Hybrid_FusesBothLists()
    {
        // Vector side prefers the USB cable (0,1,0,0); keyword side finds only the Huawei watch.
        var hits = await _index.SearchAsync(new ProductQuery
        {
            Text = "华为 智能手表",
            Vector = V(0, 1, 0, 0),
            Mode = RankingMode.Hybrid,
            Fusion = new FusionOptions { Method = FusionMethod.Rrf, RrfK = 60, CandidateCount = 3 },
            Top = 2,
        });

        // Both are rank 1 in their list, so both score 1/61; the tie goes to the smaller id.
        Assert.Equal(["c2", "n1"], hits.Select(h => h.Product.Id));
        var watch = hits[0];
        var cable = hits[1];
        Assert.Equal(1, watch.KeywordRank);
        Assert.Null(watch.VectorRank);
        Assert.Equal(1, cable.VectorRank);
        Assert.Null(cable.KeywordRank);
        Assert.Equal(1.0 / 61, cable.Score, 12);
        Assert.Equal(1.0 / 61, watch.Score, 12);
    }

    [Fact]
    public async Task SearchAsync_HybridWeighted_KeywordMatchLiftsProduct()
    {
        var query = new ProductQuery
        {
            Text = "Bose",
            Vector = V(1, 0, 0, 0),
            Fusion = new FusionOptions { Method = FusionMethod.Weighted, VectorWeight = 0.5 },
            Top = 3,
        };

        var vectorOnly = await _index.SearchAsync(query with { Mode = RankingMode.Vector });
        var hybrid = await _index.SearchAsync(query);

        Assert.DoesNotContain(vectorOnly, h => h.Product.Id == "a3");
        Assert.Equal("a3", hybrid[0].Product.Id);
        Assert.Equal(0.5 * hybrid[0].VectorScore!.Value + 0.5, hybrid[0].Score, 9);
    }

    public static TheoryData<RankingMode> Modes => [RankingMode.Vector, RankingMode.Keyword, RankingMode.Hybrid];

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task SearchAsync_CategoryFilter_CaseInsensitiveExact(RankingMode mode)
        => Assert.Equal(["a1", "a2", "a3", "g1"], await Ids(mode, new ProductFilter { Category = "AUDIO" }));

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task SearchAsync_BrandFilter_CaseInsensitiveExact(RankingMode mode)
        => Assert.Equal(["a1", "a2", "a4", "g1"], await Ids(mode, new ProductFilter { Brand = "sony" }));

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task SearchAsync_PriceFilter_InclusiveAndMissingPriceFails(RankingMode mode)
    {
        Assert.Equal(["a1", "a2", "a4", "g1"], await Ids(mode, new ProductFilter { MinPrice = 265m, MaxPrice = 299.99m }));
        Assert.Equal(["c1"], await Ids(mode, new ProductFilter { MaxPrice = 99m }));
        Assert.Equal(["a3", "c2"], await Ids(mode, new ProductFilter { MinPrice = 300m }));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task SearchAsync_InStockFilter_MatchesFlag(RankingMode mode)
    {
        Assert.Equal(["a2", "c2"], await Ids(mode, new ProductFilter { InStock = false }));
        Assert.Equal(["a1", "a3", "a4", "c1", "g1"], await Ids(mode, new ProductFilter { InStock = true }));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task SearchAsync_SourceFilters_IncludeAndExclude(RankingMode mode)
    {
        Assert.Equal(["c1", "c2"], await Ids(mode, new ProductFilter { Source = "jd" }));
        Assert.Equal(["c1", "c2", "g1"], await Ids(mode, new ProductFilter { ExcludeSource = "amazon" }));
        Assert.Equal(["c1"], await Ids(mode, new ProductFilter { Source = "jd", InStock = true, Category = "音频" }));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task SearchAsync_ExcludeIdsAndGroups_LeavesThemOut(RankingMode mode)
    {
        Assert.Equal(["a1", "a3", "c1", "c2", "g1", "n1"], await Ids(mode, new ProductFilter(), excludeIds: ["a2", "a4"]));
        Assert.Equal(["a3", "a4", "c1", "c2", "g1", "n1"], await Ids(mode, new ProductFilter(), excludeGroups: ["g-sony"]));
    }

    [Theory]
    [InlineData("\"sony unbalanced quote")]
    [InlineData("sony AND (bose OR")]
    [InlineData("title:x brand:y")]
    [InlineData("*?~^[]{}\\/!+-&&||")]
    [InlineData("   ")]
    [InlineData("")]
    public async Task SearchAsync_SpecialCharactersInText_DoesNotThrow(string text)
    {
        var hits = await _index.SearchAsync(new ProductQuery { Text = text, Mode = RankingMode.Keyword });

        if (text.Contains("sony", StringComparison.Ordinal))
        {
            Assert.NotEmpty(hits);
        }
        else
        {
            Assert.Empty(hits);
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task SearchAsync_TopLargerThanIndex_ReturnsWhatMatches(RankingMode mode)
    {
        var hits = await _index.SearchAsync(new ProductQuery { Text = "sony", Vector = V(1, 1, 1, 1), Mode = mode, Top = int.MaxValue });

        Assert.Equal(mode == RankingMode.Keyword ? 4 : Catalog().Count, hits.Count);
        Assert.Empty(await _index.SearchAsync(new ProductQuery { Text = "sony", Vector = V(1, 1, 1, 1), Mode = mode, Top = 0 }));
    }

    [Fact]
    public async Task SearchAsync_KeywordWithoutText_NoHits()
        => Assert.Empty(await _index.SearchAsync(new ProductQuery { Vector = V(1, 0, 0, 0), Mode = RankingMode.Keyword }));

    [Fact]
    public async Task SearchAsync_VectorModeWithoutVector_Throws()
        => await Assert.ThrowsAsync<ArgumentException>(() => _index.SearchAsync(new ProductQuery { Text = "sony", Mode = RankingMode.Vector }));

    [Fact]
    public async Task SearchAsync_ConcurrentQueries_AllSucceed()
    {
        var queries = Enumerable.Range(0, 32).Select(i => Task.Run(() => _index.SearchAsync(new ProductQuery
        {
            Text = i % 2 == 0 ? "sony headphones" : "蓝牙耳机",
            Vector = V(1, i % 3, 0, 0),
        })));

        var results = await Task.WhenAll(queries);

        Assert.All(results, r => Assert.NotEmpty(r));
    }

    // Ids that pass the filter, sorted. A text and a vector that between them match every product.
    private async Task<string[]> Ids(RankingMode mode, ProductFilter filter, HashSet<string>? excludeIds = null, HashSet<string>? excludeGroups = null)
    {
        var hits = await _index.SearchAsync(new ProductQuery
        {
            Text = "sony headphones bose 小米 无线蓝牙耳机 华为 智能手表 generic usb cable playstation",
            Vector = V(0.5f, 0.5f, 0.5f, 0.5f),
            Mode = mode,
            Filter = filter,
            Top = 100,
            ExcludeIds = excludeIds ?? [],
            ExcludeGroupIds = excludeGroups ?? [],
        });
        return [.. hits.Select(h => h.Product.Id).Order(StringComparer.Ordinal)];
    }

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += (double)a[i] * b[i];
        }

        return sum;
    }

    private sealed class AsyncTempFolder : IAsyncDisposable
    {
        private readonly TempFolder _inner = new();

        public string Path => _inner.Path;

        public ValueTask DisposeAsync()
        {
            _inner.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
