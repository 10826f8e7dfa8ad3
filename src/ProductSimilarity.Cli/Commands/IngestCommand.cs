using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Ingestion;

namespace ProductSimilarity.Cli.Commands;

/// <summary><c>psim ingest FILE</c>: read, clean, embed and index a catalog.</summary>
internal static class IngestCommand
{
    public static Command Create(CliConsole console)
    {
        var file = new Argument<FileInfo>("FILE") { Description = "Catalog file: .csv, .jsonl/.ndjson/.json, optionally .gz." };
        var mode = new Option<IngestionMode?>("--mode") { Description = "upsert (default): add and update, delete via the 'deleted' column; snapshot: also remove products missing from FILE." };
        var errors = new Option<string?>("--errors") { Description = "Where rejected rows go (JSON Lines). Default: FILE.errors.jsonl.", HelpName = "PATH" };
        var json = PsimApp.JsonOption();
        var command = new Command("ingest", "Ingest a catalog into the index. Re-running skips unchanged products; an interrupted run can simply be run again.")
        {
            file, mode, errors, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            var input = parse.GetRequiredValue(file);
            if (!input.Exists)
            {
                throw new CliException($"catalog file '{input.FullName}' was not found.", ExitCodes.Usage);
            }

            await using var services = CliHost.Build(PsimApp.Globals(parse));
            var summary = await RunAsync(services, console, input.FullName, parse.GetValue(errors), parse.GetValue(mode), ct).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                console.WriteJson(summary);
            }
            else
            {
                WriteSummary(console, summary);
            }

            return summary.Rejected > 0 ? ExitCodes.RowsRejected : ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Runs the shared ingestion pipeline on a file with progress on stderr; used by ingest, demo, eval and bench.</summary>
    public static async Task<IngestionSummary> RunAsync(IServiceProvider services, CliConsole console, string path, string? errorsPath, IngestionMode? mode, CancellationToken ct)
    {
        var pipeline = services.GetRequiredService<IngestionPipeline>();
        errorsPath ??= path + ".errors.jsonl";
        IngestionSummary summary;
        var errorFile = new FileStream(errorsPath, FileMode.Create, FileAccess.Write, FileShare.Read);
        await using (errorFile.ConfigureAwait(false))
        {
            var sink = new JsonLinesRowErrorSink(errorFile);
            await using (sink.ConfigureAwait(false))
            {
                var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
                await using (input.ConfigureAwait(false))
                {
                    var name = Path.GetFileName(path);
                    summary = await CliProgress.RunAsync(console, $"ingest {name}", "rows", progress =>
                        pipeline.IngestAsync(input, name, sink, new IngestionProgressAdapter(progress), mode, ct)).ConfigureAwait(false);
                }
            }
        }

        if (summary.Rejected == 0)
        {
            File.Delete(errorsPath);
        }
        else
        {
            console.Note($"{summary.Rejected} rejected row(s) written to {errorsPath}");
        }

        return summary;
    }

    /// <summary>
    /// Ingests a catalog into a temporary index through <see cref="RunAsync"/>, runs <paramref name="body"/> on it and
    /// removes the index afterwards; <c>eval</c> and <c>bench</c> leave nothing behind.
    /// </summary>
    public static async Task<T> WithTemporaryIndexAsync<T>(
        ParseResult parse,
        CliConsole console,
        string catalog,
        IDictionary<string, string?> overrides,
        Func<IServiceProvider, IngestionSummary, Task<T>> body,
        CancellationToken ct)
    {
        var temp = Directory.CreateTempSubdirectory("psim-");
        try
        {
            var services = CliHost.Build(PsimApp.Globals(parse) with { Index = Path.Combine(temp.FullName, "index") }, overrides);
            await using (services.ConfigureAwait(false))
            {
                var summary = await RunAsync(services, console, catalog, Path.Combine(temp.FullName, "errors.jsonl"), null, ct).ConfigureAwait(false);
                return await body(services, summary).ConfigureAwait(false);
            }
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    public static void WriteSummary(CliConsole console, IngestionSummary s)
    {
        console.Out.WriteLine(
            $"{s.File}: {s.RowsRead} rows read, {s.Embedded} embedded, {s.Unchanged} unchanged, {s.Updated} updated, {s.Rejected} rejected, {s.Deleted} deleted " +
            $"in {s.Duration.TotalSeconds:0.0} s ({(s.Duration.TotalSeconds > 0 ? s.RowsRead / s.Duration.TotalSeconds : 0):0} rows/s; model {s.Model}).");
    }

    /// <summary>
    /// Shows ingestion progress as rows: the total is extrapolated from the bytes read so far (a catalog's row count is
    /// not known before it is read), which gives the bar, the rate and the time left.
    /// </summary>
    private sealed class IngestionProgressAdapter(IProgressSink sink) : IProgress<IngestionProgress>
    {
        public void Report(IngestionProgress value)
        {
            long? total = value is { TotalBytes: > 0, BytesRead: > 0 }
                ? Math.Max(value.RowsRead, (long)Math.Round(value.RowsRead * (double)value.TotalBytes.Value / value.BytesRead.Value))
                : null;
            sink.Report(value.RowsRead, total, $"{value.Embedded} embedded, {value.Unchanged} unchanged, {value.Rejected} rejected");
        }
    }
}
