using System.CommandLine;
using System.Diagnostics;
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
        var encoding = new Option<string?>("--encoding") { Description = "Text encoding of FILE when it is not UTF-8 (e.g. gbk, gb18030, big5, windows-1252). A byte order mark always wins.", HelpName = "NAME" };
        var json = PsimApp.JsonOption();
        var command = new Command("ingest", "Ingest a catalog into the index. Re-running skips unchanged products; an interrupted run can simply be run again.")
        {
            file, mode, errors, encoding, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            var input = parse.GetRequiredValue(file);
            if (!input.Exists)
            {
                throw new CliException($"catalog file '{input.FullName}' was not found.", ExitCodes.Usage);
            }

            Dictionary<string, string?>? overrides = parse.GetValue(encoding) is { } name
                ? new() { ["ProductSimilarity:Ingestion:Encoding"] = name }
                : null;
            await using var services = CliHost.Build(PsimApp.Globals(parse), overrides);
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
                    var progress = new ProgressPrinter(console, Path.GetFileName(path));
                    summary = await pipeline.IngestAsync(input, Path.GetFileName(path), sink, progress, mode, ct).ConfigureAwait(false);
                    progress.Finish();
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

    /// <summary>Progress on stderr: a redrawn line on a terminal, a line every few seconds otherwise.</summary>
    private sealed class ProgressPrinter(CliConsole console, string name) : IProgress<IngestionProgress>
    {
        private readonly Stopwatch clock = Stopwatch.StartNew();
        private TimeSpan last = TimeSpan.Zero;
        private bool drew;

        public void Report(IngestionProgress value)
        {
            var interval = console.ErrorIsTerminal ? TimeSpan.FromMilliseconds(200) : TimeSpan.FromSeconds(5);
            if (clock.Elapsed - last < interval)
            {
                return;
            }

            last = clock.Elapsed;
            var percent = value.TotalBytes is > 0 && value.BytesRead is { } read ? $" {100.0 * read / value.TotalBytes.Value,5:0.0}%" : string.Empty;
            var rate = value.RowsRead / Math.Max(clock.Elapsed.TotalSeconds, 0.001);
            var line = $"{name}:{percent} {value.RowsRead} rows, {value.Embedded} embedded, {value.Unchanged} unchanged, {value.Rejected} rejected ({rate:0}/s)";
            if (console.ErrorIsTerminal)
            {
                console.Error.Write("\r" + line.PadRight(Math.Min(Console.WindowWidth - 1, 120)));
                drew = true;
            }
            else
            {
                console.Error.WriteLine(line);
            }
        }

        public void Finish()
        {
            if (drew)
            {
                console.Error.WriteLine();
            }
        }
    }
}
