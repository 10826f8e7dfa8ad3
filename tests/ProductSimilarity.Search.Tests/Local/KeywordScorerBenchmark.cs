using System.Diagnostics;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Search.Local;
using Xunit.Abstractions;
using static ProductSimilarity.Search.Tests.Local.LocalIndexTestData;

namespace ProductSimilarity.Search.Tests.Local;

/// <summary>
/// The keyword list alone, in memory and by Lucene, over 100,000 products written in commits of 1,024 (as
/// <c>psim bench</c> writes them): a similar-items-like query (title and brand, a rare model code in each) per product.
/// Run with <c>PSIM_BENCH=1 dotnet test tests/ProductSimilarity.Search.Tests -c Release --filter "FullyQualifiedName~KeywordScorerBenchmark" --logger "console;verbosity=detailed"</c>.
/// </summary>
public sealed class KeywordScorerBenchmark(ITestOutputHelper output)
{
    private static readonly string[] Brands = ["Acme", "Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Proseware", "Adatum", "Wingtip", "Woodgrove"];
    private static readonly string[] Nouns = ["Wireless Earbuds", "Bluetooth Speaker", "Mechanical Keyboard", "Frying Pan", "Air Fryer", "Camping Tent", "Yoga Mat", "Running Shoes", "Protein Powder", "Board Game"];
    private static readonly string[] Qualities = ["Noise Cancelling", "Waterproof", "Backlit", "Non-Stick", "Compact", "Lightweight", "Adjustable", "Breathable", "Vegan", "Deluxe"];
    private static readonly string[] Colours = ["Black", "White", "Silver", "Navy", "Red", "Green", "Grey", "Blue"];

