using System.Runtime.CompilerServices;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Store;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Search.Local;
using static ProductSimilarity.Search.Tests.Local.LocalIndexTestData;

namespace ProductSimilarity.Search.Tests.Local;

/// <summary>
/// The in-memory keyword scorer against Lucene's <see cref="IndexSearcher.Search(Query, Filter, int)"/>, the reference:
/// random small catalogs written in several commits (several segments, updates, deletes), random clause lists (boosts
/// of 0, absent and repeated terms, codes) and random filters; the same doc ids in the same order with bit-equal scores.
/// </summary>
public sealed class MemoryKeywordScorerTests
{
    private const int Dimensions = 4;

    // A skewed vocabulary: the first words are in most products (tiny idf), the last in few.
    private static readonly string[] Words =
    [
        "wireless", "black", "pro", "usb", "cable", "headphones", "charger", "cases", "phone", "mini", "red", "blue",
        "steel", "bottle", "lamp", "desk", "led", "battery", "pack", "mouse", "keyboard", "stand", "cancelling", "editing",
    ];

    private static readonly string[] Codes = ["WH-1000XM4", "SRSA212/BLK", "SRSA212BK", "MX500", "A1234-EU", "RX100M7", "PS4"];
    private static readonly string[] Brands = ["Sony", "Anker", "Logitech Pro", "Acme Black", "Zeiss"];
    private static readonly string[] Categories = ["Audio", "Cables and Chargers", "Home Lamp", "Computer Mouse", "Sports Bottle"];
    private static readonly string[] Sources = ["shop-a", "shop-b", "shop-c"];
    private static readonly float[] BoostChoices = [0f, 0.2f, 0.3f, 0.5f, 1f, 1.7f, 3f];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public async Task Search_RandomCatalogAcrossCommitsUpdatesAndDeletes_EqualsIndexSearcher(int seed)
    {
        var random = new Random(seed);
        using var folder = new TempFolder();
        await using var writer = LocalProductIndex.Open(folder.Path);
        var options = RandomOptions(random);
        var firstProduct = RandomProduct(random, "first");
        await writer.UpsertAsync([firstProduct]);
        await writer.CommitAsync();
        await using var lucene = LocalProductIndex.Open(folder.Path, readOnly: true, options with { KeywordScorer = KeywordScorerKind.Lucene });
        await using var memory = LocalProductIndex.Open(folder.Path, readOnly: true, options with { KeywordScorer = KeywordScorerKind.Memory });

        // Warmed, as a server is: the filter and exclusions are read from the segments' columns in memory, and products are
        // found by id in memory too.
        await using var warmed = LocalProductIndex.Open(folder.Path, readOnly: true, options with { KeywordScorer = KeywordScorerKind.Memory });
        var deleted = new List<string>();
        var postings = new ConditionalWeakTable<object, SegmentPostings>();
        var catalog = new Dictionary<string, IndexedProduct>(StringComparer.Ordinal);
        catalog["first"] = firstProduct;
        DirectoryReader? reader = null;
        using var directory = FSDirectory.Open(new DirectoryInfo(folder.Path));
        try
        {
            int next = 0;
            for (int round = 0; round < 5; round++)
            {
                // New products, rewritten ones (their old documents are deleted) and, from the third round, deletes.
                var batch = new List<IndexedProduct>();
                for (int i = random.Next(15, 70); i > 0; i--)
                {
                    batch.Add(RandomProduct(random, $"p{next++:D4}"));
                }

                foreach (var id in catalog.Keys.Where(_ => random.Next(6) == 0).ToList())
                {
                    batch.Add(RandomProduct(random, id));
                }

                await writer.UpsertAsync(batch);
                foreach (var p in batch)
                {
                    catalog[p.Product.Id] = p;
                }

                if (round >= 2)
                {
                    var gone = catalog.Keys.Where(_ => random.Next(8) == 0).ToList();
                    await writer.DeleteAsync(gone);
                    gone.ForEach(id => catalog.Remove(id));
                    deleted.AddRange(gone);
                }

                await writer.CommitAsync();
                warmed.WarmUp();

                // The reader moves to the new commit; unchanged segments keep their postings in memory.
                reader = reader is null ? DirectoryReader.Open(directory) : Reopen(reader);
                var searcher = new IndexSearcher(reader) { Similarity = new BM25Similarity() };
                for (int q = 0; q < 25; q++)
                {
                    var clauses = RandomClauses(random, writer, catalog);
                    var filter = random.Next(3) == 0 ? null : LocalProductIndex.BuildFilter(RandomQuery(random, catalog, text: "x"));
                    int k = RandomK(random);
                    AssertSameHits(searcher, clauses, filter, k, SharedPostings(postings, seed % 2 == 0 ? 0 : null));
                }

                // The whole path, text to candidates, through the index's own query and filter.
                for (int q = 0; q < 15; q++)
                {
                    var product = catalog.Values.ElementAt(random.Next(catalog.Count)).Product;
                    var text = random.Next(4) == 0 ? string.Join(' ', Enumerable.Range(0, random.Next(0, 4)).Select(_ => Words[random.Next(Words.Length)]))
                        : $"{product.Title} {product.Brand}";
                    var query = RandomQuery(random, catalog, text) with { ExcludeIds = new HashSet<string>(StringComparer.Ordinal) { product.Id } };
                    var expected = (await lucene.GetCandidatesAsync(query)).Keyword;
                    foreach (var index in new[] { memory, warmed })
                    {
                        var actual = (await index.GetCandidatesAsync(query)).Keyword;
                        Assert.Equal(expected.Select(c => c.Id), actual.Select(c => c.Id));
                        Assert.Equal(expected.Select(c => BitConverter.DoubleToInt64Bits(c.Score)), actual.Select(c => BitConverter.DoubleToInt64Bits(c.Score)));
                    }
                }

                // By id, in memory on the warmed index and from the id terms on the other: the live version of a rewritten
                // product, and nothing for a deleted one.
                foreach (var id in catalog.Keys.Where(_ => random.Next(3) == 0).Concat(deleted))
                {
                    var expected = await lucene.GetAsync(id);
                    var found = await warmed.GetAsync(id);
                    Assert.Equal(catalog.TryGetValue(id, out var live) ? live.Product.Title : null, found?.Product.Title);
                    Assert.Equivalent(expected?.Product, found?.Product, strict: true);
                    Assert.Equal(expected?.Vector.ToArray(), found?.Vector.ToArray());
                }
            }

            Assert.True(memory.KeywordMemoryBytes() > 0);
            Assert.Equal(0, lucene.KeywordMemoryBytes());
        }
        finally
        {
            reader?.Dispose();
        }
    }

