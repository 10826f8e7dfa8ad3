using System.ComponentModel.DataAnnotations;
using Google.Protobuf;
using Microsoft.Extensions.AI;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Embeddings.Onnx;
using static ProductSimilarity.Embeddings.Tests.Onnx.VectorAssert;

namespace ProductSimilarity.Embeddings.Tests.Onnx;

[Collection(MiniLmCollection.Name)]
public sealed class OnnxModelLoadingTests(MiniLmFixture fixture)
{
    [Fact]
    public async Task Create_OperatorSuppliedModelAndVocab_EmbedsLikeBundledModel()
    {
        using var folder = new TempDirectory();
        var modelPath = folder.File("operator-model.onnx");
        var vocabPath = folder.File("operator-vocab.txt");
        await File.WriteAllBytesAsync(modelPath, BundledMiniLm.ReadModel());
        CopyBundledVocab(vocabPath);

        string[] texts = ["stainless steel water bottle", "trail running shoes"];
        using (var custom = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { Quantization = OnnxQuantization.None, ModelPath = modelPath, VocabPath = vocabPath, BatchSize = 1, Threads = 1 }))
        {
            var expected = await fixture.Generator.GenerateAsync(texts);
            var actual = await custom.GenerateAsync(texts);

            Assert.Equal(VectorAssert.FileModelId(modelPath), custom.ModelId);
            Assert.Equal(384, custom.Dimensions);
            var metadata = custom.GetService<EmbeddingGeneratorMetadata>();
            Assert.Equal(VectorAssert.FileModelId(modelPath), metadata?.DefaultModelId);
            Assert.Equal(384, metadata?.DefaultModelDimensions);
            for (int i = 0; i < texts.Length; i++)
            {
                Assert.True(Cosine(expected[i].Vector.Span, actual[i].Vector.Span) > 0.9999f);
            }
        }
    }

    [Fact]
    public void Create_MissingModelFile_ThrowsFileNotFoundNamingPath()
    {
        using var folder = new TempDirectory();
        var modelPath = folder.File("missing.onnx");

        var ex = Assert.Throws<FileNotFoundException>(
            () => OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { Quantization = OnnxQuantization.None, ModelPath = modelPath, VocabPath = folder.File("vocab.txt") }));

        Assert.Equal(modelPath, ex.FileName);
        Assert.Contains(modelPath, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_ModelWithoutVocab_ThrowsFileNotFoundNamingDefaultVocabPath()
    {
        using var folder = new TempDirectory();
        var modelPath = folder.File("model.onnx");
        File.WriteAllBytes(modelPath, TinyOnnxModel.IdentityOverInputIds());

        var ex = Assert.Throws<FileNotFoundException>(
            () => OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { Quantization = OnnxQuantization.None, ModelPath = modelPath }));

        Assert.Equal(folder.File("vocab.txt"), ex.FileName);
        Assert.Contains("VocabPath", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ModelWithoutTokenEmbeddingsOutput_ThrowsInvalidOperation()
    {
        using var folder = new TempDirectory();
        var modelPath = folder.File("classifier.onnx");
        File.WriteAllBytes(modelPath, TinyOnnxModel.IdentityOverInputIds());
        CopyBundledVocab(folder.File("vocab.txt"));
        using var generator = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { Quantization = OnnxQuantization.None, ModelPath = modelPath });

        var ex = Assert.Throws<InvalidOperationException>(generator.Load);

        Assert.Contains("last_hidden_state", ex.Message, StringComparison.Ordinal);
        Assert.Contains(modelPath, ex.Message, StringComparison.Ordinal);
        Assert.Contains("logits", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_ModelWithSymbolicHiddenSize_ProbesDimensionsAndUsesOnlyItsInputs()
    {
        using var folder = new TempDirectory();
        var modelPath = folder.File("tiny.onnx");
        File.WriteAllBytes(modelPath, TinyOnnxModel.SymbolicHiddenSizeTokenOutput());
        CopyBundledVocab(folder.File("vocab.txt"));

        using var generator = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { Quantization = OnnxQuantization.None, ModelPath = modelPath, BatchSize = 2 });
        var embeddings = await generator.GenerateAsync(["hello world", "", "a much longer product title here"]);

        Assert.Equal(1, generator.Dimensions);
        Assert.Equal(VectorAssert.FileModelId(modelPath), generator.ModelId);
        Assert.All(embeddings, e => Assert.Equal([1f], e.Vector.ToArray()));
    }

    [Fact]
    public void Create_TwoDifferentFilesWithTheSameName_GetDifferentModelIdsAndARewrittenFileANewOne()
    {
        using var folder = new TempDirectory();
        var first = folder.File(Path.Combine("a", "model.onnx"));
        var second = folder.File(Path.Combine("b", "model.onnx"));
        var copy = folder.File(Path.Combine("c", "model.onnx"));
        foreach (var (path, bytes) in new[] { (first, TinyOnnxModel.SymbolicHiddenSizeTokenOutput()), (second, TinyOnnxModel.TokenProjection().ToByteArray()), (copy, TinyOnnxModel.SymbolicHiddenSizeTokenOutput()) })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
            CopyBundledVocab(Path.Combine(Path.GetDirectoryName(path)!, "vocab.txt"));
        }

        string Id(string path, string? cache = null)
        {
            using var generator = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { Quantization = OnnxQuantization.None, ModelPath = path, CacheDirectory = cache ?? folder.File("cache") });
            return generator.ModelId;
        }

        var firstId = Id(first);
        Assert.Equal(VectorAssert.FileModelId(first), firstId);
        Assert.Matches("^model\\.onnx@[0-9a-f]{12}$", firstId);
        Assert.NotEqual(firstId, Id(second));
        Assert.Equal(firstId, Id(copy)); // the same bytes are the same model, wherever they lie
        Assert.Equal(firstId, Id(first)); // read again (from the stamp the first call left)
        var stamps = Directory.GetFiles(folder.File(Path.Combine("cache", "hashes")), "*.txt");
        Assert.Equal(3, stamps.Length); // one per model path
        Assert.Equal(2, stamps.Count(f => File.ReadAllText(f).EndsWith(firstId[^12..], StringComparison.Ordinal)));

        // The same path rewritten with other weights (as a rerun of psim train does) is another model.
        File.WriteAllBytes(first, TinyOnnxModel.TokenProjection().ToByteArray());
        File.SetLastWriteTimeUtc(first, DateTime.UtcNow.AddMinutes(1));
        Assert.Equal(Id(second), Id(first));
        Assert.Equal(Id(second), Id(first, folder.File("other-cache")));
    }

    [Fact]
    public async Task Create_LoadsNothingUntilFirstUseThenLoadsOnceForConcurrentCallers()
    {
        using var folder = new TempDirectory();
        var modelPath = folder.File("tiny.onnx");
        File.WriteAllBytes(modelPath, TinyOnnxModel.SymbolicHiddenSizeTokenOutput());
        CopyBundledVocab(folder.File("vocab.txt"));

        using var generator = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { Quantization = OnnxQuantization.None, ModelPath = modelPath });
        Assert.False(generator.IsLoaded);
        Assert.Equal(VectorAssert.FileModelId(modelPath), generator.ModelId);
        Assert.False(generator.IsLoaded);

        // Deleting the file proves the first call, not Create, reads it; then many threads race to load it.
        File.Delete(modelPath);
        Assert.Contains(modelPath, Assert.Throws<InvalidOperationException>(generator.Load).Message, StringComparison.Ordinal);

        using var second = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { Quantization = OnnxQuantization.None, ModelPath = CopyTiny(folder) });
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => second.GenerateAsync(["a b c"]))));
        Assert.True(second.IsLoaded);
        Assert.All(results, r => Assert.Equal([1f], r[0].Vector.ToArray()));
    }

    [Fact]
    public void UnknownTokenShare_BeforeAnyEmbedding_ReadsOnlyTheVocabulary()
    {
        using var generator = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions());

        Assert.Equal(0, generator.UnknownTokenShare("wireless earbuds"));
        Assert.True(generator.UnknownTokenShare("\uA66E\uA66E") > 0);
        Assert.False(generator.IsLoaded); // hybrid similar-items ranking asks this, and must not pay for the ONNX session
    }

    private static string CopyTiny(TempDirectory folder)
    {
        var path = folder.File("tiny2.onnx");
        File.WriteAllBytes(path, TinyOnnxModel.SymbolicHiddenSizeTokenOutput());
        return path;
    }

    [Fact]
    public void Create_VocabWithoutModel_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(
            () => OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { Quantization = OnnxQuantization.None, VocabPath = "/somewhere/vocab.txt" }));

        Assert.Contains("ModelPath", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 32)]
    [InlineData(256, 0)]
    public void Create_OutOfRangeOptions_ThrowsValidationException(int maxTokens, int batchSize)
    {
        Assert.Throws<ValidationException>(
            () => OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { Quantization = OnnxQuantization.None, MaxTokens = maxTokens, BatchSize = batchSize }));
    }

    [Fact]
    public async Task GenerateAsync_AfterDispose_ThrowsObjectDisposed()
    {
        var generator = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { Quantization = OnnxQuantization.None });
        generator.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => generator.GenerateAsync(["x"]));
    }

    private static void CopyBundledVocab(string path)
    {
        using var vocab = BundledMiniLm.OpenVocab();
        using var file = File.Create(path);
        vocab.CopyTo(file);
    }
}
