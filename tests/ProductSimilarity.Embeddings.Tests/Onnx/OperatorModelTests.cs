using System.Text.Json;
using Google.Protobuf;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Embeddings;
using ProductSimilarity.Embeddings.Onnx;
using static ProductSimilarity.Embeddings.Tests.Onnx.VectorAssert;

namespace ProductSimilarity.Embeddings.Tests.Onnx;

/// <summary>The operator-model settings (path, tokenizer, pooling, prefixes) and the second bundled model, ArcticXs.</summary>
[Collection(MiniLmCollection.Name)]
public sealed class OperatorModelTests(MiniLmFixture fixture)
{
    private static readonly string[] Texts =
    [
        "Wireless noise cancelling earbuds with charging case",
        "Café au lait mug, 350 ml, stoneware",
        "microsoft office 2007 home and student (3 user license)",
        "A",
    ];

    [Fact]
    public async Task Create_BundledMiniLmThroughModelPath_GivesIdenticalVectors()
    {
        using var folder = new TempDirectory();
        var modelPath = ExportBundled(BundledModel.MiniLm, folder, writeVocab: true);
        using var external = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { Quantization = OnnxQuantization.None, ModelPath = modelPath });

        var expected = await fixture.Generator.GenerateAsync(Texts);
        var actual = await external.GenerateAsync(Texts);

