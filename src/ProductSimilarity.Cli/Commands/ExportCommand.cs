using System.CommandLine;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Similarity;

namespace ProductSimilarity.Cli.Commands;

/// <summary>
/// <c>psim export OUT</c>: the similarity matrix, each product's top-K similar products as <c>psim similar</c> and the
/// API rank them, written as JSON Lines, CSV or Parquet by <see cref="SimilarityExporter"/>.
/// </summary>
internal static class ExportCommand
{
    public static Command Create(CliConsole console)
    {
        var output = new Argument<FileInfo>("OUT") { Description = "The file to write. Until the export completes, rows go to OUT.partial and progress to OUT.checkpoint.json." };
        var top = PsimApp.TopOption();
        var format = new Option<ExportFormat?>("--format")
        {
            Description = "jsonl (one object per product), csv or parquet (one row per pair). Default: from OUT's extension, else jsonl.",
        };
        var parallel = new Option<int>("--parallel")
        {
            Description = "Products queried at once. Default: the number of cores.",
            DefaultValueFactory = _ => Environment.ProcessorCount,
            Validators = { r => { if (r.GetValueOrDefault<int>() is < 1 or > 256) { r.AddError("--parallel must be between 1 and 256."); } } },
        };
        var chunk = new Option<int>("--chunk-size")
        {
            Description = $"Products per checkpoint: an interrupted run repeats at most one chunk. Default: {ExportOptions.DefaultChunkSize}.",
            DefaultValueFactory = _ => ExportOptions.DefaultChunkSize,
            Validators = { r => { if (r.GetValueOrDefault<int>() is < 1 or > 100_000) { r.AddError("--chunk-size must be between 1 and 100000."); } } },
        };
        var restart = new Option<bool>("--restart") { Description = "Ignore the checkpoint of an interrupted export of OUT and start over." };
        var json = PsimApp.JsonOption();
        var ranking = PsimApp.RankingOption();
        var filters = new PsimApp.FilterOptions();
        var command = new Command(
            "export",
            "Export every product's top-K similar products with their scores (the similarity matrix), ranked, filtered and variant-collapsed exactly as 'psim similar' and the API do. Runs in parallel; an interrupted run resumes where it stopped when run again.")
        {
            output, top, format, ranking, parallel, chunk, restart, json,
        };
        filters.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var path = parse.GetRequiredValue(output).FullName;
            var exportFormat = parse.GetValue(format) ?? FormatOf(path);
            await using var services = CliHost.Build(PsimApp.Globals(parse));
            var index = services.GetRequiredService<IProductIndex>();
            var exporter = new SimilarityExporter(index, services.GetRequiredService<SimilarityService>());
            var options = new ExportOptions
            {
                OutputPath = path,
                Format = exportFormat,
                Request = new SimilarRequest { Id = string.Empty, Top = parse.GetValue(top), Filter = filters.Read(parse), Mode = parse.GetValue(ranking) },
                Parallelism = parse.GetValue(parallel),
                ChunkSize = parse.GetValue(chunk),
                Restart = parse.GetValue(restart),
            };

            var clock = Stopwatch.StartNew();
            ExportResult result;
            try
            {
                result = await CliProgress.RunAsync(console, $"export {Path.GetFileName(path)}", "products", sink =>
                    exporter.ExportAsync(options, new ProgressAdapter(sink), ct)).ConfigureAwait(false);
            }
            catch (ExportResumeException ex)
            {
                throw new CliException(ex.Message, ExitCodes.Usage);
            }

            if (parse.GetValue(json))
            {
                console.WriteJson(new
                {
                    output = result.OutputPath,
                    format = exportFormat.ToString().ToLowerInvariant(),
                    products = result.Products,
                    rows = result.Rows,
                    resumedFrom = result.ResumedFrom,
                    seconds = Math.Round(clock.Elapsed.TotalSeconds, 1),
                });
            }
            else
            {
                var resumed = result.ResumedFrom > 0 ? $", resumed after {result.ResumedFrom}" : string.Empty;
                console.Out.WriteLine($"{result.OutputPath}: {result.Products} products, {result.Rows} pairs ({exportFormat.ToString().ToLowerInvariant()}{resumed}) in {CliProgress.FormatDuration(clock.Elapsed)}.");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The format named by a file's extension; jsonl when it names none.</summary>
    internal static ExportFormat FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".csv" => ExportFormat.Csv,
        ".parquet" => ExportFormat.Parquet,
        _ => ExportFormat.Jsonl,
    };

    private sealed class ProgressAdapter(IProgressSink sink) : IProgress<ExportProgress>
    {
        public void Report(ExportProgress value) => sink.Report(value.Done, value.Total, $"{value.Rows} pairs");
    }
}
