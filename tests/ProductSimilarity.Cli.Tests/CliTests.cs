using System.Text.Json;

namespace ProductSimilarity.Cli.Tests;

[Collection("psim")]
public sealed class CliTests
{
    private const string Catalog = """
        id,title,brand,category,price,in_stock,group_id
        E1,Wireless Noise Cancelling Earbuds,Sonic,Electronics > Audio,79.00,true,
        E2,Bluetooth Earphones with ANC,Auris,Electronics > Audio,59.00,true,
        E3,Sport Wireless Earbuds Blue,Sonic,Electronics > Audio,49.00,true,G3
        E4,Sport Wireless Earbuds Red,Sonic,Electronics > Audio,49.00,false,G3
        K1,Chef's Knife 20 cm Stainless Steel,Blade,Home & Kitchen > Cookware,35.00,true,
        K2,Japanese Santoku Kitchen Knife,Kiru,Home & Kitchen > Cookware,45.00,true,
        K3,Cast Iron Frying Pan 28 cm,Forge,Home & Kitchen > Cookware,39.00,true,
        Z1,小米 无线蓝牙耳机 主动降噪,小米,Electronics > Audio,299.00,true,
        """;

    [Fact]
    public async Task Help_PrintsCommands_ExitsZero()
    {
        var (exit, stdout, _) = await PsimRunner.RunAsync("--help");

        Assert.Equal(0, exit);
        foreach (var command in new[] { "ingest", "similar", "search", "recommend", "eval", "demo", "serve", "bench", "--index" })
        {
            Assert.Contains(command, stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task UnknownOption_ExitsTwo()
    {
        var (exit, _, stderr) = await PsimRunner.RunAsync("similar", "X", "--bogus");

        Assert.Equal(2, exit);
        Assert.Contains("--bogus", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TopOutOfRange_ExitsTwo()
    {
        var (exit, _, stderr) = await PsimRunner.RunAsync("similar", "X", "--top", "0");

        Assert.Equal(2, exit);
        Assert.Contains("--top", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingest_MissingFile_ExitsTwoWithMessage()
    {
        using var dir = new TempDir();
        var (exit, _, stderr) = await PsimRunner.RunAsync("ingest", dir.File("nope.csv"), "--index", dir.File("index"));

        Assert.Equal(2, exit);
        Assert.Contains("nope.csv", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SimilarAndSearch_AttributeFilterFallbackAndDiversityOptions_Work()
    {
        using var dir = new TempDir();
        var catalog = dir.File("shoes.csv");
        await File.WriteAllTextAsync(catalog, string.Join('\n',
            "id,title,brand,category,price,in_stock,color",
            "S1,Trail Running Shoe,Fleet,Shoes,90,true,Black",
            "S2,Road Running Shoe,Fleet,Shoes,95,true,black",
            "S3,Racing Running Shoe,Fleet,Shoes,120,true,Red",
            "S4,Walking Shoe,Stride,Shoes,70,true,White",
            "S5,Running Socks,Stride,Socks,9,true,Black") + "\n");
        var index = dir.File("index");
        Assert.Equal(0, (await PsimRunner.RunAsync("ingest", catalog, "--index", index)).Exit);

        var strict = await PsimRunner.RunAsync("similar", "S3", "--index", index, "--json", "--attr", "COLOR=black", "--category", "shoes", "--no-fallback");
        Assert.Equal(0, strict.Exit);
        using (var doc = JsonDocument.Parse(strict.Out))
        {
            Assert.Equal(["S1", "S2"], doc.RootElement.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("product").GetProperty("id").GetString()).Order());
        }

        var filled = await PsimRunner.RunAsync("similar", "S3", "--index", index, "--json", "--attr", "color=black", "--category", "shoes", "--top", "3");
        using (var doc = JsonDocument.Parse(filled.Out))
        {
            var items = doc.RootElement.GetProperty("items").EnumerateArray().ToList();
            Assert.Equal(3, items.Count);
            Assert.Equal("S4", items[2].GetProperty("product").GetProperty("id").GetString());
            Assert.Equal(["attr.color"], items[2].GetProperty("relaxed").EnumerateArray().Select(r => r.GetString()));
        }

        var table = await PsimRunner.RunAsync("search", "running", "--index", index, "--top", "3", "--attr", "color=red", "--mmr", "0.7", "--dedupe");
        Assert.Equal(0, table.Exit);
        Assert.Contains("relaxed attr.color", table.Out, StringComparison.Ordinal);

        var explained = await PsimRunner.RunAsync("search", "running", "--index", index, "--top", "2", "--attr", "color=red", "--explain");
        Assert.Contains("relaxed: attr.color", explained.Out, StringComparison.Ordinal);

        var badAttr = await PsimRunner.RunAsync("similar", "S1", "--index", index, "--attr", "black");
        Assert.Equal(2, badAttr.Exit);
        Assert.Contains("NAME=VALUE", badAttr.Err, StringComparison.Ordinal);
        var badMmr = await PsimRunner.RunAsync("search", "shoe", "--index", index, "--mmr", "1.5");
        Assert.Equal(2, badMmr.Exit);
        Assert.Contains("--mmr", badMmr.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IngestSimilarSearchRecommend_EndToEnd()
    {
        using var dir = new TempDir();
        var catalog = dir.File("shop.csv");
        await File.WriteAllTextAsync(catalog, Catalog.ReplaceLineEndings("\n") + "\n,No id,x,y,1,true,\nK9,Bad price,x,y,cheap,true,\n");
        var index = dir.File("index");

        var ingest = await PsimRunner.RunAsync("ingest", catalog, "--index", index, "--json");
        Assert.Equal(3, ingest.Exit); // finished, some rows rejected
        using (var summary = JsonDocument.Parse(ingest.Out))
        {
            Assert.Equal(10, summary.RootElement.GetProperty("rowsRead").GetInt32());
            Assert.Equal(8, summary.RootElement.GetProperty("embedded").GetInt32());
            Assert.Equal(2, summary.RootElement.GetProperty("rejected").GetInt32());
        }

        var errors = await File.ReadAllLinesAsync(catalog + ".errors.jsonl");
        Assert.Equal(2, errors.Length);
        Assert.Contains(errors, l => l.Contains("\"line\":10", StringComparison.Ordinal) && l.Contains("\"field\":\"id\"", StringComparison.Ordinal));
        Assert.Contains(errors, l => l.Contains("\"line\":11", StringComparison.Ordinal) && l.Contains("\"field\":\"price\"", StringComparison.Ordinal));

        var again = await PsimRunner.RunAsync("ingest", catalog, "--index", index, "--json");
        using (var summary = JsonDocument.Parse(again.Out))
        {
            Assert.Equal(0, summary.RootElement.GetProperty("embedded").GetInt32());
            Assert.Equal(8, summary.RootElement.GetProperty("unchanged").GetInt32());
        }

        var similar = await PsimRunner.RunAsync("similar", "E3", "--index", index, "--json", "--top", "3");
        Assert.Equal(0, similar.Exit);
        using (var doc = JsonDocument.Parse(similar.Out))
        {
            var results = doc.RootElement.GetProperty("items").EnumerateArray().ToList();
            var ids = results.Select(r => r.GetProperty("product").GetProperty("id").GetString()).ToList();
            Assert.DoesNotContain("E3", ids);
            Assert.DoesNotContain("E4", ids); // its variant
            Assert.Contains(ids[0], new[] { "E1", "E2", "Z1" });
            Assert.True(results[0].TryGetProperty("vectorScore", out _));
            Assert.True(results[0].GetProperty("score").GetDouble() >= results[^1].GetProperty("score").GetDouble());
        }

        var table = await PsimRunner.RunAsync("similar", "K1", "--index", index, "--top", "2");
        Assert.Equal(0, table.Exit);
        Assert.Contains("K2", table.Out, StringComparison.Ordinal);

        var filtered = await PsimRunner.RunAsync("similar", "E1", "--index", index, "--json", "--in-stock", "false");
        using (var doc = JsonDocument.Parse(filtered.Out))
        {
            Assert.Equal(["E4"], doc.RootElement.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("product").GetProperty("id").GetString()));
        }

        var search = await PsimRunner.RunAsync("search", "蓝牙耳机", "--index", index, "--json", "--top", "1");
        Assert.Equal(0, search.Exit);
        Assert.Contains("\"Z1\"", search.Out, StringComparison.Ordinal);

        var recommend = await PsimRunner.RunAsync("recommend", "K1:purchase", "E1:view", "--index", index, "--json");
        Assert.Equal(0, recommend.Exit);
        using (var doc = JsonDocument.Parse(recommend.Out))
        {
            var ids = doc.RootElement.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("product").GetProperty("id").GetString()).ToList();
            Assert.DoesNotContain("K1", ids);
            Assert.DoesNotContain("E1", ids);
            Assert.NotEmpty(ids);
        }
    }

    [Fact]
    public async Task Similar_UnknownId_ExitsOneWithClearMessage()
    {
        using var dir = new TempDir();
        var catalog = dir.File("shop.csv");
        await File.WriteAllTextAsync(catalog, Catalog);
        var index = dir.File("index");
        Assert.Equal(0, (await PsimRunner.RunAsync("ingest", catalog, "--index", index)).Exit);

        var (exit, stdout, stderr) = await PsimRunner.RunAsync("similar", "does-not-exist", "--index", index);

        Assert.Equal(1, exit);
        Assert.Contains("'does-not-exist' was not found", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, stdout);
    }

    [Fact]
    public async Task Ingest_EmptyFile_ExitsOneNamingFile()
    {
        using var dir = new TempDir();
        var catalog = dir.File("empty.csv");
        await File.WriteAllTextAsync(catalog, string.Empty);

        var (exit, _, stderr) = await PsimRunner.RunAsync("ingest", catalog, "--index", dir.File("index"));

        Assert.Equal(1, exit);
        Assert.Contains("empty.csv", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Eval_TinyLabelledCatalog_PrintsExactlyOneJsonObject()
    {
        using var dir = new TempDir();
        var catalog = dir.File("catalog.jsonl");
        await File.WriteAllLinesAsync(catalog,
        [
            """{"id":"a:1","title":"adobe photoshop elements 6","brand":"adobe","source":"a"}""",
            """{"id":"a:2","title":"microsoft office 2007 home and student","brand":"microsoft","source":"a"}""",
            """{"id":"a:3","title":"norton antivirus 2008","brand":"symantec","source":"a"}""",
            """{"id":"g:1","title":"photoshop elements 6.0 win","source":"g"}""",
            """{"id":"g:2","title":"ms office home & student 2007","source":"g"}""",
            """{"id":"g:3","title":"symantec norton anti-virus 2008 retail","source":"g"}""",
        ]);
        var matches = dir.File("matches.csv");
        await File.WriteAllTextAsync(matches, "id_a,id_b\na:1,g:1\na:2,g:2\na:3,g:3\n");
        var filesBefore = Directory.GetFiles(dir.Path).Length;

        var (exit, stdout, _) = await PsimRunner.RunAsync("eval", "--catalog", catalog, "--matches", matches, "--json");

        Assert.Equal(0, exit);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(["queries", "recall@1", "recall@10", "mrr@10"], doc.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(6, doc.RootElement.GetProperty("queries").GetInt32());
        Assert.Equal(1.0, doc.RootElement.GetProperty("recall@1").GetDouble());
        Assert.Equal(filesBefore, Directory.GetFiles(dir.Path).Length); // eval leaves nothing behind
    }

    [Fact]
    public async Task EvalTune_LabelledPairs_StoresTheLearnedFusionWithTheIndex()
    {
        using var dir = new TempDir();
        string[] names =
        [
            "photoshop elements", "office home student", "norton antivirus", "quickbooks pro", "turbotax deluxe", "autocad lt",
            "dragon naturally speaking", "rosetta stone spanish", "final cut express", "roxio creator", "nero burning rom",
            "mcafee total protection", "parallels desktop", "acrobat standard",
        ];
        var catalog = dir.File("catalog.jsonl");
        await File.WriteAllLinesAsync(catalog, names.SelectMany((n, i) => new[]
        {
            $$"""{"id":"a:{{i}}","title":"{{n}} {{2000 + i}}","source":"a"}""",
            $$"""{"id":"g:{{i}}","title":"{{n}} {{2000 + i}} retail box","source":"g"}""",
        }));
        var matches = dir.File("matches.csv");
        await File.WriteAllLinesAsync(matches, ["id_a,id_b", .. names.Select((_, i) => $"a:{i},g:{i}")]);
        var pairs = dir.File("pairs.csv");
        await File.WriteAllLinesAsync(pairs, ["id_a,id_b,label,split", .. names.Select((_, i) => $"a:{i},g:{i},1,{(i < 12 ? "train" : "test")}")]);
        var index = dir.File("index");

        var (exit, stdout, stderr) = await PsimRunner.RunAsync("--index", index, "eval", "--catalog", catalog, "--matches", matches, "--pairs", pairs, "--split", "test", "--tune", "--json");

        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var weight = doc.RootElement.GetProperty("vectorWeight").GetDouble();
        Assert.InRange(weight, 0, 1);
        Assert.Equal(24, doc.RootElement.GetProperty("trainQueries").GetInt32());
        var heldOut = doc.RootElement.GetProperty("heldOut").EnumerateArray().ToList();
        Assert.Equal(["vector", "keyword", "configured", "tuned"], heldOut.Select(h => h.GetProperty("ranking").GetString()));
        Assert.All(heldOut, h => Assert.Equal(4, h.GetProperty("queries").GetInt32()));
        await using var stored = ProductSimilarity.Search.Local.LocalProductIndex.Open(index, readOnly: true);
        Assert.NotNull(await stored.GetAsync("a:0"));
        Assert.Equal(weight, stored.TunedFusion?.VectorWeight);
    }

    [Fact]
    public async Task EvalTune_TooFewTrainingPairs_FailsWithUsage()
    {
        using var dir = new TempDir();
        var catalog = dir.File("catalog.jsonl");
        await File.WriteAllLinesAsync(catalog, ["""{"id":"a:1","title":"one","source":"a"}""", """{"id":"g:1","title":"one","source":"g"}"""]);
        var matches = dir.File("matches.csv");
        await File.WriteAllTextAsync(matches, "id_a,id_b\na:1,g:1\n");

        var (exit, _, stderr) = await PsimRunner.RunAsync("--index", dir.File("index"), "eval", "--catalog", catalog, "--matches", matches, "--tune");

        Assert.Equal(2, exit);
        Assert.Contains("--tune needs at least 20 training queries", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void ExplanationLine_SharedModelCode_SaysSameModelCode()
    {
        var e = new ProductSimilarity.Core.Similarity.ResultExplanation
        {
            FusedScore = 1.5,
            FusedRank = 1,
            ModelCode = new ProductSimilarity.Core.Text.SharedModelCode("wh1000xm4", true),
        };

        var line = CliConsole.ExplanationLine(1, "p2", e);

        Assert.EndsWith("; same model code: wh1000xm4", line, StringComparison.Ordinal);
        Assert.DoesNotContain("model code", CliConsole.ExplanationLine(1, "p2", e with { ModelCode = null }), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingest_BundledBadCatalog_RejectsBadRowsKeepsAllGoodRows()
    {
        using var dir = new TempDir();
        var catalog = dir.File("bad-catalog.csv");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "samples", "bad-catalog.csv"), catalog);
        var index = dir.File("index");

        var (exit, stdout, stderr) = await PsimRunner.RunAsync("ingest", catalog, "--index", index, "--json");

        Assert.Equal(3, exit);
        Assert.Contains("4 rejected row(s) and 0 warning(s) written to", stderr, StringComparison.Ordinal);
        using var summary = JsonDocument.Parse(stdout);
        Assert.Equal(12, summary.RootElement.GetProperty("rowsRead").GetInt32());
        Assert.Equal(8, summary.RootElement.GetProperty("embedded").GetInt32());
        Assert.Equal(4, summary.RootElement.GetProperty("rejected").GetInt32());
        var errors = (await File.ReadAllLinesAsync(catalog + ".errors.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([4, 6, 8, 10], errors.Select(e => e.GetProperty("line").GetInt32()));
        Assert.Equal(["id", "id", "price", "title"], errors.Select(e => e.GetProperty("field").GetString()));
        Assert.All(errors, e => Assert.Equal("bad-catalog.csv", e.GetProperty("file").GetString()));
        await using var reader = ProductSimilarity.Search.Local.LocalProductIndex.Open(index, readOnly: true);
        Assert.Equal(8, await reader.CountAsync());
    }

    [Theory]
    [InlineData("none", "all-MiniLM-L6-v2")]
    [InlineData("int8", "all-MiniLM-L6-v2-int8-")]
    public async Task Bench_IngestAndSearchOnly_PrintsFiguresForTheChosenModel(string quantization, string model)
    {
        var (exit, stdout, stderr) = await PsimRunner.RunAsync(
            "bench", "--only", "ingest,search", "--products", "120", "--queries", "20", "--quantization", quantization, "--json");

        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.StartsWith(model, root.GetProperty("model").GetString(), StringComparison.Ordinal);
        Assert.Equal(120, root.GetProperty("ingest_products").GetInt32());
        Assert.Equal(120, root.GetProperty("search_products").GetInt32());
        Assert.True(root.GetProperty("ingest_products_per_s").GetDouble() > 0);
        Assert.True(root.GetProperty("similar_p99_ms_exact").GetDouble() >= root.GetProperty("similar_p50_ms_exact").GetDouble());
        Assert.True(root.GetProperty("similar_p99_ms_hnsw").GetDouble() >= root.GetProperty("similar_p50_ms_hnsw").GetDouble());
        Assert.True(root.GetProperty("similar_p99_ms_exact_fp32").GetDouble() >= root.GetProperty("similar_p50_ms_exact_fp32").GetDouble());
        Assert.True(root.GetProperty("vector_p99_ms_exact").GetDouble() >= root.GetProperty("vector_p50_ms_exact").GetDouble());
        Assert.True(root.GetProperty("vector_p99_ms_exact_fp32").GetDouble() >= root.GetProperty("vector_p50_ms_exact_fp32").GetDouble());
        Assert.InRange(root.GetProperty("hnsw_recall_at_10").GetDouble(), 0, 1);
        Assert.Contains(root.GetProperty("int8_scheme").GetString(), new[] { "S8", "ReduceRange" });
        Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("cpu").GetString()));
        Assert.Equal(JsonValueKind.Null, root.GetProperty("int8_titles_per_s").ValueKind);
        Assert.False(root.TryGetProperty("embedding", out _));
    }

    [SkippableFact]
    public async Task Bench_TinyFullRun_JsonHasEveryKeyAndEmbeddingVariantsInChildProcesses()
    {
        var (exit, stdout, stderr) = await PsimRunner.RunAsync("bench", "--products", "100", "--queries", "10", "--titles", "16", "--json");

        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Skip.If(root.TryGetProperty("hnsw_unavailable", out var why), $"USearch cannot load here: {why}");
        string[] keys =
        [
            "cpu", "int8_scheme", "sentence_encoder_titles_per_s", "fp32_titles_per_s", "int8_titles_per_s", "ingest_products_per_s",
            "similar_p99_ms_exact", "similar_p99_ms_hnsw", "hnsw_recall_at_10", "similar_p50_ms_exact", "similar_p50_ms_hnsw",
            "memory_bytes_per_product_exact", "memory_bytes_per_product_hnsw_graph", "disk_bytes_per_product_lucene",
            "disk_bytes_per_product_hnsw_graph", "load_average_start", "fp32_vs_baseline", "int8_vs_baseline",
        ];
        Assert.All(keys, key => Assert.True(root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null, key));
        var variants = root.GetProperty("embedding").EnumerateArray().ToList();
        Assert.Equal(["sentence_encoder", "fp32", "int8"], variants.Select(v => v.GetProperty("variant").GetString()));
        Assert.All(variants, v => Assert.True(v.GetProperty("peak_rss_mb").GetDouble() > 50));
        Assert.StartsWith("all-MiniLM-L6-v2-int8-", variants[2].GetProperty("model").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_SearchOnly_WritesSyntheticVectorsAndSweepsEf()
    {
        var (exit, stdout, stderr) = await PsimRunner.RunAsync("bench", "--only", "search", "--products", "300", "--queries", "10", "--ef", "16,64", "--json");

        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal(300, root.GetProperty("search_products").GetInt32());
        Assert.StartsWith("synthetic", root.GetProperty("search_vectors").GetString(), StringComparison.Ordinal);
        Assert.Equal([16, 64], root.GetProperty("hnsw_sweep").EnumerateArray().Select(r => r.GetProperty("ef").GetInt32()));
        Assert.Equal(16, root.GetProperty("hnsw_expansion_search").GetInt32());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("ingest_products_per_s").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("int8_titles_per_s").ValueKind);
    }

    [Fact]
    public async Task Bench_EmbedSweep_ReportsEveryVariantThreadCountAndBatchSize()
    {
        var (exit, stdout, stderr) = await PsimRunner.RunAsync("bench", "--only", "embed", "--titles", "8", "--threads", "1,2", "--batch-sizes", "2,4", "--json");

        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        var cells = root.GetProperty("embedding_sweep").EnumerateArray()
            .Select(c => (c.GetProperty("variant").GetString(), c.GetProperty("threads").GetInt32(), c.GetProperty("batch_size").GetInt32(), c.GetProperty("titles_per_s").GetDouble()))
            .ToList();
        Assert.Equal(
            [("fp32", 1, 2), ("fp32", 1, 4), ("fp32", 2, 2), ("fp32", 2, 4), ("int8", 1, 2), ("int8", 1, 4), ("int8", 2, 2), ("int8", 2, 4)],
            cells.Select(c => (c.Item1, c.Item2, c.Item3)));
        Assert.All(cells, c => Assert.True(c.Item4 > 0));
        Assert.Equal(4, root.GetProperty("embedding_sweep_call_size").GetInt32());
    }

    [Theory]
    [InlineData("--threads", "1,x")]
    [InlineData("--batch-sizes", "0")]
    public async Task Bench_BadSweepList_ExitsTwoNamingTheOption(string option, string value)
    {
        var (exit, _, stderr) = await PsimRunner.RunAsync("bench", "--only", "embed", option, value);

        Assert.Equal(2, exit);
        Assert.Contains(option, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_UnknownSection_ExitsTwo()
    {
        var (exit, _, stderr) = await PsimRunner.RunAsync("bench", "--only", "embed,warp");

        Assert.Equal(2, exit);
        Assert.Contains("warp", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Info_EnvironmentAndDefaults_ShowsSchemeCpuFeaturesAndSourceOfEachValue()
    {
        using var dir = new TempDir();
        var config = dir.File("psim.json");
        await File.WriteAllTextAsync(config, """{"ProductSimilarity":{"Embeddings":{"Onnx":{"Int8Scheme":"ReduceRange"}}}}""");

        var (exit, stdout, stderr) = await PsimRunner.RunAsync("info", "--config", config, "--index", dir.File("idx"), "--json");

        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal("ReduceRange", root.GetProperty("model").GetProperty("int8_scheme").GetString());
        Assert.Equal("all-MiniLM-L6-v2-int8-s7", root.GetProperty("model").GetProperty("id").GetString());
        Assert.Equal("none", root.GetProperty("adapter").GetString());
        Assert.Equal(0, root.GetProperty("index").GetProperty("documents").GetInt32());
        var settings = root.GetProperty("configuration").EnumerateArray()
            .ToDictionary(s => s.GetProperty("key").GetString()!, s => s.GetProperty("source").GetString()!);
        Assert.Equal($"file {config}", settings["ProductSimilarity:Embeddings:Onnx:Int8Scheme"]);
        Assert.Equal("command line", settings["ProductSimilarity:Index:Local:Path"]);
        Assert.Equal("default", settings["ProductSimilarity:Embeddings:Onnx:BatchSize"]);
    }

    [SkippableFact]
    public async Task Info_IndexAboveMinProducts_ShowsHnswGraphInUseWithItsShape()
    {
        using var dir = new TempDir();
        var config = dir.File("psim.json");
        await File.WriteAllTextAsync(config, """{"ProductSimilarity":{"Index":{"Local":{"Hnsw":{"MinProducts":100,"ExpansionSearch":40}}}}}""");
        var path = dir.File("idx");
        var random = new Random(5);
        var hnsw = new ProductSimilarity.Search.Local.HnswSettings { MinProducts = 100 };
        await using (var index = ProductSimilarity.Search.Local.LocalProductIndex.Open(path, options: new() { Hnsw = hnsw }))
        {
            await index.UpsertAsync([.. Enumerable.Range(0, 300).Select(i => new ProductSimilarity.Core.Indexing.IndexedProduct
            {
                Product = new ProductSimilarity.Core.Catalog.Product { Id = $"p{i}", Title = $"item {i}" },
                ContentHash = "h",
                Vector = Enumerable.Range(0, 8).Select(_ => (float)random.NextDouble() - 0.5f).ToArray(),
            })]);
            await index.CommitAsync();
            await index.DeleteAsync(["p0", "p1"]);
            await index.CommitAsync();
        }

        var (exit, stdout, stderr) = await PsimRunner.RunAsync("info", "--config", config, "--index", path, "--json");

        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var graph = doc.RootElement.GetProperty("index").GetProperty("hnsw");
        Skip.If(graph.GetProperty("status").GetString()!.Contains("library", StringComparison.Ordinal), "USearch cannot load here");
        Assert.True(graph.GetProperty("in_use").GetBoolean(), graph.GetProperty("status").GetString());
        Assert.Equal(graph.GetProperty("commit_generation").GetInt64(), graph.GetProperty("graph_generation").GetInt64());
        Assert.Equal(298, graph.GetProperty("nodes").GetInt64());
        Assert.Equal(2, graph.GetProperty("tombstones").GetInt64());
        Assert.Equal(100, graph.GetProperty("min_products").GetInt32());
        Assert.Equal(16, graph.GetProperty("connectivity_m").GetInt32());
        Assert.Equal(40, graph.GetProperty("expansion_search").GetInt32());
        Assert.True(graph.GetProperty("memory_bytes").GetInt64() > 298 * 8 * sizeof(float));
        Assert.True(graph.GetProperty("disk_bytes").GetInt64() > 298 * 8 * sizeof(float));

        // The table says the same; under the default threshold (50,000) it is exact search, and says why.
        var table = await PsimRunner.RunAsync("info", "--config", config, "--index", path);
        Assert.Contains("index.hnsw.status:", table.Out, StringComparison.Ordinal);
        Assert.Contains("in use", table.Out, StringComparison.Ordinal);
        var exact = await PsimRunner.RunAsync("info", "--index", path, "--json");
        using var exactDoc = JsonDocument.Parse(exact.Out);
        var exactGraph = exactDoc.RootElement.GetProperty("index").GetProperty("hnsw");
        Assert.False(exactGraph.GetProperty("in_use").GetBoolean());
        Assert.StartsWith("exact search: 298 products, under MinProducts (50000)", exactGraph.GetProperty("status").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModelQuantize_BundledModelWithOut_WritesSmallerInt8ModelWithChosenScheme()
    {
        using var dir = new TempDir();
        var output = dir.File("model-int8.onnx");

        var (exit, stdout, stderr) = await PsimRunner.RunAsync("model", "quantize", "--scheme", "u8u8", "--out", output, "--json");

        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal("U8U8", doc.RootElement.GetProperty("scheme").GetString());
        Assert.Equal(output, doc.RootElement.GetProperty("output").GetString());
        Assert.True(new FileInfo(output).Length < doc.RootElement.GetProperty("fp32Bytes").GetInt64());
    }

    [Fact]
    public async Task Eval_PairsWithoutSplit_ExitsTwo()
    {
        using var dir = new TempDir();
        var file = dir.File("x.csv");
        await File.WriteAllTextAsync(file, "id_a,id_b\n");

        var (exit, _, stderr) = await PsimRunner.RunAsync("eval", "--catalog", file, "--matches", file, "--pairs", file);

        Assert.Equal(2, exit);
        Assert.Contains("--split", stderr, StringComparison.Ordinal);
    }
}

[CollectionDefinition("psim", DisableParallelization = true)]
public sealed class PsimCollection;
