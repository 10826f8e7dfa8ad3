using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Ingestion;

namespace ProductSimilarity.Cli.Commands;

/// <summary><c>psim ingest FILE</c>: read, clean, embed and index a catalog.</summary>
internal static class IngestCommand
{
    public static Command Create(CliConsole console)
    {
        var file = new Argument<FileInfo>("FILE") { Description = "Catalog file: .csv/.tsv/.txt, .jsonl/.ndjson/.json, .xml (Merchant Center feed), optionally .gz; or .xlsx." };
        var mode = new Option<IngestionMode?>("--mode") { Description = "upsert (default): add and update, delete via the 'deleted' column; snapshot: also remove products missing from FILE." };
        var errors = new Option<string?>("--errors") { Description = "Where rejected rows go (JSON Lines). Default: FILE.errors.jsonl.", HelpName = "PATH" };
        var reembed = new Option<bool>("--reembed") { Description = "Re-embed every product with the configured model (after changing model, quantisation or adapter) and remove products missing from FILE; give the full catalog." };
        var encoding = new Option<string?>("--encoding") { Description = "Text encoding of FILE when it is not UTF-8 (e.g. gbk, gb18030, big5, windows-1252). A byte order mark always wins.", HelpName = "NAME" };
        var json = PsimApp.JsonOption();
        var catalog = new CatalogOptions();
        var command = new Command("ingest", "Ingest a catalog into the index. Re-running skips unchanged products; an interrupted run can simply be run again. Runs at a low CPU priority so a server beside it keeps its latency (ProductSimilarity:Ingestion:Priority=Normal to change).")
        {
            file, mode, errors, reembed, encoding, json, catalog.Format, catalog.Map, catalog.Delimiter, catalog.Sheet, catalog.PriceCulture, catalog.IncludeDrafts,
        };
        command.SetAction(async (parse, ct) =>
        {
            var input = parse.GetRequiredValue(file);
            if (!input.Exists)
            {
                throw new CliException($"catalog file '{input.FullName}' was not found.", ExitCodes.Usage);
            }

            var overrides = catalog.Overrides(parse);
            if (parse.GetValue(encoding) is { } encodingName)
            {
                overrides["ProductSimilarity:Ingestion:Encoding"] = encodingName;
            }

            await using var services = CliHost.Build(PsimApp.Globals(parse), overrides);
            ProcessPriority.Apply(
                services.GetRequiredService<IOptions<ProductSimilarityOptions>>().Value.Ingestion.Priority,
                services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ProcessPriority)));
            var summary = await RunAsync(services, console, input.FullName, parse.GetValue(errors), parse.GetValue(mode), ct, parse.GetValue(reembed)).ConfigureAwait(false);
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
    public static async Task<IngestionSummary> RunAsync(IServiceProvider services, CliConsole console, string path, string? errorsPath, IngestionMode? mode, CancellationToken ct, bool reembed = false)
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
                        pipeline.IngestAsync(input, name, sink, new IngestionProgressAdapter(progress), mode, ct, reembed)).ConfigureAwait(false);
                }
            }
        }

        if (summary.Rejected == 0 && summary.Warnings == 0)
        {
            File.Delete(errorsPath);
        }
        else
        {
            console.Note($"{summary.Rejected} rejected row(s) and {summary.Warnings} warning(s) written to {errorsPath}");
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

    /// <summary>The options that say how to read the catalog; each becomes a <c>ProductSimilarity:Ingestion:*</c> override.</summary>
    private sealed class CatalogOptions
    {
        public Option<CatalogPlatform?> Format { get; } = new("--format")
        {
            Description = "Catalog layout: shopify, woocommerce, gmc (Google Merchant Center) or generic. Default: detected from the header.",
            CustomParser = r => r.Tokens.Count == 0 ? null : r.Tokens[0].Value.ToUpperInvariant() switch
            {
                "SHOPIFY" => CatalogPlatform.Shopify,
                "WOOCOMMERCE" or "WOO" => CatalogPlatform.WooCommerce,
                "GMC" or "MERCHANT" => CatalogPlatform.Gmc,
                "GENERIC" => CatalogPlatform.Generic,
                "AUTO" => CatalogPlatform.Auto,
                _ => Fail<CatalogPlatform?>(r, $"unknown format '{r.Tokens[0].Value}'; use shopify, woocommerce, gmc or generic"),
            },
        };

        public Option<string?> Map { get; } = new("--map")
        {
            Description = "Column map for a generic file: field=Column pairs, e.g. id=SKU,title=\"Product Name\",brand=Manufacturer.",
            HelpName = "MAP",
        };

        public Option<string?> Delimiter { get; } = new("--delimiter")
        {
            Description = "CSV delimiter: ',', ';', '|' or tab. Default: detected from the first lines.",
            HelpName = "CHAR",
        };

        public Option<string?> Sheet { get; } = new("--sheet") { Description = "Worksheet of an .xlsx catalog. Default: the first.", HelpName = "NAME" };

        public Option<string?> PriceCulture { get; } = new("--price-culture")
        {
            Description = "Read prices with this culture's separators, e.g. de-DE. Default: inferred per value (1,234 is read as 1234).",
            HelpName = "CULTURE",
        };

        public Option<bool> IncludeDrafts { get; } = new("--include-drafts") { Description = "Keep Shopify draft/archived and WooCommerce draft/private products." };

        public Dictionary<string, string?> Overrides(ParseResult parse)
        {
            const string prefix = "ProductSimilarity:Ingestion:";
            var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            if (parse.GetValue(Format) is { } format)
            {
                overrides[prefix + "Format"] = format.ToString();
            }

            try
            {
                foreach (var (field, column) in CatalogReadOptions.ParseColumnMap(parse.GetValue(Map)))
                {
                    overrides[prefix + "Columns:" + field] = column;
                }

                if (parse.GetValue(Delimiter) is { } delimiter)
                {
                    overrides[prefix + "Delimiter"] = CatalogReadOptions.ParseDelimiter(delimiter) is '\t' ? "tab" : delimiter;
                }
            }
            catch (ArgumentException ex)
            {
                throw new CliException(ex.Message.Split(" (Parameter", 2)[0], ExitCodes.Usage);
            }

            if (parse.GetValue(Sheet) is { } sheet)
            {
                overrides[prefix + "Sheet"] = sheet;
            }

            if (parse.GetValue(PriceCulture) is { } culture)
            {
                try
                {
                    _ = System.Globalization.CultureInfo.GetCultureInfo(culture, predefinedOnly: true);
                }
                catch (System.Globalization.CultureNotFoundException)
                {
                    throw new CliException($"unknown price culture '{culture}'; use a name such as de-DE or en-US.", ExitCodes.Usage);
                }

                overrides[prefix + "PriceCulture"] = culture;
            }

            if (parse.GetValue(IncludeDrafts))
            {
                overrides[prefix + "IncludeDrafts"] = "true";
            }

            return overrides;
        }

        private static T Fail<T>(System.CommandLine.Parsing.ArgumentResult result, string message)
        {
            result.AddError(message);
            return default!;
        }
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
