using System.Text.Json;
using ProductSimilarity.Core.Similarity;
using Spectre.Console;

namespace ProductSimilarity.Cli;

/// <summary>Output for commands: Spectre tables on stdout for people, one JSON object for scripts, notes on stderr.</summary>
internal sealed class CliConsole(TextWriter stdout, TextWriter stderr)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public TextWriter Out { get; } = stdout;

    public TextWriter Error { get; } = stderr;

    public IAnsiConsole Ansi { get; } = CreateAnsi(stdout);

    private static IAnsiConsole CreateAnsi(TextWriter stdout)
    {
        var terminal = ReferenceEquals(stdout, Console.Out) && StdoutIsTerminal;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(stdout),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (!terminal)
        {
            console.Profile.Width = 160; // redirected output (files, CI logs): wide enough for whole titles
        }

        return console;
    }

    private static readonly bool StdoutIsTerminal = !Console.IsOutputRedirected;

    public bool ErrorIsTerminal => ReferenceEquals(Error, Console.Error) && !Console.IsErrorRedirected;

    public void WriteJson<T>(T value) => Out.WriteLine(JsonSerializer.Serialize(value, Json));

    public void Note(string message) => Error.WriteLine(message);

    public void WriteHits(string caption, IReadOnlyList<HitView> hits)
    {
        var table = new Table().Title(Markup.Escape(caption)).Border(TableBorder.Rounded);
        table.AddColumn("#");
        table.AddColumn("id");
        table.AddColumn("title");
        table.AddColumn("brand");
        table.AddColumn(new TableColumn("price").RightAligned());
        table.AddColumn(new TableColumn("score").RightAligned());
        table.AddColumn(new TableColumn("vector").RightAligned());
        table.AddColumn(new TableColumn("keyword").RightAligned());
        for (var i = 0; i < hits.Count; i++)
        {
            var h = hits[i];
            table.AddRow(
                (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(h.Product.Id),
                Markup.Escape(Truncate(h.Product.Title, 60)),
                Markup.Escape(h.Product.Brand ?? string.Empty),
                h.Product.Price is { } price ? Markup.Escape($"{price:0.00} {h.Product.Currency}".Trim()) : string.Empty,
                h.Score.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture),
                Format(h.VectorScore, h.VectorRank),
                Format(h.KeywordScore, h.KeywordRank));
        }

        Ansi.Write(table);
        if (hits.Count == 0)
        {
            Out.WriteLine("(no results)");
        }

        for (var i = 0; i < hits.Count; i++)
        {
            if (hits[i].Explanation is { } e)
            {
                Out.WriteLine(ExplanationLine(i + 1, hits[i].Product.Id, e));
            }
            else if (hits[i].Relaxed is { Count: > 0 } relaxed)
            {
                Out.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{i + 1}. {hits[i].Product.Id}: relaxed {string.Join(", ", relaxed)} (the filters left too few results)"));
            }
        }
    }

    /// <summary>One readable line per explained result: scores with ranks, shared terms (product codes marked *), matching attributes, relaxed filters.</summary>
    internal static string ExplanationLine(int position, string id, ResultExplanation e)
    {
        var terms = e.SharedTerms.Count == 0 ? "-" : string.Join(", ", e.SharedTerms.Select(t => t.ProductCode ? t.Term + "*" : t.Term));
        var attributes = e.MatchingAttributes.Count == 0 ? "-" : string.Join(", ", e.MatchingAttributes);
        var because = e.ContributingHistory is { Count: > 0 } history
            ? "; because of: " + string.Join(", ", history.Select(h => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{h.Id} {Truncate(h.Title, 40)} ({h.Share * 100:0}%)")))
            : string.Empty;
        var code = e.ModelCode is { } c ? $"; {c.Reason}: {c.Code}" : string.Empty;
        return string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"{position}. {id}: fused {e.FusedScore:0.0000} (#{e.FusedRank}), vector {Format(e.VectorScore, e.VectorRank)}, keyword {Format(e.KeywordScore, e.KeywordRank)}; shared terms: {terms}; same: {attributes}{code}{Relaxed(e)}") + because;
    }

    private static string Relaxed(ResultExplanation e) =>
        e.RelaxedFilters.Count == 0 ? string.Empty : "; relaxed: " + string.Join(", ", e.RelaxedFilters);

    private static string Format(double? score, int? rank) =>
        score is { } s ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{s:0.000} (#{rank})") : "-";

    private static string Truncate(string text, int max) => text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 1), "…");
}
