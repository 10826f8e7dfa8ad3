using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using ProductSimilarity.Core.Similarity;

namespace ProductSimilarity.Cli.Commands;

/// <summary><c>psim demo</c>: ingests the bundled sample catalog and shows similar items for a few products.</summary>
internal static class DemoCommand
{
    /// <summary>Products the demo asks about: earbuds, a chef's knife, a Chinese rice cooker and a running-shoe variant (its other sizes are excluded).</summary>
    private static readonly string[] DemoQueries = ["P0001", "P0075", "P0058", "P0092-10"];

    public static string SampleCatalogPath() => Path.Combine(AppContext.BaseDirectory, "samples", "catalog.csv");

    public static Command Create(CliConsole console)
    {
        var top = PsimApp.TopOption();
        top.DefaultValueFactory = _ => 5;
        var explain = PsimApp.ExplainOption();
        var command = new Command("demo", "Ingest the bundled sample catalog (English and Chinese) into the index and show similar items for a few products.") { top, explain };
        command.SetAction(async (parse, ct) =>
        {
            var catalog = SampleCatalogPath();
            await using var services = CliHost.Build(PsimApp.Globals(parse));
            var summary = await IngestCommand.RunAsync(services, console, catalog, Path.Combine(Path.GetTempPath(), "psim-demo.errors.jsonl"), null, ct).ConfigureAwait(false);
            IngestCommand.WriteSummary(console, summary);
            var service = services.GetRequiredService<SimilarityService>();
            foreach (var id in DemoQueries)
            {
                try
                {
                    var result = await service.SimilarAsync(new SimilarRequest { Id = id, Top = parse.GetValue(top), Explain = parse.GetValue(explain) }, ct).ConfigureAwait(false);
                    console.Out.WriteLine();
                    console.WriteHits($"Similar to {id}: {result.Query!.Product.Title}", result.Hits.Select(HitView.From).ToList());
                }
                catch (ProductNotFoundException)
                {
                    console.Note($"(sample product {id} is not in the catalog; skipped)");
                }
            }

            var search = await service.SearchAsync(new SearchRequest { Text = "蓝牙耳机 降噪", Top = parse.GetValue(top), Explain = parse.GetValue(explain) }, ct).ConfigureAwait(false);
            console.Out.WriteLine();
            console.WriteHits("Search: 蓝牙耳机 降噪 (noise-cancelling Bluetooth earphones)", search.Hits.Select(HitView.From).ToList());
            console.Out.WriteLine();
            console.Out.WriteLine("Next: psim similar P0001 --json | psim search \"chef knife\" | psim serve  (see README)");
            return ExitCodes.Ok;
        });
        return command;
    }
}