    [Fact]
    public async Task Search_EdgeCases_EqualsIndexSearcher()
    {
        var random = new Random(99);
        using var folder = new TempFolder();
        await using (var writer = LocalProductIndex.Open(folder.Path))
        {
            // One product per commit: a segment each, one of them left empty by a delete.
            for (int i = 0; i < 6; i++)
            {
                await writer.UpsertAsync([RandomProduct(random, $"e{i}")]);
                await writer.CommitAsync();
            }

            await writer.DeleteAsync(["e2"]);
            await writer.CommitAsync();
        }

        using var directory = FSDirectory.Open(new DirectoryInfo(folder.Path));
        using var reader = DirectoryReader.Open(directory);
        var searcher = new IndexSearcher(reader) { Similarity = new BM25Similarity() };
        var postings = SharedPostings(new ConditionalWeakTable<object, SegmentPostings>());
        List<KeywordClause> common = [new(ProductFields.Title, "wireless", 1f), new(ProductFields.Description, "black", 0.2f)];

        // No clause; a term no document holds; a field no document holds; one clause (Lucene rewrites it to a term query).
        AssertSameHits(searcher, [], null, 10, postings);
        Assert.Empty(MemoryKeywordScorer.Search(reader, [], null, 10, postings));
        AssertSameHits(searcher, [new(ProductFields.Title, "zzz-absent", 1f)], null, 10, postings);
        AssertSameHits(searcher, [new("no_such_field", "wireless", 1f), .. common], null, 10, postings);
        AssertSameHits(searcher, [common[0]], null, 10, postings);

        // Boost 0 (matches, scores 0), a repeated clause, k above the matches and k of 1.
        AssertSameHits(searcher, [new(ProductFields.Title, "wireless", 0f), new(ProductFields.Brand, "soni", 0f)], null, 10, postings);
        AssertSameHits(searcher, [.. common, common[0], new(ProductFields.ModelCode, "wh1000xm4", 1f)], null, 1000, postings);
        AssertSameHits(searcher, common, null, 1, postings);

        // A filter that admits nothing, and one that admits one product.
        var none = LocalProductIndex.BuildFilter(new ProductQuery { Text = "x", Filter = new ProductFilter { Source = "no-such-source" } });
        Assert.Empty(MemoryKeywordScorer.Search(reader, common, none, 10, postings));
        AssertSameHits(searcher, common, none, 10, postings);
        var others = new HashSet<string>(Enumerable.Range(0, 6).Where(i => i != 4).Select(i => $"e{i}"), StringComparer.Ordinal);
        AssertSameHits(searcher, common, LocalProductIndex.BuildFilter(new ProductQuery { Text = "x", ExcludeIds = others }), 10, postings);
    }

