using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using ProductSimilarity.Core.Similarity;

namespace ProductSimilarity.Cli.Commands;

/// <summary><c>psim search "TEXT"</c>: products matching free text.</summary>
internal static class SearchCommand
{
    public const int MaxQueryLength = 1000;

    public static Command Create(CliConsole console)
    {
        var text = new Argument<string>("TEXT") { Description = "What to look for, in any language the model and analyzer handle." };
        var top = PsimApp.TopOption();
        var json = PsimApp.JsonOption();
        var ranking = PsimApp.RankingOption();
        var explain = PsimApp.ExplainOption();
        var filters = new PsimApp.FilterOptions();
        var shaping = new PsimApp.ShapingOptions();
        var command = new Command("search", "Search products by text (hybrid: meaning and keywords).") { text, top, json, ranking, explain };
        filters.AddTo(command);
        shaping.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var query = parse.GetRequiredValue(text);
            if (string.IsNullOrWhiteSpace(query) || query.Length > MaxQueryLength)
            {
                throw new CliException($"TEXT must be 1 to {MaxQueryLength} characters.", ExitCodes.Usage);
            }

            await using var services = CliHost.Build(PsimApp.Globals(parse));
            var result = await services.GetRequiredService<SimilarityService>()
                .SearchAsync(new SearchRequest { Text = query, Top = parse.GetValue(top), Filter = filters.Read(parse), Mode = parse.GetValue(ranking), Explain = parse.GetValue(explain), Shaping = shaping.Read(parse) }, ct).ConfigureAwait(false);
            var hits = result.Hits.Select(HitView.From).ToList();
            if (parse.GetValue(json))
            {
                console.WriteJson(new { query, items = hits });
            }
            else
            {
                console.WriteHits($"Search: {query}", hits);
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
