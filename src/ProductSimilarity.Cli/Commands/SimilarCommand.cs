using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Similarity;

namespace ProductSimilarity.Cli.Commands;

/// <summary><c>psim similar ID</c>: products most like one product, hybrid-ranked, without itself and its variants.</summary>
internal static class SimilarCommand
{
    public static Command Create(CliConsole console)
    {
        var id = new Argument<string>("ID") { Description = "Product id." };
        var top = PsimApp.TopOption();
        var json = PsimApp.JsonOption();
        var ranking = PsimApp.RankingOption();
        var explain = PsimApp.ExplainOption();
        var filters = new PsimApp.FilterOptions();
        var shaping = new PsimApp.ShapingOptions();
        var command = new Command("similar", "Show the products most similar to one product (it and its group_id variants are excluded). Each result shows its vector, keyword and fused score.")
        {
            id, top, json, ranking, explain,
        };
        filters.AddTo(command);
        shaping.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var productId = parse.GetRequiredValue(id).Trim();
            if (productId.Length is 0 or > CatalogLimits.MaxIdLength)
            {
                throw new CliException($"ID must be 1 to {CatalogLimits.MaxIdLength} characters.", ExitCodes.Usage);
            }

            await using var services = CliHost.Build(PsimApp.Globals(parse));
            var service = services.GetRequiredService<SimilarityService>();
            var result = await service.SimilarAsync(
                new SimilarRequest { Id = productId, Top = parse.GetValue(top), Filter = filters.Read(parse), Mode = parse.GetValue(ranking), Explain = parse.GetValue(explain), Shaping = shaping.Read(parse) }, ct).ConfigureAwait(false);
            var hits = result.Hits.Select(HitView.From).ToList();
            if (parse.GetValue(json))
            {
                console.WriteJson(new { query = ProductView.From(result.Query!), items = hits });
            }
            else
            {
                console.WriteHits($"Similar to {result.Query!.Id}: {result.Query.Product.Title}", hits);
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
