using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Similarity;

namespace ProductSimilarity.Cli.Commands;

/// <summary><c>psim recommend ID[:event][@time] ... [--history FILE.jsonl]</c>: what a user should see next.</summary>
internal static class RecommendCommand
{
    public static Command Create(CliConsole console)
    {
        var history = new Argument<string[]>("EVENT")
        {
            Description = "History events: ID, ID:view, ID:cart, ID:purchase or ID:not_interested (default view), each optionally with a time, "
                + "ID:view@2026-11-20T10:00Z. Events without a time count as now (equally recent). None at all: the cold-start fallback.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var historyFile = new Option<FileInfo?>("--history")
        {
            Description = "A JSON Lines file of history events, one object a line: {\"id\":\"P1\",\"event\":\"cart\",\"at\":\"2026-11-20T10:00Z\",\"category\":\"...\"} (event, at and category optional). Read before the EVENT arguments.",
        };
        var top = PsimApp.TopOption();
        var json = PsimApp.JsonOption();
        var replenish = new Option<bool>("--replenish", "--include-purchased") { Description = "Allow purchased products and their variants back (replenishment)." };
        var exclude = new Option<string[]>("--exclude")
        {
            Description = "Ids never to recommend (repeat the option or list several).",
            AllowMultipleArgumentsPerToken = true,
        };
        var strategy = new Option<string?>("--strategy")
        {
            Description = "multi-interest or centroid. Default: ProductSimilarity:Recommendations:Strategy (multi-interest).",
        };
        var explain = PsimApp.ExplainOption();
        var filters = new PsimApp.FilterOptions();
        var command = new Command("recommend", "Recommend products from a user's history. The history is used for this call only and never stored.")
        {
            history, historyFile, top, json, replenish, exclude, strategy, explain,
        };
        filters.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            await using var services = CliHost.Build(PsimApp.Globals(parse));
            var maxHistory = services.GetRequiredService<IOptions<ProductSimilarityOptions>>().Value.Limits.MaxHistory;
            var events = new List<HistoryEvent>();
            if (parse.GetValue(historyFile) is { } file)
            {
                events.AddRange(await ReadHistoryFileAsync(file, ct, maxHistory).ConfigureAwait(false));
            }

            events.AddRange(parse.GetValue(history)?.Select(Parse) ?? []);
            if (events.Count > maxHistory)
            {
                throw new CliException($"at most {maxHistory} history events are allowed (ProductSimilarity:Limits:MaxHistory); got {events.Count}.", ExitCodes.Usage);
            }

            RecommendationStrategy? chosen = null;
            if (parse.GetValue(strategy) is { } name)
            {
                chosen = HistoryEventText.TryParseStrategy(name, out var parsed)
                    ? parsed
                    : throw new CliException($"--strategy must be multi-interest or centroid, not '{name}'.", ExitCodes.Usage);
            }

            var result = await services.GetRequiredService<SimilarityService>().RecommendAsync(new RecommendationRequest
            {
                History = events,
                Exclude = parse.GetValue(exclude) ?? [],
                Top = parse.GetValue(top),
                Filter = filters.Read(parse),
                ExcludePurchased = !parse.GetValue(replenish),
                Strategy = chosen,
                Explain = parse.GetValue(explain),
            }, ct).ConfigureAwait(false);
            var hits = result.Hits.Select(HitView.From).ToList();
            if (parse.GetValue(json))
            {
                console.WriteJson(new { items = hits, fallback = result.Fallback });
            }
            else
            {
                console.WriteHits(result.Fallback is { } fallback ? $"Recommended next (cold start: {fallback})" : "Recommended next", hits);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Parses <c>ID[:event][@time]</c>. An id may hold <c>:</c> or <c>@</c>: only a known event or a valid time is split off.</summary>
    internal static HistoryEvent Parse(string value)
    {
        DateTimeOffset? at = null;
        var atSign = value.LastIndexOf('@');
        if (atSign > 0 && TryParseTime(value[(atSign + 1)..], out var time))
        {
            at = time;
            value = value[..atSign];
        }
        else if (atSign > 0 && value[(atSign + 1)..].Any(char.IsDigit) && value[(atSign + 1)..].Contains('-', StringComparison.Ordinal))
        {
            throw new CliException($"'{value[(atSign + 1)..]}' is not a time; write it as ISO 8601, for example 2026-11-20T10:00Z.", ExitCodes.Usage);
        }

        var colon = value.LastIndexOf(':');
        if (colon > 0 && HistoryEventText.TryParseKind(value[(colon + 1)..], out var kind))
        {
            return new HistoryEvent(value[..colon], kind, at);
        }

        return new HistoryEvent(value, InteractionKind.View, at);
    }

    /// <summary>Reads a JSON Lines history; a bad line is a usage error naming the file, line and field.</summary>
    internal static async Task<List<HistoryEvent>> ReadHistoryFileAsync(FileInfo file, CancellationToken cancellationToken, int maxHistory = RecommendationRequest.MaxHistory)
    {
        if (!file.Exists)
        {
            throw new CliException($"history file '{file.FullName}' does not exist.", ExitCodes.Usage);
        }

        var events = new List<HistoryEvent>();
        var line = 0;
        await foreach (var text in File.ReadLinesAsync(file.FullName, cancellationToken).ConfigureAwait(false))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            events.Add(ParseLine(text, $"{file.Name}:{line}"));
            if (events.Count > maxHistory)
            {
                throw new CliException($"{file.Name}: at most {maxHistory} history events are allowed (ProductSimilarity:Limits:MaxHistory).", ExitCodes.Usage);
            }
        }

        return events;
    }

    private static HistoryEvent ParseLine(string text, string where)
    {
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(text);
            root = doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new CliException($"{where}: not a JSON object.", ExitCodes.Usage);
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new CliException($"{where}: not a JSON object.", ExitCodes.Usage);
        }

        var id = String(root, "id", where);
        if (string.IsNullOrWhiteSpace(id))
        {
            throw new CliException($"{where}: field 'id' is missing.", ExitCodes.Usage);
        }

        var kind = InteractionKind.View;
        if (String(root, "event", where) is { } eventName && !HistoryEventText.TryParseKind(eventName, out kind))
        {
            throw new CliException($"{where}: field 'event': '{eventName}' is not view, cart, purchase or not_interested.", ExitCodes.Usage);
        }

        DateTimeOffset? at = null;
        if (String(root, "at", where) is { } atText)
        {
            at = TryParseTime(atText, out var time)
                ? time
                : throw new CliException($"{where}: field 'at': '{atText}' is not an ISO 8601 time.", ExitCodes.Usage);
        }

        return new HistoryEvent(id.Trim(), kind, at, String(root, "category", where) is { Length: > 0 } category ? category.Trim() : null);
    }

    private static string? String(JsonElement root, string name, string where)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new CliException($"{where}: field '{name}' must be a string.", ExitCodes.Usage);
    }

    /// <summary>An ISO 8601 date and time (it must hold a date); without an offset it is UTC.</summary>
    private static bool TryParseTime(string text, out DateTimeOffset time)
    {
        time = default;
        return text.Contains('-', StringComparison.Ordinal)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out time);
    }
}
