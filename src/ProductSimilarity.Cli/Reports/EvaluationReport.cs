using System.Globalization;
using System.Net;
using System.Text;
using ProductSimilarity.Core.Evaluation;
using ProductSimilarity.Core.Exploration;
using ProductSimilarity.Core.Indexing;

namespace ProductSimilarity.Cli.Reports;

/// <summary>One evaluated ranking: a model and a ranking mode over the same labelled catalog.</summary>
/// <param name="Model">The embedding model (bundled or fine-tuned).</param>
/// <param name="Mode">The ranking mode.</param>
/// <param name="Ranked">Every query's outcome.</param>
/// <param name="Products">The query products and true matches that the worst misses show, by id.</param>
/// <param name="Truth">The true matches of each query id.</param>
internal sealed record ReportRun(
    string Model,
    string Mode,
    RankedQueries Ranked,
    IReadOnlyDictionary<string, IndexedProduct> Products,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Truth)
{
    public string Label => $"{Model} · {Mode}";
}

/// <summary>
/// Writes <c>psim eval --report</c>: one self-contained HTML file (inline CSS and SVG; no script, no external URL)
/// with recall@k curves, a table of the figures, the worst misses side by side with their score parts and shared
/// terms, and a histogram of the score gap between the true match and the top wrong result.
/// </summary>
internal static class EvaluationReport
{
    public const int MaxK = 20;
    private const int WorstMisses = 15;
    private static readonly string[] Colours = ["#3056d3", "#d9822b", "#1f8a4c", "#c4323a", "#6f42c1", "#0e8a9a"];
    private static readonly string[] Dashes = ["", "6 4"];
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The queries whose top result is wrong, worst first: true match missing from the list, then the widest score gap.</summary>
    public static IReadOnlyList<QueryOutcome> WorstMissesOf(RankedQueries ranked) =>
        [.. ranked.Outcomes
            .Where(o => o.Rank != 1 && o.TopWrong is not null)
            .OrderBy(o => o.BestMatch is null ? 0 : 1)
            .ThenByDescending(o => o.TopWrong!.Score - (o.BestMatch?.Score ?? 0))
            .ThenBy(o => o.QueryId, StringComparer.Ordinal)
            .Take(WorstMisses)];

    /// <summary>The ids that the worst misses need (query products and their first true matches).</summary>
    public static IEnumerable<string> IdsNeeded(RankedQueries ranked, IReadOnlyDictionary<string, IReadOnlyList<string>> truth)
    {
        foreach (var miss in WorstMissesOf(ranked))
        {
            yield return miss.QueryId;
            if (miss.BestMatch is null && truth.TryGetValue(miss.QueryId, out var matches) && matches.Count > 0)
            {
                yield return matches[0];
            }
        }
    }

    public static string Render(string title, string subtitle, IReadOnlyList<ReportRun> runs)
    {
        var html = new StringBuilder();
        html.Append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(title)).Append("</title>\n<style>")
            .Append(Css).Append("</style></head><body>\n<header><h1>").Append(E(title)).Append("</h1><p class=\"sub\">").Append(E(subtitle)).Append("</p></header>\n");

        html.Append("<section><h2>Recall@k</h2><p class=\"note\">Share of queries with a true match among the first k similar items, k = 1..")
            .Append(MaxK).Append(". Each product in a match pair is a query; with two or more sources the candidates are the other sources' products.</p>\n");
        html.Append(RecallChart(runs)).Append("</section>\n");

        html.Append("<section><h2>Figures</h2><table class=\"figures\"><thead><tr><th>model</th><th>ranking</th><th>queries</th>");
        foreach (var k in new[] { 1, 5, 10, 20 })
        {
            html.Append("<th>recall@").Append(k).Append("</th>");
        }

        html.Append("<th>MRR@10</th><th>not in top ").Append(MaxK).Append("</th></tr></thead><tbody>\n");
        var best = runs.Max(r => r.Ranked.RecallAt(1));
        foreach (var run in runs)
        {
            var r = run.Ranked;
            html.Append("<tr").Append(r.RecallAt(1) == best ? " class=\"best\"" : string.Empty).Append("><td>").Append(E(run.Model)).Append("</td><td>").Append(E(run.Mode))
                .Append("</td><td>").Append(r.Outcomes.Count.ToString(Inv)).Append("</td>");
            foreach (var k in new[] { 1, 5, 10, 20 })
            {
                html.Append("<td>").Append(F4(r.RecallAt(k))).Append("</td>");
            }

            html.Append("<td>").Append(F4(r.MrrAt(10))).Append("</td><td>").Append(r.Outcomes.Count(o => o.Rank == 0).ToString(Inv)).Append("</td></tr>\n");
        }