    [Fact]
    public async Task Search_TermsInHundredsOfDocuments_EqualsIndexSearcher()
    {
        // Common terms with more postings than the per-norm score table needs, in segments with deletes.
        var random = new Random(21);
        using var folder = new TempFolder();
        var catalog = new Dictionary<string, IndexedProduct>(StringComparer.Ordinal);
        await using (var writer = LocalProductIndex.Open(folder.Path))
        {
            for (int commit = 0; commit < 3; commit++)
            {
                var batch = Enumerable.Range(0, 700).Select(_ => RandomProduct(random, $"h{random.Next(1500):D4}", distinctTitleWords: true)).DistinctBy(p => p.Product.Id).ToList();
                await writer.UpsertAsync(batch);
                batch.ForEach(p => catalog[p.Product.Id] = p);
                await writer.DeleteAsync([.. catalog.Keys.Where(_ => random.Next(20) == 0)]);
                await writer.CommitAsync();
            }

            using var directory = FSDirectory.Open(new DirectoryInfo(folder.Path));
            using var reader = DirectoryReader.Open(directory);
            var searcher = new IndexSearcher(reader) { Similarity = new BM25Similarity() };
            var postings = SharedPostings(new ConditionalWeakTable<object, SegmentPostings>());
            for (int q = 0; q < 30; q++)
            {
                var clauses = RandomClauses(random, writer, catalog);
                var filter = q % 2 == 0 ? null : LocalProductIndex.BuildFilter(RandomQuery(random, catalog, text: "x"));
                AssertSameHits(searcher, clauses, filter, RandomK(random), postings);
            }
        }
    }

    [Fact]
    public async Task Search_ConcurrentQueriesWhileCommitting_EqualIndexSearcherOnEachReader()
    {
        var random = new Random(7);
        using var folder = new TempFolder();
        await using var writer = LocalProductIndex.Open(folder.Path);
        var catalog = new Dictionary<string, IndexedProduct>(StringComparer.Ordinal);
        var first = Enumerable.Range(0, 80).Select(i => RandomProduct(random, $"c{i:D4}")).ToList();
        await writer.UpsertAsync(first);
        await writer.CommitAsync();
        first.ForEach(p => catalog[p.Product.Id] = p);

        // One cache of postings shared by every thread and every reader generation, as the index shares it.
        var postings = SharedPostings(new ConditionalWeakTable<object, SegmentPostings>());
        var clauses = Enumerable.Range(0, 40).Select(_ => RandomClauses(random, writer, catalog)).ToList();
        using var directory = FSDirectory.Open(new DirectoryInfo(folder.Path));
        using var stop = new CancellationTokenSource();
        int compared = 0;
        var readers = Enumerable.Range(0, 3).Select(t => Task.Run(() =>
        {
            var local = new Random(100 + t);
            var reader = DirectoryReader.Open(directory);
            try
            {
                while (!stop.IsCancellationRequested || local.Next(4) != 0)
                {
                    reader = Reopen(reader);
                    var searcher = new IndexSearcher(reader) { Similarity = new BM25Similarity() };
                    var filter = local.Next(2) == 0 ? null : LocalProductIndex.BuildFilter(new ProductQuery { Text = "x", Filter = new ProductFilter { Source = Sources[local.Next(Sources.Length)] } });
                    AssertSameHits(searcher, clauses[local.Next(clauses.Count)], filter, RandomK(local), postings);
                    Interlocked.Increment(ref compared);
                }
            }
            finally
            {
                reader.Dispose();
            }
        })).ToList();

        var writes = new Random(8);
        for (int commit = 0; commit < 12; commit++)
        {
            var batch = Enumerable.Range(0, 15).Select(i => RandomProduct(writes, $"c{writes.Next(200):D4}")).ToList();
            await writer.UpsertAsync(batch);
            await writer.DeleteAsync([$"c{writes.Next(200):D4}"]);
            await writer.CommitAsync();
        }

        await stop.CancelAsync();
        await Task.WhenAll(readers);
        Assert.True(compared > 3);
    }

