using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Embeddings.Training;

namespace ProductSimilarity.Cli.Commands;

/// <summary>
/// <c>psim train</c>: fine-tunes the local embedding model on the shop's own positive pairs (or, with <c>--adapter</c>,
/// learns a linear adapter on the configured model's frozen vectors) and writes a model the other commands load.
/// </summary>
internal static class TrainCommand
{
    public static Command Create(CliConsole console)
    {
        var catalog = new Option<FileInfo>("--catalog") { Description = "Catalog with the products (any format psim ingest reads).", Required = true };
        var pairs = new Option<FileInfo?>("--pairs") { Description = "CSV of positive pairs id_a,id_b[,label][,split]: label 0 rows are skipped; split train/valid is used as given (test is never trained on); without a split, 15% are held out for validation by --seed." };
        var groups = new Option<bool>("--from-groups") { Description = "Use products that share a group_id (variants) as positives." };
        var sessions = new Option<FileInfo?>("--from-sessions") { Description = "History CSV user,id,event,at: products one user viewed or bought within 30 minutes of each other are positives." };
        var descriptions = new Option<bool>("--from-descriptions") { Description = $"Pair each product's title (and brand) with the first {TrainingSet.DescriptionChars} characters of its own description: needs no labels." };
        var epochs = new Option<int>("--epochs") { Description = "Most epochs (1-50); the best epoch on validation is kept.", DefaultValueFactory = _ => 3 };
        var batch = new Option<int>("--batch-size") { Description = "Pairs per batch (2-1024); the other pairs in a batch are the negatives.", DefaultValueFactory = _ => 64 };
        var rate = new Option<double?>("--learning-rate") { Description = "Peak AdamW learning rate. Default: 2e-5 for fine-tuning, 1e-3 for --adapter." };
        var seed = new Option<int>("--seed") { Description = "Seed for the validation hold-out and the batch order.", DefaultValueFactory = _ => 42 };
        var output = new Option<DirectoryInfo>("--out") { Description = "Output folder: model.onnx + vocab.txt (or adapter.safetensors) and model-card.json.", DefaultValueFactory = _ => new DirectoryInfo("psim-model"), HelpName = "DIR" };
        var adapter = new Option<bool>("--adapter") { Description = "Learn a linear adapter on the configured model's frozen vectors (works for Azure OpenAI too) instead of fine-tuning the local model." };
        var force = new Option<bool>("--force") { Description = $"Train even with fewer than {FineTuner.MinimumPairs} pairs." };
        var python = new Option<string?>("--python") { Description = $"Python 3 with PyTorch 1.13+. Default: {PythonTrainer.DefaultPython} when present, else python3 on PATH.", HelpName = "PATH" };
        var threads = new Option<int>("--threads") { Description = "Trainer threads (0: all cores).", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print the model card as one JSON object." };
        var command = new Command("train", "Fine-tune the embedding model on your own match pairs, variant groups or browsing sessions (PyTorch on CPU), and write an ONNX model psim and the Functions app load.")
        {
            catalog, pairs, groups, sessions, descriptions, epochs, batch, rate, seed, output, adapter, force, python, threads, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            var catalogFile = parse.GetRequiredValue(catalog);
            var pairsFile = parse.GetValue(pairs);
            var sessionsFile = parse.GetValue(sessions);
            var fromGroups = parse.GetValue(groups);
            var fromDescriptions = parse.GetValue(descriptions);
            if ((pairsFile is null ? 0 : 1) + (sessionsFile is null ? 0 : 1) + (fromGroups ? 1 : 0) + (fromDescriptions ? 1 : 0) != 1)
            {
                throw new CliException("give exactly one of --pairs FILE, --from-groups, --from-sessions FILE or --from-descriptions.", ExitCodes.Usage);
            }

            foreach (var f in new[] { catalogFile, pairsFile, sessionsFile })
            {
                if (f is { Exists: false })
                {
                    throw new CliException($"file '{f.FullName}' was not found.", ExitCodes.Usage);
                }
            }

            if (parse.GetValue(epochs) is < 1 or > 50 || parse.GetValue(batch) is < 2 or > 1024)
            {
                throw new CliException("--epochs must be 1-50 and --batch-size 2-1024.", ExitCodes.Usage);
            }

            var isAdapter = parse.GetValue(adapter);
            var request = new FineTuneRequest
            {
                CatalogPath = catalogFile.FullName,
                Source = pairsFile is not null ? TrainingSource.Pairs : sessionsFile is not null ? TrainingSource.Sessions
                    : fromDescriptions ? TrainingSource.Descriptions : TrainingSource.Groups,
                SourcePath = (pairsFile ?? sessionsFile)?.FullName,
                OutputDirectory = parse.GetRequiredValue(output).FullName,
                Epochs = parse.GetValue(epochs),
                BatchSize = parse.GetValue(batch),
                LearningRate = parse.GetValue(rate) ?? (isAdapter ? 1e-3 : 2e-5),
                Seed = parse.GetValue(seed),
                Force = parse.GetValue(force),
                Threads = parse.GetValue(threads),
            };

            // The adapter learns on the bare model's vectors, so any configured adapter is left out here.
            await using var services = CliHost.Build(PsimApp.Globals(parse), new Dictionary<string, string?> { [AdapterKey] = string.Empty });
            var tuner = new FineTuner(new PythonTrainer(parse.GetValue(python)));
            var progress = new TrainingPrinter(console);
            var stopwatch = Stopwatch.StartNew();
            FineTuneResult result;
            try
            {
                result = await TrainAsync(tuner, request, isAdapter, services, progress, ct).ConfigureAwait(false);
            }
            catch (FormatException ex)
            {
                throw new CliException(ex.Message, ExitCodes.Usage);
            }

            progress.Finish();
            ReportMissing(console, result, request.OutputDirectory);
            if (parse.GetValue(json))
            {
                console.WriteJson(result.Card);
                return ExitCodes.Ok;
            }

            var best = result.Card.Validation.FirstOrDefault(m => m.Epoch == result.Card.BestEpoch);
            var before = result.Card.Validation.FirstOrDefault(m => m.Epoch == 0);
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"trained on {result.Card.TrainPairs} pairs ({result.Card.ValidationPairs} validation) from {result.Card.Source} in {result.Card.TrainingSeconds:0} s ({stopwatch.Elapsed.TotalSeconds:0} s in all)."));
            if (best is not null && before is not null)
            {
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"validation recall@1 {before.RecallAt1:0.000} -> {best.RecallAt1:0.000}, MRR@10 {before.MrrAt10:0.000} -> {best.MrrAt10:0.000} (best epoch {result.Card.BestEpoch} of {result.Card.Validation.Count - 1})."));
            }

            console.Out.WriteLine($"wrote {result.OutputPath} and {Path.Combine(request.OutputDirectory, FineTuner.CardFileName)}.");
            console.Out.WriteLine(isAdapter
                ? $"use it with {AdapterKey}={result.OutputPath}, then 'psim ingest --reembed FILE'."
                : $"use it with --model {result.OutputPath} (psim eval/bench) or ProductSimilarity:Embeddings:Onnx:ModelPath={result.OutputPath}, then 'psim ingest --reembed FILE'.");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<FineTuneResult> TrainAsync(FineTuner tuner, FineTuneRequest request, bool isAdapter, IServiceProvider services, TrainingPrinter progress, CancellationToken ct)
    {
        if (isAdapter)
        {
            return await tuner.TrainAdapterAsync(request, services.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>(), progress, ct).ConfigureAwait(false);
        }

        var options = services.GetRequiredService<IOptions<ProductSimilarityOptions>>().Value.Embeddings;
        if (options.Provider != EmbeddingProvider.Onnx)
        {
            throw new CliException($"full fine-tuning needs the local ONNX model, but ProductSimilarity:Embeddings:Provider is {options.Provider}; use --adapter to adapt hosted embeddings.", ExitCodes.Usage);
        }

        return await tuner.FineTuneAsync(request, options.Onnx, progress, ct).ConfigureAwait(false);
    }

    /// <summary>The configuration key of the adapter applied on top of the embedding model.</summary>
    public const string AdapterKey = "ProductSimilarity:Embeddings:AdapterPath";

    private static void ReportMissing(CliConsole console, FineTuneResult result, string outputDirectory)
    {
        if (result.Missing.Count == 0)
        {
            return;
        }

        var first = result.Missing[0];
        console.Note($"warning: {result.Missing.Count} id(s) in the pairs are not in the catalog and those pairs were skipped " +
            $"(first: {Path.GetFileName(first.File)} line {first.Line}, id '{first.Id}'); all listed in {Path.Combine(outputDirectory, FineTuner.MissingIdsFileName)}.");
    }

    /// <summary>Progress on stderr: the step, loss, rate and ETA while training; the validation metrics after each epoch.</summary>
    private sealed class TrainingPrinter(CliConsole console) : IProgress<TrainingProgress>
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private TimeSpan? _last;
        private bool _drew;

        public void Report(TrainingProgress value)
        {
            switch (value.Stage)
            {
                case "training":
                    var interval = console.ErrorIsTerminal ? TimeSpan.FromMilliseconds(200) : TimeSpan.FromSeconds(10);
                    if (_last is { } previous && _clock.Elapsed - previous < interval && value.Step != value.Steps)
                    {
                        return;
                    }

                    _last = _clock.Elapsed;
                    var eta = value.Eta is { } e ? $"{(int)e.TotalMinutes}m{e.Seconds:00}s" : "?";
                    Write(string.Create(CultureInfo.InvariantCulture,
                        $"epoch {value.Epoch}: step {value.Step}/{value.Steps}, loss {value.Loss:0.0000}, {value.StepsPerSecond:0.00} steps/s, ETA {eta}"));
                    break;
                case "validating" when value.Metrics is { } m:
                    EndLine();
                    console.Note(string.Create(CultureInfo.InvariantCulture,
                        $"{(m.Epoch == 0 ? "before training" : $"epoch {m.Epoch}")}: validation recall@1 {m.RecallAt1:0.000}, MRR@10 {m.MrrAt10:0.000}"));
                    break;
                default:
                    EndLine();
                    console.Note($"{value.Stage}...");
                    break;
            }
        }

        public void Finish() => EndLine();

        private void Write(string line)
        {
            if (console.ErrorIsTerminal)
            {
                console.Error.Write("\r" + line.PadRight(Math.Min(Console.WindowWidth - 1, 100)));
                _drew = true;
            }
            else
            {
                console.Error.WriteLine(line);
            }
        }

        private void EndLine()
        {
            if (_drew)
            {
                console.Error.WriteLine();
                _drew = false;
            }
        }
    }
}
