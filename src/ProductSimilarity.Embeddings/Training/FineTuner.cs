using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.Extensions.AI;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Embeddings.Onnx;

namespace ProductSimilarity.Embeddings.Training;

/// <summary>
/// Fine-tunes the local BERT model on a shop's own pairs (<see cref="FineTuneAsync"/>), or learns a linear adapter on
/// frozen vectors from any embedding generator (<see cref="TrainAdapterAsync"/>). The training itself runs in PyTorch
/// (<see cref="PythonTrainer"/>); this class prepares the data, moves the weights in and out of the ONNX graph and
/// writes the model card.
/// </summary>
/// <remarks>Thread-safe for runs into different output folders.</remarks>
public sealed class FineTuner(PythonTrainer trainer)
{
    /// <summary>Fewer training plus validation pairs than this are refused unless forced.</summary>
    public const int MinimumPairs = 50;

    /// <summary>The longest token sequence trained on (embedded texts are titles and brands, far shorter).</summary>
    public const int MaxTrainingTokens = 128;

    /// <summary>Products beyond those in pairs that join validation as distractors, so recall means something.</summary>
    public const int ValidationDistractors = 1000;

    /// <summary>The fine-tuned ONNX model's file name in the output folder.</summary>
    public const string ModelFileName = "model.onnx";

    /// <summary>The adapter's file name in the output folder.</summary>
    public const string AdapterFileName = "adapter.safetensors";

    /// <summary>The model card's file name in the output folder.</summary>
    public const string CardFileName = "model-card.json";

    /// <summary>The list of pair rows that named ids the catalog lacks, in the output folder.</summary>
    public const string MissingIdsFileName = "missing-ids.csv";

    /// <summary>The prefix of the staging folder a run writes into before it moves its files into place.</summary>
    internal const string StagingPrefix = ".psim-partial-";

    private static readonly JsonSerializerOptions CardJson = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Fine-tunes every weight of the local ONNX model and writes <c>model.onnx</c>, <c>vocab.txt</c> and the card.</summary>
    /// <param name="request">The data and settings.</param>
    /// <param name="baseModel">The model to start from: the bundled all-MiniLM-L6-v2 when <see cref="OnnxEmbeddingOptions.ModelPath"/> is unset.</param>
    /// <param name="progress">Receives progress with rate and ETA.</param>
    /// <param name="cancellationToken">Stops the trainer.</param>
    /// <exception cref="TrainerUnavailableException">PyTorch is missing; the message says how to install it.</exception>
    /// <exception cref="TooFewPairsException">Fewer than <see cref="MinimumPairs"/> pairs and not forced.</exception>
    public async Task<FineTuneResult> FineTuneAsync(FineTuneRequest request, OnnxEmbeddingOptions baseModel, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(baseModel);
        progress?.Report(new TrainingProgress("preparing", 0, 0, 0, 0, 0, null, null));
        var set = await TrainingSet.LoadAsync(request, cancellationToken).ConfigureAwait(false);
        EnsureEnough(set, request);
        var torch = await trainer.CheckAsync(cancellationToken).ConfigureAwait(false);

        var (modelBytes, vocabPath, baseName) = ReadBaseModel(baseModel);
        var model = OnnxBertWeights.Parse(modelBytes);
        var weights = OnnxBertWeights.Extract(model);
        var shape = OnnxBertWeights.ReadShape(model, weights);
        BertInputEncoder encoder;
        using (var vocab = vocabPath is null ? BundledMiniLm.OpenVocab() : File.OpenRead(vocabPath))
        {
            encoder = new BertInputEncoder(BertInputEncoder.CreateUncasedTokenizer(vocab), Math.Min(Math.Min(baseModel.MaxTokens, MaxTrainingTokens), shape.Positions));
        }

        var work = Directory.CreateTempSubdirectory("psim-train-");
        string? staging = null;
        try
        {
            var (positions, data) = Subset(set, request.Seed);
            var tokens = positions.Select(i => encoder.Encode(set.Texts[i])).ToList();
            var dataPath = Path.Combine(work.FullName, "data.json");
            var dataHash = WriteData(dataPath, tokens, data);
            var (weightsPath, configPath) = await WriteModelAsync(work.FullName, weights, shape, cancellationToken).ConfigureAwait(false);
            var run = await RunAsync("finetune", ["--weights", weightsPath, "--config", configPath, "--data", dataPath], request, work.FullName, progress, cancellationToken).ConfigureAwait(false);

            progress?.Report(new TrainingProgress("writing", run.BestEpoch, 0, 0, 0, 0, null, null));
            OnnxBertWeights.Apply(model, SafeTensors.Read(Path.Combine(work.FullName, "trained.safetensors")));
            staging = Stage(request.OutputDirectory);
            await File.WriteAllBytesAsync(Path.Combine(staging, ModelFileName), model.ToByteArray(), cancellationToken).ConfigureAwait(false);
            await using (var vocab = vocabPath is null ? BundledMiniLm.OpenVocab() : File.OpenRead(vocabPath))
            await using (var copy = File.Create(Path.Combine(staging, "vocab.txt")))
            {
                await vocab.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
            }

            var result = await FinishAsync("fine-tuned", baseName, dataHash, set, request, run, torch, ModelFileName, staging, cancellationToken).ConfigureAwait(false);
            Publish(staging, request.OutputDirectory);
            return result;
        }
        finally
        {
            work.Delete(recursive: true);
            DeleteStaging(staging);
        }
    }