    [BenchmarkFact]
    public async Task KeywordList_100kProducts_MemoryAgainstLucene()
    {
        const int count = 100_000;
        var random = new Random(3);
        using var folder = new TempFolder();
        var products = new List<IndexedProduct>(count);
        await using (var writer = LocalProductIndex.Open(folder.Path))
        {
            for (int i = 0; i < count; i++)
            {
                string brand = Brands[random.Next(Brands.Length)];
                string noun = Nouns[random.Next(Nouns.Length)];
                string code = $"{(char)('A' + random.Next(26))}{(char)('A' + random.Next(26))}-{random.Next(100, 9999)}";
                string title = $"{brand} {Qualities[random.Next(Qualities.Length)]} {Qualities[random.Next(Qualities.Length)]} {noun} {code} - {Colours[random.Next(Colours.Length)]}";
                products.Add(P($"S{i:D7}", title, RandomUnit(random, 4), brand: brand, category: "Things > " + noun, description: $"{noun} from {brand}. Built to last. Easy to clean."));
                if (products.Count % 1024 == 0)
                {
                    await writer.UpsertAsync(products[^1024..]);
                    await writer.CommitAsync();
                }
            }

            await writer.UpsertAsync(products[(count / 1024 * 1024)..]);
            await writer.CommitAsync();
        }

        await using var memory = LocalProductIndex.Open(folder.Path, readOnly: true, new LocalProductIndexOptions { KeywordScorer = KeywordScorerKind.Memory });
        await using var lucene = LocalProductIndex.Open(folder.Path, readOnly: true, new LocalProductIndexOptions { KeywordScorer = KeywordScorerKind.Lucene });
        memory.WarmUp();
        lucene.WarmUp();
        var queries = Enumerable.Range(0, 300).Select(_ => products[random.Next(count)]).Select(p => new ProductQuery
        {
            Text = $"{p.Product.Title} {p.Product.Brand}",
            Mode = RankingMode.Keyword,
            Top = 20,
            ExcludeIds = new HashSet<string>(StringComparer.Ordinal) { p.Product.Id },
        }).ToList();

        // The scorer alone on one reader: terms looked up, then scored, with and without the filter.
        using (var directory = Lucene.Net.Store.FSDirectory.Open(new DirectoryInfo(folder.Path)))
        using (var reader = Lucene.Net.Index.DirectoryReader.Open(directory))
        {
            var table = new System.Runtime.CompilerServices.ConditionalWeakTable<object, SegmentPostings>();
            Func<Lucene.Net.Index.AtomicReader, SegmentPostings> of = r => table.GetValue(r.CoreCacheKey, _ => new SegmentPostings(r.MaxDoc));
            var analysis = Stopwatch.StartNew();
            var clauses = queries.Select(q => memory.KeywordClauses(q.Text!)).ToList();
            analysis.Stop();
            output.WriteLine($"clauses from text {analysis.Elapsed.TotalMilliseconds / queries.Count:F3} ms/query");
            var filters = queries.Select(LocalProductIndex.BuildFilter).ToList();
            output.WriteLine($"segments {reader.Leaves.Count}, clauses per query {clauses.Average(c => c.Count):F1}");
            for (int pass = 0; pass < 2; pass++)
            {
                var lookup = Stopwatch.StartNew();
                foreach (var c in clauses)
                {
                    foreach (var leaf in reader.Leaves)
                    {
                        Dictionary<string, Lucene.Net.Index.TermsEnum?>? enums = null;
                        foreach (var clause in c)
                        {
                            of(leaf.AtomicReader).Term(leaf.AtomicReader, clause.Field, clause.Term, ref enums);
                        }
                    }
                }

                lookup.Stop();
                var plain = Stopwatch.StartNew();
                for (int i = 0; i < clauses.Count; i++)
                {
                    MemoryKeywordScorer.Search(reader, clauses[i], null, 20, of);
                }

                plain.Stop();
                var filtered = Stopwatch.StartNew();
                for (int i = 0; i < clauses.Count; i++)
                {
                    MemoryKeywordScorer.Search(reader, clauses[i], filters[i], 20, of);
                }

                filtered.Stop();
                var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                for (int i = 0; i < clauses.Count; i++)
                {
                    MemoryKeywordScorer.Search(reader, clauses[i], filters[i], 20, of);
                }

                double scorerCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds / clauses.Count;
                cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                var searcher = new Lucene.Net.Search.IndexSearcher(reader) { Similarity = new Lucene.Net.Search.Similarities.BM25Similarity() };
                for (int i = 0; i < clauses.Count; i++)
                {
                    searcher.Search(LocalProductIndex.TextQuery(clauses[i]), filters[i], 20);
                }

                double luceneCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds / clauses.Count;
                output.WriteLine($"scorer pass {pass}: CPU per query, filtered: in memory {scorerCpu:F3} ms, IndexSearcher {luceneCpu:F3} ms");
                output.WriteLine($"scorer pass {pass}: lookups {lookup.Elapsed.TotalMilliseconds / clauses.Count:F3} ms/query, search {plain.Elapsed.TotalMilliseconds / clauses.Count:F3} ms, filtered {filtered.Elapsed.TotalMilliseconds / clauses.Count:F3} ms");
            }
        }

        for (int pass = 0; pass < 2; pass++)
        {
            var inMemory = new double[queries.Count];
            var byLucene = new double[queries.Count];
            for (int i = 0; i < queries.Count; i++)
            {
                var start = Stopwatch.GetTimestamp();
                var a = (await memory.GetCandidatesAsync(queries[i])).Keyword;
                inMemory[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                start = Stopwatch.GetTimestamp();
                var b = (await lucene.GetCandidatesAsync(queries[i])).Keyword;
                byLucene[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                Assert.Equal(b.Select(c => (c.Id, c.Score)), a.Select(c => (c.Id, c.Score)));
            }

            // CPU time per query, one side after the other: less sensitive than wall time to other work on the machine.
            var cpu = new double[2];
            for (int side = 0; side < 2; side++)
            {
                var index = side == 0 ? memory : lucene;
                var before = Process.GetCurrentProcess().TotalProcessorTime;
                foreach (var query in queries)
                {
                    await index.GetCandidatesAsync(query);
                }

                cpu[side] = (Process.GetCurrentProcess().TotalProcessorTime - before).TotalMilliseconds / queries.Count;
            }

            output.WriteLine($"pass {pass}: CPU per query: memory {cpu[0]:F3} ms, lucene {cpu[1]:F3} ms");
            Array.Sort(inMemory);
            Array.Sort(byLucene);
            output.WriteLine(
                $"pass {pass}: memory p50 {inMemory[150]:F3} ms p99 {inMemory[296]:F3} ms; lucene p50 {byLucene[150]:F3} ms p99 {byLucene[296]:F3} ms; "
                + $"postings {memory.KeywordMemoryBytes() / (double)count:F0} B/product");
        }
    }
}