    [Fact]
    public async Task GetCandidatesAsync_QueriesDuringIngestWithBackgroundRefresh_RankLikeLuceneAfterwards()
    {
        var random = new Random(11);
        using var folder = new TempFolder();
        await using var writer = LocalProductIndex.Open(folder.Path);
        await writer.UpsertAsync([.. Enumerable.Range(0, 60).Select(i => RandomProduct(random, $"s{i:D3}"))]);
        await writer.CommitAsync();
        await using var server = LocalProductIndex.Open(folder.Path, readOnly: true, new LocalProductIndexOptions { RefreshInterval = TimeSpan.FromMilliseconds(5) });
        server.WarmUp();
        var texts = Enumerable.Range(0, 20).Select(_ => RandomProduct(random, "q").Product.Title).ToList();
        using var stop = new CancellationTokenSource();
        int answered = 0;
        var queries = Enumerable.Range(0, 3).Select(t => Task.Run(async () =>
        {
            var local = new Random(t);
            while (!stop.IsCancellationRequested)
            {
                var query = new ProductQuery { Text = texts[local.Next(texts.Count)], Mode = RankingMode.Keyword, Top = RandomK(local) };
                var hits = (await server.GetCandidatesAsync(query)).Keyword;
                Assert.Equal(hits.Count, hits.Select(h => h.Id).Distinct().Count());
                Assert.True(hits.Zip(hits.Skip(1)).All(pair => pair.First.Score >= pair.Second.Score));
                Interlocked.Increment(ref answered);
            }
        })).ToList();

        var writes = new Random(12);
        for (int commit = 0; commit < 10; commit++)
        {
            await writer.UpsertAsync([.. Enumerable.Range(0, 20).Select(_ => RandomProduct(writes, $"s{writes.Next(150):D3}"))]);
            await writer.DeleteAsync([$"s{writes.Next(150):D3}"]);
            await writer.CommitAsync();
            await Task.Delay(10);
        }

        await stop.CancelAsync();
        await Task.WhenAll(queries);
        Assert.True(answered > 0);

        // Caught up with the last commit: the same ranking as Lucene's searcher on it.
        server.WarmUp();
        await using var lucene = LocalProductIndex.Open(folder.Path, readOnly: true, new LocalProductIndexOptions { KeywordScorer = KeywordScorerKind.Lucene });
        foreach (var text in texts)
        {
            var query = new ProductQuery { Text = text, Mode = RankingMode.Keyword, Top = 30 };
            var expected = (await lucene.GetCandidatesAsync(query)).Keyword;
            var actual = (await server.GetCandidatesAsync(query)).Keyword;
            Assert.Equal(expected.Select(c => (c.Id, BitConverter.DoubleToInt64Bits(c.Score))), actual.Select(c => (c.Id, BitConverter.DoubleToInt64Bits(c.Score))));
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Refresh_NewSegment_WithBackgroundRefreshReadsItsLikelyTermsBeforeAnyQuery(bool background)
    {
        var random = new Random(31);
        using var folder = new TempFolder();
        await using var writer = LocalProductIndex.Open(folder.Path);
        await writer.UpsertAsync([.. Enumerable.Range(0, 300).Select(i => RandomProduct(random, $"w{i:D3}"))]);
        await writer.CommitAsync();
        var options = new LocalProductIndexOptions { RefreshInterval = background ? TimeSpan.FromHours(1) : null };
        await using var server = LocalProductIndex.Open(folder.Path, readOnly: true, options);
        server.WarmUp();
        var query = new ProductQuery { Text = "wireless black pro", Mode = RankingMode.Keyword, Top = 10 };
        await server.GetCandidatesAsync(query);

        // Another process's commit: a new segment. The refresh brings the reader to it; no query has run on it yet.
        await writer.UpsertAsync([.. Enumerable.Range(0, 300).Select(i => RandomProduct(random, $"x{i:D3}"))]);
        await writer.CommitAsync();
        long before = server.KeywordMemoryBytes();
        if (background)
        {
            // What the background refresh runs at its next tick.
            server.WarmUp();
        }
        else
        {
            // A read brings the reader to the new commit on the request thread.
            Assert.Equal(600, await server.CountAsync());
        }

        long warmed = server.KeywordMemoryBytes();

        // With a background refresh the new segment's likely terms are in memory already; without, they wait for a query.
        Assert.Equal(background, warmed > before);
        await using var lucene = LocalProductIndex.Open(folder.Path, readOnly: true, new LocalProductIndexOptions { KeywordScorer = KeywordScorerKind.Lucene });
        var expected = (await lucene.GetCandidatesAsync(query)).Keyword;
        var actual = (await server.GetCandidatesAsync(query)).Keyword;
        Assert.Equal(expected.Select(c => (c.Id, BitConverter.DoubleToInt64Bits(c.Score))), actual.Select(c => (c.Id, BitConverter.DoubleToInt64Bits(c.Score))));
        Assert.True(server.KeywordMemoryBytes() > before);
    }

    [Fact]
    public async Task WarmUp_BeforeAnyQuery_ReadsTitleTermsPostingsAndRanksLikeLucene()
    {
        var random = new Random(41);
        using var folder = new TempFolder();
        await using (var writer = LocalProductIndex.Open(folder.Path))
        {
            await writer.UpsertAsync([.. Enumerable.Range(0, 400).Select(i => RandomProduct(random, $"u{i:D3}"))]);
            await writer.CommitAsync();
        }

        await using var server = LocalProductIndex.Open(folder.Path, readOnly: true);
        Assert.Equal(400, await server.CountAsync());
        Assert.Equal(0, server.KeywordMemoryBytes());
        server.WarmUp();
        long warmed = server.KeywordMemoryBytes();
        Assert.True(warmed > 0);

        // A second warm-up reads nothing again.
        server.WarmUp();
        Assert.Equal(warmed, server.KeywordMemoryBytes());
        await using var lucene = LocalProductIndex.Open(folder.Path, readOnly: true, new LocalProductIndexOptions { KeywordScorer = KeywordScorerKind.Lucene });
        foreach (var text in new[] { "wireless black", "pro usb cable", "Sony", "cases charger WH-1000XM4" })
        {
            var query = new ProductQuery { Text = text, Mode = RankingMode.Keyword, Top = 25 };
            var expected = (await lucene.GetCandidatesAsync(query)).Keyword;
            var actual = (await server.GetCandidatesAsync(query)).Keyword;
            Assert.Equal(expected.Select(c => (c.Id, BitConverter.DoubleToInt64Bits(c.Score))), actual.Select(c => (c.Id, BitConverter.DoubleToInt64Bits(c.Score))));
        }
    }

    private static void AssertSameHits(IndexSearcher searcher, IReadOnlyList<KeywordClause> clauses, Filter? filter, int k, Func<AtomicReader, SegmentPostings> postings)
    {
        var expected = searcher.Search(LocalProductIndex.TextQuery(clauses), filter, k).ScoreDocs;
        var actual = MemoryKeywordScorer.Search(searcher.IndexReader, clauses, filter, k, postings);
        Assert.Equal(expected.Select(h => h.Doc), actual.Select(h => h.Doc));
        Assert.Equal(expected.Select(h => BitConverter.SingleToInt32Bits(h.Score)), actual.Select(h => BitConverter.SingleToInt32Bits(h.Score)));
    }

    // rareCap 0: no rare or absent term is kept, they are read again at each query.
    private static Func<AtomicReader, SegmentPostings> SharedPostings(ConditionalWeakTable<object, SegmentPostings> table, int? rareCap = null)
        => reader => table.GetValue(reader.CoreCacheKey, _ => new SegmentPostings(reader.MaxDoc, rareCap));

    private static DirectoryReader Reopen(DirectoryReader reader)
    {
        var newer = DirectoryReader.OpenIfChanged(reader);
        if (newer is null)
        {
            return reader;
        }

        reader.Dispose();
        return newer;
    }

    private static int RandomK(Random random) => random.Next(5) switch
    {
        0 => 1,
        1 => 3,
        2 => 10,
        3 => 40,
        _ => 10_000,
    };

    private static LocalProductIndexOptions RandomOptions(Random random) => new()
    {
        TitleBoost = random.Next(6) == 0 ? 0 : 1f,
        BrandBoost = random.Next(4) == 0 ? 0 : 0.5f,
        CategoryBoost = random.Next(4) == 0 ? 0 : 0.3f,
        DescriptionBoost = random.Next(3) == 0 ? 0 : 0.2f,
        ModelNumberBoost = random.Next(4) == 0 ? 0 : 1f,
        NearCodeBoost = random.Next(4) == 0 ? 0 : 0.5f,
    };

    // The index's own clauses for a random text, then mutated: boosts changed (0 included), clauses dropped, repeated,
    // shuffled, and terms no document holds.
    private static List<KeywordClause> RandomClauses(Random random, LocalProductIndex index, IReadOnlyDictionary<string, IndexedProduct> catalog)
    {
        var product = catalog.Values.ElementAt(random.Next(catalog.Count)).Product;
        var clauses = index.KeywordClauses($"{product.Title} {product.Brand} {Words[random.Next(Words.Length)]}");
        var result = new List<KeywordClause>();
        foreach (var clause in clauses)
        {
            switch (random.Next(10))
            {
                case 0:
                    break;
                case 1:
                    result.Add(clause with { Boost = BoostChoices[random.Next(BoostChoices.Length)] });
                    break;
                case 2:
                    result.Add(clause);
                    result.Add(clause);
                    break;
                case 3:
                    result.Add(clause with { Term = clause.Term + "qq" });
                    break;
                default:
                    result.Add(clause);
                    break;
            }
        }

        if (random.Next(3) == 0)
        {
            result = [.. result.OrderBy(_ => random.Next())];
        }

        return result;
    }

    private static ProductQuery RandomQuery(Random random, IReadOnlyDictionary<string, IndexedProduct> catalog, string text)
    {
        var some = catalog.Values.ElementAt(random.Next(catalog.Count)).Product;
        var filter = random.Next(6) switch
        {
            0 => new ProductFilter { Category = some.Category?.ToUpperInvariant() },
            1 => new ProductFilter { Brand = some.Brand, InStock = random.Next(2) == 0 },
            2 => new ProductFilter { MinPrice = 10m, MaxPrice = 60m },
            3 => new ProductFilter { Source = Sources[random.Next(Sources.Length)] },
            4 => new ProductFilter { ExcludeSource = Sources[random.Next(Sources.Length)] },
            _ => new ProductFilter(),
        };

        var excluded = catalog.Keys.Where(_ => random.Next(10) == 0).ToHashSet(StringComparer.Ordinal);
        var groups = random.Next(3) == 0 ? new HashSet<string>(StringComparer.Ordinal) { $"g{random.Next(5)}" } : new HashSet<string>(StringComparer.Ordinal);
        return new ProductQuery { Text = text, Mode = RankingMode.Keyword, Top = RandomK(random), Filter = filter, ExcludeIds = excluded, ExcludeGroupIds = groups };
    }

    // distinctTitleWords: each title word once, so a title term's postings all have frequency 1.
    private static IndexedProduct RandomProduct(Random random, string id, bool distinctTitleWords = false)
    {
        // Skewed picks: low word indexes far more often, so some terms are in almost every product.
        string Word() => Words[(int)(Words.Length * Math.Pow(random.NextDouble(), 2.5))];
        var words = Enumerable.Range(0, random.Next(1, 8)).Select(_ => Word());
        var title = string.Join(' ', distinctTitleWords ? words.Distinct() : words);
        if (random.Next(3) == 0)
        {
            title += " " + Codes[random.Next(Codes.Length)];
        }

        string? description = random.Next(4) == 0 ? null
            : string.Join(' ', Enumerable.Range(0, random.Next(1, random.Next(2) == 0 ? 12 : 90)).Select(_ => Word()));
        return P(
            id,
            title,
            RandomUnit(random, Dimensions),
            brand: random.Next(5) == 0 ? null : Brands[random.Next(Brands.Length)],
            category: random.Next(5) == 0 ? null : Categories[random.Next(Categories.Length)],
            price: random.Next(4) == 0 ? null : random.Next(1, 100),
            inStock: random.Next(3) == 0 ? null : random.Next(2) == 0,
            source: Sources[random.Next(Sources.Length)],
            groupId: random.Next(2) == 0 ? null : $"g{random.Next(5)}",
            description: description);
    }
}
