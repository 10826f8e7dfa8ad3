using System.Numerics.Tensors;
using Microsoft.Extensions.AI;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Embeddings.Onnx;
using ProductSimilarity.Embeddings.Tests.Onnx;
using ProductSimilarity.Embeddings.Training;

namespace ProductSimilarity.Embeddings.Tests.Training;

public sealed class FineTunerTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly string[] Sentences =
    [
        "adobe photoshop elements 4.0 | adobe",
        "Microsoft Office 2007 Home and Student",
        "4K TV 55 inch, HDR10+",
        "café crème machine à expresso",
        "无线蓝牙耳机 降噪",
        "a",
        "quickbooks pro 2007 (win) upgrade - intuit quickbooks professional 2007 for small business accounting with payroll",
    ];

    [SkippableFact]
    public async Task EmbedWithTrainer_UntouchedWeights_MatchesOnnxRuntime()
    {
        Skip.If(TrainingTestData.WhyNoTorch is not null, TrainingTestData.WhyNoTorch);
        using var generator = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { Quantization = OnnxQuantization.None });

        var trainer = await new FineTuner(new PythonTrainer()).EmbedWithTrainerAsync(new OnnxEmbeddingOptions(), Sentences);
        var onnx = await generator.GenerateAsync(Sentences);

        for (int i = 0; i < Sentences.Length; i++)
        {
            var cosine = TensorPrimitives.CosineSimilarity(trainer[i], onnx[i].Vector.Span);
            Assert.True(cosine > 0.9999, $"'{Sentences[i]}': cosine {cosine:0.000000}");
        }
    }

    [SkippableFact]
    public async Task FineTune_TinyPairs_LowersTheLossAndServesTheTrainersVectors()
    {
        Skip.If(TrainingTestData.WhyNoTorch is not null, TrainingTestData.WhyNoTorch);
        using var folder = new TempDirectory();
        var losses = new List<double>();
        var request = new FineTuneRequest
        {
            CatalogPath = TrainingTestData.WriteCatalog(folder.Path),
            Source = TrainingSource.Pairs,
            SourcePath = TrainingTestData.WritePairs(folder.Path, train: 8),
            OutputDirectory = folder.File("out"),
            Epochs = 4,
            BatchSize = 8, // the same 8 pairs every step, so the loss must fall
            LearningRate = 1e-4,
            Patience = 10,
            Force = true,
            Threads = 2,
        };

        var result = await new FineTuner(new PythonTrainer()).FineTuneAsync(request, new OnnxEmbeddingOptions(), new SyncProgress(p =>
        {
            if (p.Stage == "training")
            {
                losses.Add(p.Loss);
            }
        }));

        Assert.Equal(4, losses.Count);
        Assert.True(losses[^1] < losses[0], $"losses {string.Join(", ", losses)}");
        Assert.Equal(8, result.Card.TrainPairs);
        Assert.Equal(2, result.Card.ValidationPairs);
        Assert.Equal("fine-tuned", result.Card.Kind);
        Assert.Equal(64, result.Card.DataHash.Length);
        Assert.Equal(5, result.Card.Validation.Count); // before training + 4 epochs
        Assert.True(File.Exists(Path.Combine(request.OutputDirectory, "vocab.txt")));
        Assert.Equal(result.Card, FineTuner.ReadCard(request.OutputDirectory) with { Validation = result.Card.Validation, Settings = result.Card.Settings });

        // The written ONNX model, loaded fresh, gives the vectors the trainer's own forward pass gives for its weights.
        var trained = new OnnxEmbeddingOptions { ModelPath = result.OutputPath, Quantization = OnnxQuantization.None };
        using var generator = OnnxBertEmbeddingGenerator.Create(trained);
        var served = await generator.GenerateAsync(Sentences);
        var reference = await new FineTuner(new PythonTrainer()).EmbedWithTrainerAsync(trained, Sentences);
        using var bundled = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { Quantization = OnnxQuantization.None });
        var original = await bundled.GenerateAsync(Sentences);
        for (int i = 0; i < Sentences.Length; i++)
        {
            Assert.True(TensorPrimitives.CosineSimilarity(reference[i], served[i].Vector.Span) > 0.9999, Sentences[i]);
        }

        Assert.Contains(Enumerable.Range(0, Sentences.Length), i => TensorPrimitives.CosineSimilarity(original[i].Vector.Span, served[i].Vector.Span) < 0.9999);
    }

    /// <summary>
    /// The acceptance check for a real training run: set PSIM_TRAINED_MODEL to the model.onnx that psim train wrote. This
    /// process loads it fresh, in fp32 and in every int8 scheme a CPU can run by default (Auto here, and the two
    /// saturation-free schemes, which compute the same integers on every x86-64 CPU), and compares each text's vector
    /// with the trainer's own forward pass over its weights: fp32 above 0.999 and int8 at least 0.99, per text.
    /// </summary>
    [SkippableTheory]
    [InlineData(OnnxInt8Scheme.Auto)]
    [InlineData(OnnxInt8Scheme.ReduceRange)]
    [InlineData(OnnxInt8Scheme.U8U8)]
    public async Task TrainedModel_LoadedFresh_GivesTheTrainersVectorsInFp32AndInt8(OnnxInt8Scheme scheme)
    {
        var path = Environment.GetEnvironmentVariable("PSIM_TRAINED_MODEL");
        Skip.If(string.IsNullOrEmpty(path), "Acceptance check: set PSIM_TRAINED_MODEL to a model.onnx from psim train.");
        Skip.If(TrainingTestData.WhyNoTorch is not null, TrainingTestData.WhyNoTorch);
        var texts = TrainingTestData.Products.Select(p => $"{p.Title} | {p.Brand}").Concat(Sentences).ToArray();

        var reference = await new FineTuner(new PythonTrainer()).EmbedWithTrainerAsync(new OnnxEmbeddingOptions { ModelPath = path }, texts);
        using var fp32 = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { ModelPath = path, Quantization = OnnxQuantization.None });
        using var int8 = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { ModelPath = path, Quantization = OnnxQuantization.Int8, Int8Scheme = scheme });
        var a = await fp32.GenerateAsync(texts);
        var b = await int8.GenerateAsync(texts);

        var fp32Cosines = Enumerable.Range(0, texts.Length).Select(i => TensorPrimitives.CosineSimilarity(reference[i], a[i].Vector.Span)).ToList();
        var int8Cosines = Enumerable.Range(0, texts.Length).Select(i => TensorPrimitives.CosineSimilarity(reference[i], b[i].Vector.Span)).ToList();
        output.WriteLine($"PSIM_TRAINED_MODEL parity over {texts.Length} texts: min cosine fp32 {fp32Cosines.Min():0.000000}, {int8.ModelId} min {int8Cosines.Min():0.000000} mean {int8Cosines.Average():0.000000}");
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.True(fp32Cosines[i] > 0.999f, $"fp32: '{texts[i]}': cosine {fp32Cosines[i]:0.000000}");
            Assert.True(int8Cosines[i] >= 0.99f, $"{int8.ModelId}: '{texts[i]}': cosine {int8Cosines[i]:0.000000}");
        }
    }

    [Fact]
    public async Task FineTune_FewerThanFiftyPairs_RefusesUnlessForced()
    {
        using var folder = new TempDirectory();
        var request = new FineTuneRequest
        {
            CatalogPath = TrainingTestData.WriteCatalog(folder.Path),
            Source = TrainingSource.Pairs,
            SourcePath = TrainingTestData.WritePairs(folder.Path, train: 8),
            OutputDirectory = folder.File("out"),
        };

        var ex = await Assert.ThrowsAsync<TooFewPairsException>(() => new FineTuner(new PythonTrainer("/nonexistent/python")).FineTuneAsync(request, new OnnxEmbeddingOptions()));

        Assert.Contains("only 10 usable positive pairs", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--force", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(request.OutputDirectory));
    }

    [Fact]
    public async Task FineTune_PyTorchMissing_SaysHowToInstallIt()
    {
        using var folder = new TempDirectory();
        var request = new FineTuneRequest
        {
            CatalogPath = TrainingTestData.WriteCatalog(folder.Path),
            Source = TrainingSource.Pairs,
            SourcePath = TrainingTestData.WritePairs(folder.Path, train: 8),
            OutputDirectory = folder.File("out"),
            Force = true,
        };

        var ex = await Assert.ThrowsAsync<TrainerUnavailableException>(() => new FineTuner(new PythonTrainer("/nonexistent/python")).FineTuneAsync(request, new OnnxEmbeddingOptions()));

        Assert.Contains("/nonexistent/python", ex.Message, StringComparison.Ordinal);
        Assert.Contains("apt-get install -y python3-torch libopenblas0-pthread", ex.Message, StringComparison.Ordinal);
        Assert.Contains("pip install torch", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoadTrainingSet_PairNamingUnknownId_ReportsFileLineAndId()
    {
        using var folder = new TempDirectory();
        var pairs = TrainingTestData.WritePairs(folder.Path, 8, "p0,ghost-1,1,train", "ghost-2,p3,1,valid", "p4,ghost-3,0,train");
        var request = new FineTuneRequest { CatalogPath = TrainingTestData.WriteCatalog(folder.Path), Source = TrainingSource.Pairs, SourcePath = pairs, OutputDirectory = folder.Path };

        var set = await TrainingSet.LoadAsync(request);

        Assert.Equal([new MissingId(pairs, 12, "ghost-1"), new MissingId(pairs, 13, "ghost-2")], set.Missing); // label-0 rows are not pairs
        Assert.Equal(8, set.Train.Count);
        Assert.Equal(2, set.Validation.Count);
    }

    [Fact]
    public async Task LoadTrainingSet_NoSplitColumn_HoldsOutTheSameValidationPairsForTheSameSeed()
    {
        using var folder = new TempDirectory();
        var pairs = folder.File("pairs.csv");
        File.WriteAllLines(pairs, ["id_a,id_b", .. Enumerable.Range(0, 10).Select(k => $"p{2 * k},p{(2 * k) + 1}")]);
        var request = new FineTuneRequest { CatalogPath = TrainingTestData.WriteCatalog(folder.Path), Source = TrainingSource.Pairs, SourcePath = pairs, OutputDirectory = folder.Path, Seed = 7 };

        var first = await TrainingSet.LoadAsync(request);
        var second = await TrainingSet.LoadAsync(request);

        Assert.Equal(2, first.Validation.Count); // 15% of 10, rounded
        Assert.Equal(8, first.Train.Count);
        Assert.Equal(first.Validation, second.Validation);
        Assert.Empty(first.Validation.Intersect(first.Train));
    }

    [Fact]
    public async Task LoadTrainingSet_Sessions_PairsConsecutiveViewsWithinTheGapAndReportsUnknownIds()
    {
        using var folder = new TempDirectory();
        var log = folder.File("history.csv");
        File.WriteAllLines(log,
        [
            "user,id,event,at",
            "u1,p0,view,2025-01-01T10:00:00Z",
            "u1,p1,view,2025-01-01T10:05:00Z",
            "u1,p2,view,2025-01-01T14:00:00Z", // a new visit: no pair with p1
            "u2,p5,buy,2025-01-02T09:00:00Z",
            "u2,nope,view,2025-01-02T09:01:00Z",
            "u2,p4,view,2025-01-02T09:02:00Z",
        ]);
        var request = new FineTuneRequest { CatalogPath = TrainingTestData.WriteCatalog(folder.Path), Source = TrainingSource.Sessions, SourcePath = log, OutputDirectory = folder.Path, ValidationFraction = 0 };

        var set = await TrainingSet.LoadAsync(request);

        Assert.Equal([(0, 1), (4, 5)], set.Train.Order());
        Assert.Equal([new MissingId(log, 6, "nope")], set.Missing);
    }

    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