        html.Append("</tbody></table>");
        if (runs.Count > 0 && runs[0].Ranked.MissingIds > 0)
        {
            html.Append("<p class=\"note\">").Append(runs[0].Ranked.MissingIds.ToString(Inv)).Append(" ids named in the matches are not in the catalog and were not queried.</p>");
        }

        html.Append("</section>\n<section><h2>Score gap: true match − top wrong result</h2><p class=\"note\">For each query with both a true match and a wrong result in the top ")
            .Append(MaxK).Append(": the true match's score minus the best wrong result's score. Right of zero (green) the true match ranks first; the scores are in each ranking's own units (fused score, cosine, or BM25).</p><div class=\"hists\">\n");
        foreach (var run in runs)
        {
            html.Append(GapHistogram(run));
        }

        html.Append("</div></section>\n");
        foreach (var run in runs)
        {
            html.Append(MissesTable(run));
        }

        html.Append("<footer>Written by <code>psim eval --report</code>. Self-contained: no script, no external resource.</footer>\n</body></html>\n");
        return html.ToString();
    }

    private static string RecallChart(IReadOnlyList<ReportRun> runs)
    {
        const int width = 860, height = 380, left = 56, right = 280, top = 16, bottom = 44;
        var plotW = width - left - right;
        var plotH = height - top - bottom;
        var minRecall = runs.Count == 0 ? 0 : runs.Min(r => r.Ranked.RecallAt(1));
        var yMin = Math.Max(0, Math.Floor((minRecall - 0.05) * 10) / 10);
        double X(int k) => left + ((k - 1) / (double)(MaxK - 1) * plotW);
        double Y(double recall) => top + ((1 - ((recall - yMin) / (1 - yMin))) * plotH);

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"recall at k curves\">");
        for (var t = yMin; t <= 1.0001; t += 0.1)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" x2=\"{left + plotW}\" y1=\"{Y(t):0.0}\" y2=\"{Y(t):0.0}\" class=\"grid\"/><text x=\"{left - 8}\" y=\"{Y(t) + 4:0.0}\" class=\"tick\" text-anchor=\"end\">{t:0.0}</text>");
        }

        foreach (var k in new[] { 1, 5, 10, 15, 20 })
        {
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{X(k):0.0}\" x2=\"{X(k):0.0}\" y1=\"{top}\" y2=\"{top + plotH}\" class=\"grid\"/><text x=\"{X(k):0.0}\" y=\"{top + plotH + 18}\" class=\"tick\" text-anchor=\"middle\">{k}</text>");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left + (plotW / 2)}\" y=\"{height - 6}\" class=\"axis\" text-anchor=\"middle\">k (results shown)</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate(14 {top + (plotH / 2)}) rotate(-90)\" class=\"axis\" text-anchor=\"middle\">recall@k</text>");
        var models = runs.Select(r => r.Model).Distinct().ToList();
        var modes = runs.Select(r => r.Mode).Distinct().ToList();
        for (var i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            var colour = Colours[modes.IndexOf(run.Mode) % Colours.Length];
            var dash = Dashes[models.IndexOf(run.Model) % Dashes.Length];
            var points = string.Join(' ', Enumerable.Range(1, MaxK).Select(k => string.Create(Inv, $"{X(k):0.0},{Y(run.Ranked.RecallAt(k)):0.0}")));
            svg.Append(CultureInfo.InvariantCulture, $"<polyline points=\"{points}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2.2\"{(dash.Length > 0 ? $" stroke-dasharray=\"{dash}\"" : string.Empty)}><title>{E(run.Label)}</title></polyline>");
            foreach (var k in new[] { 1, 10, 20 })
            {
                svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{X(k):0.0}\" cy=\"{Y(run.Ranked.RecallAt(k)):0.0}\" r=\"3.2\" fill=\"{colour}\"><title>{E(run.Label)}: recall@{k} = {run.Ranked.RecallAt(k):0.0000}</title></circle>");
            }

            var ly = top + 10 + (i * 22);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left + plotW + 16}\" x2=\"{left + plotW + 44}\" y1=\"{ly}\" y2=\"{ly}\" stroke=\"{colour}\" stroke-width=\"2.5\"{(dash.Length > 0 ? $" stroke-dasharray=\"{dash}\"" : string.Empty)}/><text x=\"{left + plotW + 50}\" y=\"{ly + 4}\" class=\"legend\">{E(models.Count > 1 ? run.Label : run.Mode)}: recall@1 {run.Ranked.RecallAt(1):0.000}</text>");
        }

        return svg.Append("</svg>").ToString();
    }

    private static string GapHistogram(ReportRun run)
    {
        var gaps = run.Ranked.Outcomes.Where(o => o.BestMatch is not null && o.TopWrong is not null)
            .Select(o => o.BestMatch!.Score - o.TopWrong!.Score).ToList();
        var notFound = run.Ranked.Outcomes.Count(o => o.BestMatch is null);
        const int width = 360, height = 210, left = 36, top = 12, bottom = 34, bins = 24;
        var plotW = width - left - 12;
        var plotH = height - top - bottom;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<figure><svg viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"score gap histogram\">");
        if (gaps.Count > 0)
        {
            // Symmetric range around zero, clipped at the 1st and 99th percentiles so one outlier does not flatten the rest.
            var sorted = gaps.Order().ToList();
            var extent = Math.Max(Math.Abs(sorted[(int)(0.01 * (sorted.Count - 1))]), Math.Abs(sorted[(int)(0.99 * (sorted.Count - 1))]));
            extent = extent <= 0 ? 1 : extent;
            var counts = new int[bins];
            foreach (var g in gaps)
            {
                var b = (int)Math.Floor((Math.Clamp(g, -extent, extent) + extent) / (2 * extent) * bins);
                counts[Math.Clamp(b, 0, bins - 1)]++;
            }

            var max = counts.Max();
            var barW = plotW / (double)bins;
            for (var b = 0; b < bins; b++)
            {
                var h = max == 0 ? 0 : counts[b] / (double)max * plotH;
                var from = -extent + (b * 2 * extent / bins);
                var to = from + (2 * extent / bins);
                var colour = to <= 0 ? "#c4323a" : from >= 0 ? "#1f8a4c" : "#999";
                svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{left + (b * barW) + 0.5:0.0}\" y=\"{top + plotH - h:0.0}\" width=\"{barW - 1:0.0}\" height=\"{h:0.0}\" fill=\"{colour}\"><title>{from:0.000} to {to:0.000}: {counts[b]} queries</title></rect>");
            }

            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left + (plotW / 2.0):0.0}\" x2=\"{left + (plotW / 2.0):0.0}\" y1=\"{top}\" y2=\"{top + plotH}\" class=\"zero\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"{top + plotH + 14}\" class=\"tick\">{-extent:0.00}</text><text x=\"{left + (plotW / 2.0):0.0}\" y=\"{top + plotH + 14}\" class=\"tick\" text-anchor=\"middle\">0</text><text x=\"{left + plotW}\" y=\"{top + plotH + 14}\" class=\"tick\" text-anchor=\"end\">{extent:0.00}</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{top + 8}\" class=\"tick\" text-anchor=\"end\">{max}</text><text x=\"{left + (plotW / 2.0):0.0}\" y=\"{height - 4}\" class=\"axis\" text-anchor=\"middle\">score gap</text>");
        }

        svg.Append("</svg><figcaption>").Append(E(run.Label)).Append(": ").Append(gaps.Count.ToString(Inv)).Append(" queries; true match not in the top ")
            .Append(MaxK).Append(": ").Append(notFound.ToString(Inv)).Append("</figcaption></figure>\n");
        return svg.ToString();
    }

    private static string MissesTable(ReportRun run)
    {
        var misses = WorstMissesOf(run.Ranked);
        var html = new StringBuilder();
        html.Append("<section><h2>Worst misses: ").Append(E(run.Label)).Append("</h2><p class=\"note\">Queries whose top result is not a true match: first those whose true match is not in the top ")
            .Append(MaxK).Append(", then the widest score gaps. <mark>Highlighted</mark> words are shared with the query (title and brand).</p>");
        if (misses.Count == 0)
        {
            return html.Append("<p>No misses.</p></section>\n").ToString();
        }

        html.Append("<table class=\"misses\"><thead><tr><th>query</th><th>wrong top-1</th><th>true match</th></tr></thead><tbody>\n");
        foreach (var miss in misses)
        {
            run.Products.TryGetValue(miss.QueryId, out var query);
            var matchProduct = miss.BestMatch?.Product;
            if (matchProduct is null && run.Truth.TryGetValue(miss.QueryId, out var ids) && ids.Count > 0)
            {
                run.Products.TryGetValue(ids[0], out matchProduct);
            }

            html.Append("<tr><td>").Append(ProductCell(query, null, null)).Append("</td><td>")
                .Append(ProductCell(miss.TopWrong!.Product, miss.TopWrong, query)).Append("</td><td>")
                .Append(matchProduct is null ? "<span class=\"muted\">(not in the catalog)</span>" : ProductCell(matchProduct, miss.BestMatch, query));
            if (miss.BestMatch is null)
            {
                html.Append("<div class=\"muted\">not in the top ").Append(MaxK).Append("</div>");
            }
            else
            {
                html.Append("<div class=\"muted\">rank ").Append(miss.Rank.ToString(Inv)).Append("</div>");
            }

            html.Append("</td></tr>\n");
        }

        return html.Append("</tbody></table></section>\n").ToString();
    }

    private static string ProductCell(IndexedProduct? product, SearchHit? hit, IndexedProduct? query)
    {
        if (product is null)
        {
            return string.Empty;
        }

        var shared = query is null ? [] : MatchExplainer.Explain(query, product).SharedTerms;
        var cell = new StringBuilder();
        cell.Append("<div class=\"title\">").Append(Highlight(product.Product.Title, shared)).Append("</div><div class=\"muted\">")
            .Append(E(product.Id));
        if (!string.IsNullOrEmpty(product.Product.Brand))
        {
            cell.Append(" · ").Append(E(product.Product.Brand));
        }

        if (product.Product.Source is { Length: > 0 } source)
        {
            cell.Append(" · ").Append(E(source));
        }

        cell.Append("</div>");
        if (hit is not null)
        {
            cell.Append(CultureInfo.InvariantCulture, $"<div class=\"scores\">score {hit.Score:0.000} · vector {Part(hit.VectorScore, hit.VectorRank)} · keyword {Part(hit.KeywordScore, hit.KeywordRank)}</div>");
        }

        return cell.ToString();
    }

    private static string Part(double? score, int? rank) => score is { } s ? string.Create(Inv, $"{s:0.000} (#{rank})") : "–";

    private static string Highlight(string title, IReadOnlyList<string> terms)
    {
        if (terms.Count == 0)
        {
            return E(title);
        }

        // Marks every case-insensitive occurrence of a shared term; longest terms first so "1000xm5" wins over "1000".
        var marks = new bool[title.Length];
        var lower = title.ToLowerInvariant();
        foreach (var term in terms.OrderByDescending(t => t.Length))
        {
            for (var at = lower.IndexOf(term, StringComparison.Ordinal); at >= 0; at = lower.IndexOf(term, at + term.Length, StringComparison.Ordinal))
            {
                Array.Fill(marks, true, at, term.Length);
            }
        }

        var html = new StringBuilder();
        for (var i = 0; i < title.Length;)
        {
            var j = i;
            while (j < title.Length && marks[j] == marks[i])
            {
                j++;
            }

            var part = E(title[i..j]);
            html.Append(marks[i] ? $"<mark>{part}</mark>" : part);
            i = j;
        }

        return html.ToString();
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string F4(double value) => value.ToString("0.0000", Inv);

    private const string Css = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC","WenQuanYi Zen Hei",sans-serif;color:#1d2433;background:#f4f5f8;margin:0;padding:24px 32px;font-size:14px;line-height:1.45}
        header h1{margin:0;font-size:22px}.sub{color:#5d6577;margin:4px 0 0}
        section{background:#fff;border:1px solid #e2e5ec;border-radius:10px;padding:16px 20px;margin:18px 0}
        h2{font-size:16px;margin:0 0 8px}.note{color:#5d6577;font-size:12px;margin:0 0 10px}
        table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e2e5ec;vertical-align:top}
        th{font-size:12px;color:#5d6577;font-weight:600}.figures td:nth-child(n+3){font-variant-numeric:tabular-nums}
        tr.best td{font-weight:600}.misses td{width:33%}.title{font-weight:600}.muted{color:#5d6577;font-size:12px}.scores{font-size:12px;color:#3056d3;font-variant-numeric:tabular-nums}
        mark{background:#fff0b3;color:inherit;border-radius:3px}
        .chart .grid{stroke:#e2e5ec}.tick{font-size:11px;fill:#5d6577}.axis{font-size:12px;fill:#1d2433}.legend{font-size:12px;fill:#1d2433}.zero{stroke:#1d2433;stroke-dasharray:3 3}
        .hists{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0}figcaption{font-size:12px;color:#5d6577;text-align:center}
        footer{color:#5d6577;font-size:12px}
        """;
}
