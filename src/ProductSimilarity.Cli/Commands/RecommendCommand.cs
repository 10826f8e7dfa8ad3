using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using ProductSimilarity.Core.Similarity;

namespace ProductSimilarity.Cli.Commands;

/// <summary><c>psim recommend ID[:view|cart|purchase] ...</c>: what a user should see next.</summary>
internal static class RecommendCommand
{
    public static Command Create(CliConsole console)
    {
        var history = new Argument<string[]>("EVENT")
        {
            Description = "History, most recent last: ID or ID:view, ID:cart, ID:purchase (default view).",
            Arity = ArgumentArity.OneOrMore,
        };
        var top = PsimApp.TopOption();
        var json = PsimApp.JsonOption();
        var keepPurchased = new Option<bool>("--include-purchased") { Description = "Allow purchased products back (replenishment)." };
        var explain = PsimApp.ExplainOption();
        var filters = new PsimApp.FilterOptions();
        var command = new Command("recommend", "Recommend products from a user's history. The history is used for this call only and never stored.")
        {
            history, top, json, keepPurchased, explain,
        };
        filters.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var events = parse.GetRequiredValue(history);
            if (events.Length > RecommendationRequest.MaxHistory)
            {
                throw new CliException($"at most {RecommendationRequest.MaxHistory} history events are allowed.", ExitCodes.Usage);
            }

            // Most recent last: space the events a minute apart so recency weighting follows the order given.
            var now = DateTimeOffset.UtcNow;
            var parsed = events.Select((e, i) => Parse(e, now.AddMinutes(i - events.Length))).ToList();
            await using var services = CliHost.Build(PsimApp.Globals(parse));
            var result = await services.GetRequiredService<SimilarityService>().RecommendAsync(new RecommendationRequest
            {
                History = parsed,
                Top = parse.GetValue(top),
                Filter = filters.Read(parse),
                ExcludePurchased = !parse.GetValue(keepPurchased),
                Explain = parse.GetValue(explain),
            }, ct).ConfigureAwait(false);
            var hits = result.Hits.Select(HitView.From).ToList();
            if (parse.GetValue(json))
            {
                console.WriteJson(new { items = hits });
            }
            else
            {
                console.WriteHits("Recommended next", hits);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static HistoryEvent Parse(string value, DateTimeOffset at)
    {
        var colon = value.LastIndexOf(':');
        if (colon > 0 && Enum.GetNames<InteractionKind>().FirstOrDefault(n => n.Equals(value[(colon + 1)..], StringComparison.OrdinalIgnoreCase)) is { } name)
        {
            return new HistoryEvent(value[..colon], Enum.Parse<InteractionKind>(name), at);
        }

        return new HistoryEvent(value, InteractionKind.View, at);
    }
}
