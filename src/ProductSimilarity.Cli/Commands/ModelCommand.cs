using System.CommandLine;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Embeddings.Onnx;

namespace ProductSimilarity.Cli.Commands;

/// <summary><c>psim model quantize</c>: writes the int8 form of the bundled, an operator-supplied or a fine-tuned ONNX model.</summary>
internal static class ModelCommand
{
    public static Command Create(CliConsole console)
    {
        var model = new Option<FileInfo?>("--model") { Description = "ONNX model to quantise. Default: ProductSimilarity:Embeddings:Onnx:ModelPath, else the bundled model (Embeddings:Onnx:Model)." };
        var scheme = new Option<OnnxInt8Scheme?>("--scheme") { Description = "auto, s8, reducerange or u8u8. Default: ProductSimilarity:Embeddings:Onnx:Int8Scheme (auto: s8 with VNNI, else reducerange)." };
        var output = new Option<FileInfo?>("--out") { Description = "Output file. Default: the int8 cache, the file psim uses with Quantization=Int8 (next to the model, or the cache folder)." };
        var json = PsimApp.JsonOption();
        var quantize = new Command("quantize", "Quantise an ONNX embedding model to int8 (dynamic, per-column weights) for faster CPU inference.") { model, scheme, output, json };
        quantize.SetAction(async (parse, ct) =>
        {
            OnnxEmbeddingOptions onnx;
            await using (var services = CliHost.Build(PsimApp.Globals(parse)))
            {
                onnx = services.GetRequiredService<IOptions<ProductSimilarityOptions>>().Value.Embeddings.Onnx;
            }

            var modelPath = parse.GetValue(model)?.FullName ?? (string.IsNullOrWhiteSpace(onnx.ModelPath) ? null : Path.GetFullPath(onnx.ModelPath));
            if (modelPath is not null && !File.Exists(modelPath))
            {
                throw new CliException($"model file '{modelPath}' was not found.", ExitCodes.Usage);
            }

            var bundled = modelPath is null ? BundledModel.Get(onnx.Model) : null;
            var choice = Int8SchemeSelector.Choose(parse.GetValue(scheme) ?? onnx.Int8Scheme, CpuInt8Features.Current);
            var name = bundled is not null ? $"{bundled.ModelId} (bundled)" : modelPath!;
            var start = Stopwatch.GetTimestamp();
            var origin = bundled is not null ? OnnxModelOrigin.ForBundled(bundled) : OnnxModelOrigin.ForFile(modelPath!, onnx.CacheDirectory);
            long fp32Bytes;
            using (var fp32 = bundled?.OpenModel() ?? File.OpenRead(modelPath!))
            {
                fp32Bytes = fp32.Length;
            }

            string? written;
            long int8Bytes;
            if (parse.GetValue(output) is { } file)
            {
                var int8 = QuantizedModelCache.Quantize(origin.ReadAll(), choice.Scheme, name);
                Directory.CreateDirectory(file.DirectoryName ?? ".");
                await File.WriteAllBytesAsync(file.FullName, int8, ct).ConfigureAwait(false);
                written = file.FullName;
                int8Bytes = int8.LongLength;
            }
            else
            {
                var prepared = QuantizedModelCache.Prepare(origin, choice.Scheme, onnx.CacheDirectory, name);
                written = prepared.QuantizedPath
                    ?? throw new CliException($"no folder could be written for the int8 model of '{name}'; pass --out FILE.");
                int8Bytes = new FileInfo(written).Length;
            }

            var result = new
            {
                model = name,
                scheme = choice.Scheme.ToString(),
                reason = choice.Reason,
                output = written,
                fp32Bytes,
                int8Bytes,
                seconds = Math.Round(Stopwatch.GetElapsedTime(start).TotalSeconds, 2),
            };
            if (parse.GetValue(json))
            {
                console.WriteJson(result);
            }
            else
            {
                console.Out.WriteLine($"quantised {name} with {choice.Scheme} ({choice.Reason})");
                console.Out.WriteLine($"wrote {written}: {int8Bytes / 1048576.0:F1} MiB (fp32 {fp32Bytes / 1048576.0:F1} MiB) in {result.seconds} s");
                console.Out.WriteLine("use it as is: set Embeddings:Onnx:Quantization=Int8 (psim finds the cached file), or point Embeddings:Onnx:ModelPath at an --out file with Quantization=None.");
            }

            return ExitCodes.Ok;
        });
        return new Command("model", "Manage the embedding model.") { quantize };
    }
}
