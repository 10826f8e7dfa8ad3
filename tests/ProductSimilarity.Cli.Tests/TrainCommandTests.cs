namespace ProductSimilarity.Cli.Tests;

[Collection("psim")]
public sealed class TrainCommandTests
{
    private const string Catalog = """
        id,title,brand
        A1,Wireless Noise Cancelling Earbuds,Sonic
        A2,Bluetooth Earphones with ANC,Auris
        B1,Chef's Knife 20 cm Stainless Steel,Blade
        B2,Japanese Santoku Kitchen Knife,Kiru
        """;

    [Fact]
    public async Task Train_FewPairsAndAnUnknownId_RefusesAndCountsTheUnknownId()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("catalog.csv"), Catalog);
        File.WriteAllLines(dir.File("pairs.csv"), ["id_a,id_b", "A1,A2", "B1,B2", "B1,GHOST"]);

        var (exit, _, stderr) = await PsimRunner.RunAsync("train", "--catalog", dir.File("catalog.csv"), "--pairs", dir.File("pairs.csv"), "--out", dir.File("out"));

        Assert.Equal(1, exit);
        Assert.Contains("only 2 usable positive pairs", stderr, StringComparison.Ordinal);
        Assert.Contains("1 rows named ids the catalog lacks", stderr, StringComparison.Ordinal);
        Assert.Contains("--force", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir.File("out")));
    }

    [Fact]
    public async Task Train_NoPairSource_ExitsTwo()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("catalog.csv"), Catalog);

        var (exit, _, stderr) = await PsimRunner.RunAsync("train", "--catalog", dir.File("catalog.csv"));

        Assert.Equal(2, exit);
        Assert.Contains("--pairs FILE, --from-groups, --from-sessions FILE or --from-descriptions", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Search_IndexBuiltWithAnotherModel_FailsSayingHowToReembed()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("catalog.csv"), Catalog);
        File.WriteAllText(dir.File("fp32.json"), """{ "ProductSimilarity": { "Embeddings": { "Onnx": { "Quantization": "None" } } } }""");
        var index = dir.File("index");
        Assert.Equal(0, (await PsimRunner.RunAsync("ingest", dir.File("catalog.csv"), "--index", index)).Exit);

        var search = await PsimRunner.RunAsync("search", "earbuds", "--index", index, "--config", dir.File("fp32.json"));
        var ingest = await PsimRunner.RunAsync("ingest", dir.File("catalog.csv"), "--index", index, "--config", dir.File("fp32.json"));
        var keyword = await PsimRunner.RunAsync("search", "earbuds", "--index", index, "--config", dir.File("fp32.json"), "--ranking", "keyword");

        Assert.Equal(1, search.Exit);
        Assert.Contains("'all-MiniLM-L6-v2'", search.Err, StringComparison.Ordinal);
        Assert.Contains("'all-MiniLM-L6-v2-int8", search.Err, StringComparison.Ordinal); // the suffix may name the int8 scheme
        Assert.Contains("psim ingest --reembed", search.Err, StringComparison.Ordinal);
        Assert.Equal(1, ingest.Exit); // ingesting would mix two models' vectors
        Assert.Contains("psim ingest --reembed", ingest.Err, StringComparison.Ordinal);
        Assert.Equal(0, keyword.Exit); // no vectors compared, nothing to mix up
    }

    [Fact]
    public async Task IngestReembed_AfterAModelChange_ReembedsEverythingAndSearchWorksAgain()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("catalog.csv"), Catalog);
        File.WriteAllText(dir.File("fp32.json"), """{ "ProductSimilarity": { "Embeddings": { "Onnx": { "Quantization": "None" } } } }""");
        var index = dir.File("index");
        Assert.Equal(0, (await PsimRunner.RunAsync("ingest", dir.File("catalog.csv"), "--index", index)).Exit);

        var reembed = await PsimRunner.RunAsync("ingest", dir.File("catalog.csv"), "--index", index, "--config", dir.File("fp32.json"), "--reembed");
        var search = await PsimRunner.RunAsync("search", "earbuds", "--index", index, "--config", dir.File("fp32.json"));
        var old = await PsimRunner.RunAsync("search", "earbuds", "--index", index);

        Assert.Equal(0, reembed.Exit);
        Assert.Contains("4 embedded", reembed.Out, StringComparison.Ordinal);
        Assert.Equal(0, search.Exit);
        Assert.Contains("A1", search.Out, StringComparison.Ordinal);
        Assert.Equal(1, old.Exit);
        Assert.Contains("'all-MiniLM-L6-v2-int8", old.Err, StringComparison.Ordinal);
    }
}