        Assert.Equal(VectorAssert.FileModelId(modelPath), external.ModelId);
        Assert.Equal(OnnxPooling.Mean, external.Pooling);
        for (int i = 0; i < Texts.Length; i++)
        {
            Assert.Equal(expected[i].Vector.ToArray(), actual[i].Vector.ToArray());
        }
    }

    [Fact]
    public async Task Create_TokenizerJsonWordPiece_GivesSameVectorsAsVocabTxt()
    {
        using var folder = new TempDirectory();
        var modelPath = ExportBundled(BundledModel.MiniLm, folder, writeVocab: false);
        await File.WriteAllTextAsync(folder.File("tokenizer.json"), TokenizerJson(BundledModel.MiniLm, lowercase: true));
        using var external = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { Quantization = OnnxQuantization.None, ModelPath = modelPath });

        var expected = await fixture.Generator.GenerateAsync(Texts);
        var actual = await external.GenerateAsync(Texts);

        for (int i = 0; i < Texts.Length; i++)
        {
            Assert.Equal(expected[i].Vector.ToArray(), actual[i].Vector.ToArray());
        }
    }

    [Fact]
    public void Load_TokenizerJsonWithUnigramModel_ThrowsNamingFileAndModelType()
    {
        using var folder = new TempDirectory();
        var modelPath = ExportBundled(BundledModel.MiniLm, folder, writeVocab: false);
        File.WriteAllText(folder.File("tokenizer.json"), """{"model":{"type":"Unigram","vocab":[["<s>",0.0]]}}""");
        using var external = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { Quantization = OnnxQuantization.None, ModelPath = modelPath });

        var ex = Assert.Throws<InvalidDataException>(external.Load);

        Assert.Contains(folder.File("tokenizer.json"), ex.Message, StringComparison.Ordinal);
        Assert.Contains("Unigram", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ArcticXs_ProductTexts_MatchCommittedReferenceVectors()
    {
        using var arctic = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { Quantization = OnnxQuantization.None, Model = OnnxBundledModel.ArcticXs });
        using var reference = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Onnx", "TestData", "arctic-embed-xs-reference.json")));
        var items = reference.RootElement.GetProperty("items").EnumerateArray()
            .Select(e => (Text: e.GetProperty("text").GetString()!, Vector: e.GetProperty("vector").EnumerateArray().Select(v => v.GetSingle()).ToArray()))
            .ToList();

        var actual = await arctic.GenerateAsync(items.Select(i => i.Text));

        Assert.Equal("snowflake-arctic-embed-xs", arctic.ModelId);
        Assert.Equal(OnnxPooling.Cls, arctic.Pooling);
        Assert.Equal(5, items.Count);
        for (int i = 0; i < items.Count; i++)
        {
            UnitLength(actual[i].Vector.Span, 384);
            float cosine = Cosine(items[i].Vector, actual[i].Vector.Span);
            Assert.True(cosine > 0.9999f, $"'{items[i].Text}': cosine {cosine} with the committed reference");
        }
    }

    [Fact]
    public async Task ArcticXs_QueryOptions_PrependQueryPrefixToQueriesOnly()
    {
        using var arctic = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { Quantization = OnnxQuantization.None, Model = OnnxBundledModel.ArcticXs });
        const string text = "usb flash drive 32gb";

        var query = (await arctic.GenerateAsync([text], EmbeddingInput.QueryOptions))[0].Vector.ToArray();
        var passage = (await arctic.GenerateAsync([text]))[0].Vector.ToArray();
        var prefixed = (await arctic.GenerateAsync([arctic.QueryPrefix + text]))[0].Vector.ToArray();

        Assert.Equal("Represent this sentence for searching relevant passages: ", arctic.QueryPrefix);
        Assert.Equal(prefixed, query);
        Assert.True(Cosine(query, passage) < 0.99f);
    }

    [Fact]
    public async Task Create_ArcticXsThroughModelPathWithClsAndPrefixes_MatchesBundledAndAddsPassagePrefix()
    {
        using var folder = new TempDirectory();
        var modelPath = ExportBundled(BundledModel.ArcticXs, folder, writeVocab: true);
        using var bundled = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { Quantization = OnnxQuantization.None, Model = OnnxBundledModel.ArcticXs });
        using var external = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions
        {
            Quantization = OnnxQuantization.None,
            ModelPath = modelPath,
            Pooling = OnnxPooling.Cls,
            QueryPrefix = "query: ",
            PassagePrefix = "passage: ",
        });

        var passages = await external.GenerateAsync(Texts);
        var queries = await external.GenerateAsync(Texts, EmbeddingInput.QueryOptions);
        var expectedPassages = await bundled.GenerateAsync(Texts.Select(t => "passage: " + t));
        var expectedQueries = await bundled.GenerateAsync(Texts.Select(t => "query: " + t));

        for (int i = 0; i < Texts.Length; i++)
        {
            Assert.Equal(expectedPassages[i].Vector.ToArray(), passages[i].Vector.ToArray());
            Assert.Equal(expectedQueries[i].Vector.ToArray(), queries[i].Vector.ToArray());
        }
    }

    [Fact]
    public async Task Create_Int8WithModelPath_CachesQuantisedModelNextToModelAndReusesIt()
    {
        using var folder = new TempDirectory();
        var modelPath = folder.File("projection.onnx");
        await File.WriteAllBytesAsync(modelPath, TinyOnnxModel.TokenProjection().ToByteArray());
        using (var vocab = BundledModel.MiniLm.OpenVocab())
        using (var file = File.Create(folder.File("vocab.txt")))
        {
            await vocab.CopyToAsync(file);
        }

        var options = new OnnxEmbeddingOptions { ModelPath = modelPath, Quantization = OnnxQuantization.Int8, Int8Scheme = OnnxInt8Scheme.ReduceRange };
        using var first = OnnxBertEmbeddingGenerator.Create(options);
        first.Load();
        var cached = first.QuantizedModelPath;
        Assert.NotNull(cached);
        Assert.Equal(folder.Path, Path.GetDirectoryName(cached));
        Assert.Matches(@"^projection\.int8-s7\.v\d+\.[0-9a-f]{12}\.onnx$", Path.GetFileName(cached));
        var written = File.GetLastWriteTimeUtc(cached);

        using var second = OnnxBertEmbeddingGenerator.Create(options);
        second.Load();

        Assert.Equal(cached, second.QuantizedModelPath);
        Assert.Equal(written, File.GetLastWriteTimeUtc(cached));
        Assert.Single(Directory.GetFiles(folder.Path, "*.onnx"), f => f != modelPath);
    }

    [Fact]
    public async Task Load_Int8AlreadyCached_NeverReadsTheFp32Model()
    {
        using var folder = new TempDirectory();
        var modelPath = folder.File("projection.onnx");
        await File.WriteAllBytesAsync(modelPath, TinyOnnxModel.TokenProjection().ToByteArray());
        using (var vocab = BundledModel.MiniLm.OpenVocab())
        using (var file = File.Create(folder.File("vocab.txt")))
        {
            await vocab.CopyToAsync(file);
        }

        var options = new OnnxEmbeddingOptions { ModelPath = modelPath, Quantization = OnnxQuantization.Int8, Int8Scheme = OnnxInt8Scheme.S8, CacheDirectory = folder.File("cache") };
        float[] expected;
        using (var first = OnnxBertEmbeddingGenerator.Create(options))
        {
            expected = (await first.GenerateAsync(["usb flash drive"]))[0].Vector.ToArray();
        }

        // An exclusive lock makes any read of the fp32 file fail, so loading must come from the int8 file and the hash stamp.
        using var locked = new FileStream(modelPath, FileMode.Open, FileAccess.Read, FileShare.None);
        Assert.Throws<IOException>(() => File.ReadAllBytes(modelPath));
        using var second = OnnxBertEmbeddingGenerator.Create(options);

        var vector = (await second.GenerateAsync(["usb flash drive"]))[0].Vector.ToArray();

        Assert.Equal(expected, vector);
    }

    [Fact]
    public async Task Load_BundledFp32_ExtractsTheGraphOnceToTheCacheAndLoadsItFromThere()
    {
        using var cache = new TempDirectory();
        var options = new OnnxEmbeddingOptions { Quantization = OnnxQuantization.None, CacheDirectory = cache.Path };
        using (var first = OnnxBertEmbeddingGenerator.Create(options))
        {
            first.Load();
        }

        var extracted = Assert.Single(Directory.GetFiles(cache.Path, "*.onnx"));
        Assert.Matches(@"^all-MiniLM-L6-v2\.fp32\.[0-9a-f]{12}\.onnx$", Path.GetFileName(extracted));
        using (var resource = BundledModel.MiniLm.OpenModel())
        {
            Assert.Equal(resource.Length, new FileInfo(extracted).Length);
        }

        var written = File.GetLastWriteTimeUtc(extracted);
        using var second = OnnxBertEmbeddingGenerator.Create(options);

        var vectors = await second.GenerateAsync(["usb flash drive"]);
        var reference = await fixture.Generator.GenerateAsync(["usb flash drive"]);

        Assert.Equal(written, File.GetLastWriteTimeUtc(extracted));
        Assert.Equal(reference[0].Vector.ToArray(), vectors[0].Vector.ToArray());
    }

    [Fact]
    public void Load_BundledInt8_CachesInTheConfiguredCacheDirectory()
    {
        var generator = fixture.Int8(OnnxInt8Scheme.ReduceRange);

        generator.Load();

        Assert.Equal(fixture.CacheDirectory.Path, Path.GetDirectoryName(generator.QuantizedModelPath));
        Assert.StartsWith("all-MiniLM-L6-v2.int8-s7.", Path.GetFileName(generator.QuantizedModelPath), StringComparison.Ordinal);
    }

    private static string ExportBundled(BundledModel model, TempDirectory folder, bool writeVocab)
    {
        var modelPath = folder.File("model.onnx");
        File.WriteAllBytes(modelPath, model.ReadModel());
        if (writeVocab)
        {
            using var vocab = model.OpenVocab();
            using var file = File.Create(folder.File("vocab.txt"));
            vocab.CopyTo(file);
        }

        return modelPath;
    }

    private static string TokenizerJson(BundledModel model, bool lowercase)
    {
        using var reader = new StreamReader(model.OpenVocab());
        var vocab = new Dictionary<string, int>();
        int id = 0;
        while (reader.ReadLine() is { } line)
        {
            vocab[line] = id++;
        }

        return JsonSerializer.Serialize(new
        {
            normalizer = new { type = "BertNormalizer", lowercase },
            model = new { type = "WordPiece", unk_token = "[UNK]", vocab },
        });
    }
}
