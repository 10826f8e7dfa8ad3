using System.Text.Json;
using System.Text.RegularExpressions;
using ProductSimilarity.Cli.Reports;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Evaluation;
using ProductSimilarity.Core.Indexing;

namespace ProductSimilarity.Cli.Tests;

public sealed partial class EvalReportTests
{
    [Fact]
    public async Task Eval_Report_WritesSelfContainedHtmlWithEveryRankingMode()
    {
        using var dir = new TempDir();
        var catalog = dir.File("catalog.jsonl");
        await File.WriteAllLinesAsync(catalog,
        [
            """{"id":"a:1","title":"adobe photoshop elements 6","brand":"adobe","source":"a"}""",
            """{"id":"a:2","title":"microsoft office 2007 home and student","brand":"microsoft","source":"a"}""",
            """{"id":"a:3","title":"norton antivirus 2008 <script>","brand":"symantec","source":"a"}""",
            """{"id":"g:1","title":"photoshop elements 6.0 win","source":"g"}""",
            """{"id":"g:2","title":"ms office home & student 2007","source":"g"}""",
            """{"id":"g:3","title":"microsoft office 2007 home and student upgrade","source":"g"}""",
        ]);
        var matches = dir.File("matches.csv");
        // a:2 is labelled with g:2 although g:3 is nearly the same title: a miss the report must show.
        await File.WriteAllTextAsync(matches, "id_a,id_b\na:1,g:1\na:2,g:2\n");
        var report = dir.File("report.html");

        var (exit, stdout, stderr) = await PsimRunner.RunAsync("eval", "--catalog", catalog, "--matches", matches, "--json", "--report", report);

        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout); // --json output is unchanged by --report
        Assert.Equal(4, doc.RootElement.GetProperty("queries").GetInt32());
        var html = await File.ReadAllTextAsync(report);
        Assert.StartsWith("<!doctype html>", html, StringComparison.Ordinal);
        Assert.DoesNotMatch("(?i)https?://|<script|<link|src=", html);
        Assert.Equal(3, PolylineRegex().Matches(html).Count); // one recall curve per ranking mode
        foreach (var mode in new[] { "vector", "keyword", "hybrid" })
        {
            Assert.Contains($"<td>{mode}</td>", html, StringComparison.Ordinal);
            Assert.Contains($"bundled all-MiniLM-L6-v2 &#183; {mode}</h2>", html, StringComparison.Ordinal); // its worst misses
        }

        var text = html.Replace("<mark>", string.Empty, StringComparison.Ordinal).Replace("</mark>", string.Empty, StringComparison.Ordinal); // shared terms are highlighted
        Assert.Contains("<mark>office</mark>", html, StringComparison.Ordinal);
        Assert.Contains("microsoft office 2007 home and student upgrade", text, StringComparison.Ordinal); // the wrong top-1 for a:2
        Assert.Contains("ms office home &amp; student 2007", text, StringComparison.Ordinal); // its true match, escaped
        Assert.Contains("score gap", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Eval_ReportWithModel_EvaluatesTheBundledModelTooAndComparesBoth()
    {
        using var dir = new TempDir();
        var catalog = dir.File("catalog.jsonl");
        await File.WriteAllLinesAsync(catalog,
        [
            """{"id":"a:1","title":"adobe photoshop elements 6","brand":"adobe","source":"a"}""",
            """{"id":"a:2","title":"microsoft office 2007 home and student","brand":"microsoft","source":"a"}""",
            """{"id":"g:1","title":"photoshop elements 6.0 win","source":"g"}""",
            """{"id":"g:2","title":"ms office home & student 2007","source":"g"}""",
        ]);
        var matches = dir.File("matches.csv");
        await File.WriteAllTextAsync(matches, "id_a,id_b\na:1,g:1\na:2,g:2\n");
        // A stand-in for a psim train output folder: a copy of the bundled model under another name.
        var modelDir = Directory.CreateDirectory(dir.File("tuned")).FullName;
        var model = Path.Combine(modelDir, "model.onnx");
        await File.WriteAllBytesAsync(model, ProductSimilarity.Embeddings.Onnx.BundledModel.MiniLm.ReadModel());
        await using (var vocab = ProductSimilarity.Embeddings.Onnx.BundledModel.MiniLm.OpenVocab())
        await using (var copy = File.Create(Path.Combine(modelDir, "vocab.txt")))
        {
            await vocab.CopyToAsync(copy);
        }

        var report = dir.File("report.html");

        var (exit, stdout, stderr) = await PsimRunner.RunAsync("eval", "--catalog", catalog, "--matches", matches, "--model", model, "--quantization", "none", "--json", "--report", report);

        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout); // the figures of --model
        Assert.Equal(4, doc.RootElement.GetProperty("queries").GetInt32());
        var html = await File.ReadAllTextAsync(report);
        Assert.DoesNotMatch("(?i)https?://|<script|<link|src=", html);
        Assert.Equal(6, PolylineRegex().Matches(html).Count); // 3 ranking modes x 2 models
        Assert.Contains("stroke-dasharray", html, StringComparison.Ordinal); // the second model's curves are dashed
        foreach (var mode in new[] { "vector", "keyword", "hybrid" })
        {
            Assert.Contains($"bundled all-MiniLM-L6-v2 &#183; {mode}</h2>", html, StringComparison.Ordinal);
            Assert.Contains($"fine-tuned model.onnx &#183; {mode}</h2>", html, StringComparison.Ordinal);
        }

        Assert.Equal(3, Regex.Matches(html, "<td>bundled all-MiniLM-L6-v2</td>").Count); // one table row per mode and model
        Assert.Equal(3, Regex.Matches(html, "<td>fine-tuned model.onnx</td>").Count);
    }

    [Fact]
    public void Render_TwoModels_ComparesThemWithOneCurveEach()
    {
        var query = Product("q", "sony earbuds");
        var wrong = Product("w", "sony headphones");
        var right = Product("r", "sony earbuds black");
        RankedQueries Ranked(int rank) => new(
            [new QueryOutcome("q", rank, rank == 1 ? null : Hit(wrong, 0.9), Hit(right, rank == 1 ? 0.95 : 0.8))], EvaluationReport.MaxK, 0);
        var products = new Dictionary<string, IndexedProduct> { ["q"] = query, ["r"] = right };
        var truth = new Dictionary<string, IReadOnlyList<string>> { ["q"] = ["r"] };

        var html = EvaluationReport.Render("t", "s",
        [
            new ReportRun("bundled", "hybrid", Ranked(2), products, truth),
            new ReportRun("fine-tuned", "hybrid", Ranked(1), products, truth),
        ]);

        Assert.Equal(2, PolylineRegex().Matches(html).Count);
        Assert.Contains("stroke-dasharray", html, StringComparison.Ordinal); // the second model is dashed
        Assert.Contains("<tr class=\"best\"><td>fine-tuned</td>", html, StringComparison.Ordinal);
        Assert.Contains("<mark>sony</mark> headphones", html, StringComparison.Ordinal);
        Assert.Contains("rank 2", html, StringComparison.Ordinal);
    }

    private static IndexedProduct Product(string id, string title) =>
        new() { Product = new Product { Id = id, Title = title }, ContentHash = id, Vector = new float[] { 1, 0 } };

    private static SearchHit Hit(IndexedProduct product, double score) =>
        new(product, score, score, null, 1, null);

    [GeneratedRegex("<polyline ")]
    private static partial Regex PolylineRegex();
}