    /// <summary>
    /// Learns an identity-initialised linear map on the frozen vectors of <paramref name="generator"/> (any provider),
    /// with the same loss and early stopping, and writes <c>adapter.safetensors</c> and the card.
    /// </summary>
    /// <param name="request">The data and settings.</param>
    /// <param name="generator">The frozen embedding generator, without any adapter.</param>
    /// <param name="progress">Receives progress.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    public async Task<FineTuneResult> TrainAdapterAsync(FineTuneRequest request, IEmbeddingGenerator<string, Embedding<float>> generator, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(generator);
        progress?.Report(new TrainingProgress("preparing", 0, 0, 0, 0, 0, null, null));
        var set = await TrainingSet.LoadAsync(request, cancellationToken).ConfigureAwait(false);
        EnsureEnough(set, request);
        var torch = await trainer.CheckAsync(cancellationToken).ConfigureAwait(false);
        var baseName = generator.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelId ?? generator.GetType().Name;

        var work = Directory.CreateTempSubdirectory("psim-adapter-");
        string? staging = null;
        try
        {
            var (positions, data) = Subset(set, request.Seed);
            var texts = positions.Select(i => set.Texts[i]).ToList();
            var embeddings = await generator.GenerateAsync(texts, cancellationToken: cancellationToken).ConfigureAwait(false);
            int dim = embeddings[0].Vector.Length;
            var vectors = new float[texts.Count * dim];
            for (int i = 0; i < embeddings.Count; i++)
            {
                embeddings[i].Vector.Span.CopyTo(vectors.AsSpan(i * dim, dim));
            }

            var vectorsPath = Path.Combine(work.FullName, "vectors.f32");
            await File.WriteAllBytesAsync(vectorsPath, MemoryMarshal.AsBytes(vectors.AsSpan()).ToArray(), cancellationToken).ConfigureAwait(false);
            var dataPath = Path.Combine(work.FullName, "data.json");
            var dataHash = WriteData(dataPath, null, data, vectors);

            var run = await RunAsync("adapter", ["--vectors", vectorsPath, "--dim", dim.ToString(CultureInfo.InvariantCulture), "--data", dataPath], request, work.FullName, progress, cancellationToken).ConfigureAwait(false);
            staging = Stage(request.OutputDirectory);
            File.Copy(Path.Combine(work.FullName, AdapterFileName), Path.Combine(staging, AdapterFileName));
            var result = await FinishAsync("adapter", baseName, dataHash, set, request, run, torch, AdapterFileName, staging, cancellationToken).ConfigureAwait(false);
            Publish(staging, request.OutputDirectory);
            return result;
        }
        finally
        {
            work.Delete(recursive: true);
            DeleteStaging(staging);
        }
    }

    /// <summary>
    /// Embeds <paramref name="texts"/> with the trainer's own PyTorch forward pass over the weights of an ONNX model: the
    /// check that what was trained is what ONNX Runtime serves.
    /// </summary>
    /// <param name="model">The ONNX model (see <see cref="OnnxEmbeddingOptions.ModelPath"/>; unset: the bundled model).</param>
    /// <param name="texts">The texts.</param>
    /// <param name="cancellationToken">Stops the trainer.</param>
    /// <returns>One L2-normalised vector per text.</returns>
    public async Task<float[][]> EmbedWithTrainerAsync(OnnxEmbeddingOptions model, IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(texts);
        await trainer.CheckAsync(cancellationToken).ConfigureAwait(false);
        var (modelBytes, vocabPath, _) = ReadBaseModel(model);
        var proto = OnnxBertWeights.Parse(modelBytes);
        var weights = OnnxBertWeights.Extract(proto);
        var shape = OnnxBertWeights.ReadShape(proto, weights);
        BertInputEncoder encoder;
        using (var vocab = vocabPath is null ? BundledMiniLm.OpenVocab() : File.OpenRead(vocabPath))
        {
            encoder = new BertInputEncoder(BertInputEncoder.CreateUncasedTokenizer(vocab), Math.Min(model.MaxTokens, shape.Positions));
        }

        var work = Directory.CreateTempSubdirectory("psim-embed-");
        try
        {
            var (weightsPath, configPath) = await WriteModelAsync(work.FullName, weights, shape, cancellationToken).ConfigureAwait(false);
            var tokensPath = Path.Combine(work.FullName, "tokens.json");
            await File.WriteAllBytesAsync(tokensPath, JsonSerializer.SerializeToUtf8Bytes(texts.Select(encoder.Encode).ToList()), cancellationToken).ConfigureAwait(false);
            var outPath = Path.Combine(work.FullName, "vectors.f32");
            await trainer.RunAsync(PythonTrainer.WriteScript(work.FullName), ["embed", "--weights", weightsPath, "--config", configPath, "--tokens", tokensPath, "--out", outPath], _ => { }, cancellationToken).ConfigureAwait(false);
            var values = MemoryMarshal.Cast<byte, float>(await File.ReadAllBytesAsync(outPath, cancellationToken).ConfigureAwait(false)).ToArray();
            return [.. values.Chunk(shape.Hidden)];
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>Reads the model card in <paramref name="directory"/>.</summary>
    public static ModelCard ReadCard(string directory) =>
        JsonSerializer.Deserialize<ModelCard>(File.ReadAllText(Path.Combine(directory, CardFileName)), CardJson)
        ?? throw new InvalidDataException($"'{Path.Combine(directory, CardFileName)}' is empty.");

    private static void EnsureEnough(TrainingSet set, FineTuneRequest request)
    {
        int pairs = set.Train.Count + set.Validation.Count;
        if (set.Train.Count == 0 || (pairs < MinimumPairs && !request.Force))
        {
            var missing = set.Missing.Count > 0 ? $" ({set.Missing.Count} rows named ids the catalog lacks)" : string.Empty;
            throw new TooFewPairsException(
                $"only {pairs} usable positive pairs from {set.Source}{missing}; fine-tuning on fewer than {MinimumPairs} is more likely to hurt than help. " +
                (set.Train.Count == 0 ? "There is nothing to train on." : "Add pairs, or pass --force to train anyway."));
        }
    }

    private static async Task<(string Weights, string Config)> WriteModelAsync(string work, Dictionary<string, FloatTensor> weights, BertShape shape, CancellationToken cancellationToken)
    {
        var weightsPath = Path.Combine(work, "weights.safetensors");
        SafeTensors.Write(weightsPath, weights);
        var configPath = Path.Combine(work, "config.json");
        await File.WriteAllTextAsync(configPath, JsonSerializer.Serialize(new Dictionary<string, int>
        {
            ["vocab"] = shape.Vocab,
            ["positions"] = shape.Positions,
            ["token_types"] = shape.TokenTypes,
            ["hidden"] = shape.Hidden,
            ["intermediate"] = shape.Intermediate,
            ["layers"] = shape.Layers,
            ["heads"] = shape.Heads,
        }), cancellationToken).ConfigureAwait(false);
        return (weightsPath, configPath);
    }

    private static (byte[] Model, string? VocabPath, string Name) ReadBaseModel(OnnxEmbeddingOptions options)
    {
        // The trainer's forward pass is mean pooling over uncased WordPiece ids with no prefixes; refuse what it would not reproduce.
        bool bundledOther = string.IsNullOrWhiteSpace(options.ModelPath) && options.Model != OnnxBundledModel.MiniLM;
        if (bundledOther || options.Pooling == OnnxPooling.Cls || options.LowerCase == false
            || !string.IsNullOrEmpty(options.QueryPrefix) || !string.IsNullOrEmpty(options.PassagePrefix))
        {
            throw new InvalidOperationException(
                "psim train fine-tunes mean-pooled, uncased BERT models without query or passage prefixes (the bundled MiniLM or such a model at Onnx:ModelPath); " +
                "the configured model is not one. Use psim train --adapter to adapt its frozen vectors instead.");
        }

        if (string.IsNullOrWhiteSpace(options.ModelPath))
        {
            return (BundledMiniLm.ReadModel(), null, BundledMiniLm.ModelId);
        }

        var modelPath = Path.GetFullPath(options.ModelPath);
        var vocabPath = string.IsNullOrWhiteSpace(options.VocabPath) ? Path.Combine(Path.GetDirectoryName(modelPath) ?? ".", "vocab.txt") : Path.GetFullPath(options.VocabPath);
        if (!File.Exists(modelPath))
        {
            throw new FileNotFoundException($"The base ONNX model '{modelPath}' does not exist.", modelPath);
        }

        if (!File.Exists(vocabPath))
        {
            throw new FileNotFoundException($"The WordPiece vocabulary '{vocabPath}' for base model '{modelPath}' does not exist.", vocabPath);
        }

        return (File.ReadAllBytes(modelPath), vocabPath, modelPath);
    }

    /// <summary>The products the trainer sees: those in pairs, then distractors for validation; pairs renumbered.</summary>
    private static (List<int> Positions, TrainerData Data) Subset(TrainingSet set, int seed)
    {
        var index = new Dictionary<int, int>();
        var positions = new List<int>();
        int Map(int p)
        {
            if (!index.TryGetValue(p, out var i))
            {
                index[p] = i = positions.Count;
                positions.Add(p);
            }

            return i;
        }

        var train = set.Train.Select(p => new[] { Map(p.A), Map(p.B) }).ToList();
        var valid = set.Validation.Select(p => new[] { Map(p.A), Map(p.B) }).ToList();

        // Validation ranks the validation products among themselves plus a fixed random sample of the rest of the catalog.
        var candidates = new HashSet<int>(valid.SelectMany(p => p));
        var rng = new Random(seed);
        foreach (var p in Enumerable.Range(0, set.Texts.Count).Where(p => !candidates.Contains(index.GetValueOrDefault(p, -1))).OrderBy(_ => rng.Next()).Take(ValidationDistractors))
        {
            candidates.Add(Map(p));
        }

        return (positions, new TrainerData(train, valid, [.. candidates.Order()]));
    }

    private static string WriteData(string path, IReadOnlyList<int[]>? tokens, TrainerData data, float[]? vectors = null)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
        {
            ["texts"] = tokens,
            ["train"] = data.Train,
            ["valid"] = data.Valid,
            ["candidates"] = data.Candidates,
        });
        File.WriteAllBytes(path, json);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(json);
        if (vectors is not null)
        {
            sha.AppendData(MemoryMarshal.AsBytes(vectors.AsSpan()));
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private async Task<TrainerRun> RunAsync(string mode, string[] inputs, FineTuneRequest request, string work, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        var script = PythonTrainer.WriteScript(work);
        string[] arguments =
        [
            mode, .. inputs, "--out", work,
            "--epochs", request.Epochs.ToString(CultureInfo.InvariantCulture),
            "--batch", request.BatchSize.ToString(CultureInfo.InvariantCulture),
            "--lr", request.LearningRate.ToString("R", CultureInfo.InvariantCulture),
            "--seed", request.Seed.ToString(CultureInfo.InvariantCulture),
            "--threads", request.Threads.ToString(CultureInfo.InvariantCulture),
            "--patience", request.Patience.ToString(CultureInfo.InvariantCulture),
        ];
        var metrics = new List<EpochMetrics>();
        int bestEpoch = 0;
        double seconds = 0;
        var stopwatch = Stopwatch.StartNew();
        await trainer.RunAsync(script, arguments, e =>
        {
            switch (e.GetProperty("event").GetString())
            {
                case "step":
                    int step = e.GetProperty("step").GetInt32(), steps = e.GetProperty("steps").GetInt32();
                    double elapsed = e.GetProperty("elapsed").GetDouble();
                    double rate = elapsed > 0 ? step / elapsed : 0;
                    TimeSpan? eta = rate > 0 ? TimeSpan.FromSeconds((steps - step) / rate) : null;
                    progress?.Report(new TrainingProgress("training", e.GetProperty("epoch").GetInt32(), step, steps, e.GetProperty("loss").GetDouble(), rate, eta, null));
                    break;
                case "epoch":
                    var m = new EpochMetrics(e.GetProperty("epoch").GetInt32(), e.GetProperty("recall@1").GetDouble(), e.GetProperty("mrr@10").GetDouble());
                    metrics.Add(m);
                    progress?.Report(new TrainingProgress("validating", m.Epoch, 0, 0, 0, 0, null, m));
                    break;
                case "done":
                    bestEpoch = e.GetProperty("best_epoch").GetInt32();
                    seconds = e.GetProperty("seconds").GetDouble();
                    break;
                default:
                    break;
            }
        }, cancellationToken).ConfigureAwait(false);
        return new TrainerRun(metrics, bestEpoch, seconds > 0 ? seconds : stopwatch.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// A fresh staging folder inside <paramref name="outputDirectory"/> (so the final moves are renames on one file
    /// system), after removing any a killed run left behind.
    /// </summary>
    private static string Stage(string outputDirectory)
    {
        Directory.CreateDirectory(outputDirectory);
        foreach (var stale in Directory.GetDirectories(outputDirectory, StagingPrefix + "*"))
        {
            Directory.Delete(stale, recursive: true);
        }

        return Directory.CreateDirectory(Path.Combine(outputDirectory, StagingPrefix + Guid.NewGuid().ToString("N"))).FullName;
    }

    /// <summary>
    /// Moves every staged file into <paramref name="outputDirectory"/> by rename. The old card goes first and the new
    /// card last, so a folder whose card exists always holds whole files of the run the card describes; a run
    /// interrupted before this point leaves the folder as it was.
    /// </summary>
    private static void Publish(string staging, string outputDirectory)
    {
        File.Delete(Path.Combine(outputDirectory, CardFileName));
        if (!File.Exists(Path.Combine(staging, MissingIdsFileName)))
        {
            File.Delete(Path.Combine(outputDirectory, MissingIdsFileName));
        }

        foreach (var file in Directory.GetFiles(staging).OrderBy(f => Path.GetFileName(f) == CardFileName))
        {
            File.Move(file, Path.Combine(outputDirectory, Path.GetFileName(file)), overwrite: true);
        }
    }

    private static void DeleteStaging(string? staging)
    {
        if (staging is not null && Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    private static async Task<FineTuneResult> FinishAsync(string kind, string baseName, string dataHash, TrainingSet set, FineTuneRequest request, TrainerRun run, string torch, string outputFile, string staging, CancellationToken cancellationToken)
    {
        var card = new ModelCard
        {
            Kind = kind,
            BaseModel = baseName,
            DataHash = dataHash,
            Source = set.Source,
            TrainPairs = set.Train.Count,
            ValidationPairs = set.Validation.Count,
            MissingIds = set.Missing.Count,
            Epochs = request.Epochs,
            BestEpoch = run.BestEpoch,
            Validation = run.Metrics,
            Settings = new Dictionary<string, string>
            {
                ["batchSize"] = request.BatchSize.ToString(CultureInfo.InvariantCulture),
                ["learningRate"] = request.LearningRate.ToString("R", CultureInfo.InvariantCulture),
                ["seed"] = request.Seed.ToString(CultureInfo.InvariantCulture),
                ["maxTokens"] = MaxTrainingTokens.ToString(CultureInfo.InvariantCulture),
                ["loss"] = "symmetric in-batch negatives, scale 20",
            },
            TrainingSeconds = Math.Round(run.Seconds, 1),
            Torch = torch,
            Date = DateTimeOffset.UtcNow,
        };
        await File.WriteAllTextAsync(Path.Combine(staging, CardFileName), JsonSerializer.Serialize(card, CardJson), cancellationToken).ConfigureAwait(false);
        if (set.Missing.Count > 0)
        {
            await File.WriteAllLinesAsync(Path.Combine(staging, MissingIdsFileName), ["file,line,id", .. set.Missing.Select(m => $"{m.File},{m.Line},{m.Id}")], cancellationToken).ConfigureAwait(false);
        }

        return new FineTuneResult(card, Path.Combine(request.OutputDirectory, outputFile), set.Missing);
    }

    private sealed record TrainerData(List<int[]> Train, List<int[]> Valid, int[] Candidates);

    private sealed record TrainerRun(List<EpochMetrics> Metrics, int BestEpoch, double Seconds);
}
