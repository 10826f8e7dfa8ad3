using System.Text.Json.Serialization;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Core.Similarity;

/// <summary>A normalised term that a result shares with the query.</summary>
/// <param name="Term">The term, normalised as the keyword side sees it (cleaned, lower-cased).</param>
/// <param name="ProductCode">True when the term looks like a product code (letters and digits, or the product's MPN).</param>
public sealed record SharedTerm(string Term, bool ProductCode);

/// <summary>Why a result is in the list and where it ranks (<c>explain=true</c>).</summary>
/// <remarks>Immutable; thread-safe. The JSON names are the camelCase property names.</remarks>
public sealed record ResultExplanation
{
    /// <summary>Cosine similarity to the query vector, when the vector side ranked the result.</summary>
    public double? VectorScore { get; init; }

    /// <summary>1-based rank in the vector candidate list.</summary>
    public int? VectorRank { get; init; }

    /// <summary>BM25 score, when the keyword side ranked the result.</summary>
    public double? KeywordScore { get; init; }

    /// <summary>1-based rank in the keyword candidate list.</summary>
    public int? KeywordRank { get; init; }

    /// <summary>The final score (fused in hybrid mode).</summary>
    public double FusedScore { get; init; }

    /// <summary>1-based position in the returned list.</summary>
    public int FusedRank { get; init; }

    /// <summary>Normalised terms of the result that also occur in the query (the query product's title and brand, or the search text).</summary>
    public IReadOnlyList<SharedTerm> SharedTerms { get; init; } = [];

    /// <summary>Attributes the result shares with the query product: <c>brand</c>, <c>category</c>, <c>priceBand</c>.</summary>
    public IReadOnlyList<string> MatchingAttributes { get; init; } = [];

    /// <summary>The filter conditions the result does not meet, relaxed by the filter fallback to fill the list; empty when it passes every filter.</summary>
    public IReadOnlyList<string> RelaxedFilters { get; init; } = [];

    /// <summary>The model code the result shares with the query (same model code, or the same up to a colour or region
    /// suffix), when there is one.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SharedModelCode? ModelCode { get; init; }

    /// <summary>The query product the terms and attributes were compared with (recommendations: the strongest history item).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ComparedWith { get; init; }

    /// <summary>Recommendations only: the history items that contributed most to this result, strongest first.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<HistoryContribution>? ContributingHistory { get; init; }
}

/// <summary>How much one history item contributed to a recommendation.</summary>
/// <param name="Id">The history product's id.</param>
/// <param name="Title">The history product's title.</param>
/// <param name="Weight">Its event weight x time decay (several events on one product add up).</param>
/// <param name="Similarity">Cosine similarity between the history product and the result.</param>
/// <param name="Share">Its part of the result's total contribution (weight x similarity), 0..1.</param>
public sealed record HistoryContribution(string Id, string Title, double Weight, double Similarity, double Share);

/// <summary>Builds <see cref="ResultExplanation"/>s. Stateless; thread-safe.</summary>
public static class ResultExplainer
{
    /// <summary>
    /// Two prices are in the same price band when the higher is at most this multiple of the lower (25 % apart).
    /// </summary>
    public const double PriceBandRatio = 1.25;

    private static readonly char[] Separators =
        [' ', '\t', '\n', '\r', ',', ';', ':', '(', ')', '[', ']', '{', '}', '|', '/', '\\', '"', '\'', '!', '?', '*', '+', '&', '#', '@', '<', '>', '=', '~'];

    /// <summary>Adds an explanation to every hit, comparing with <paramref name="reference"/> (or the search text when it is null).</summary>
    /// <param name="hits">The final list, best first.</param>
    /// <param name="reference">The query product, when there is one.</param>
    /// <param name="queryText">The query's text (the product's title and brand, or the search text).</param>
    /// <returns>The hits with <see cref="SearchHit.Explanation"/> set.</returns>
    public static IReadOnlyList<SearchHit> Explain(IReadOnlyList<SearchHit> hits, Product? reference, string queryText)
    {
        ArgumentNullException.ThrowIfNull(hits);
        ArgumentNullException.ThrowIfNull(queryText);
        var queryTerms = Terms(queryText);
        var result = new List<SearchHit>(hits.Count);
        for (var i = 0; i < hits.Count; i++)
        {
            var hit = hits[i];
            var product = hit.Product.Product;
            result.Add(hit with
            {
                Explanation = (hit.Explanation ?? new ResultExplanation()) with
                {
                    VectorScore = hit.VectorScore,
                    VectorRank = hit.VectorRank,
                    KeywordScore = hit.KeywordScore,
                    KeywordRank = hit.KeywordRank,
                    FusedScore = hit.Score,
                    FusedRank = i + 1,
                    SharedTerms = SharedTerms(queryTerms, product, reference),
                    MatchingAttributes = reference is null ? [] : MatchingAttributes(reference, product),
                    ModelCode = reference is null ? ProductCodes.Shared(queryText, product) : ProductCodes.Shared(reference, product),
                    ComparedWith = reference?.Id,
                    RelaxedFilters = hit.RelaxedFilters,
                },
            });
        }

        return result;
    }

    /// <summary>
    /// The distinct normalised terms of a text, in order: cleaned by <see cref="TextNormalizer.Clean"/>, lower-cased as for
    /// keywords, split at white space and punctuation (a hyphen or dot inside a term is kept, so <c>mdr-7506</c> stays one
    /// term), single characters dropped unless they are digits or not Latin (CJK).
    /// </summary>
    /// <param name="text">The text.</param>
    /// <returns>The terms.</returns>
    public static IReadOnlyList<string> Terms(string? text)
    {
        var clean = TextNormalizer.Default.Clean(text, TextNormalizer.MaxDescriptionLength);
        if (clean is null)
        {
            return [];
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var terms = new List<string>();
        foreach (var raw in TextNormalizer.Default.ForKeywords(clean).Split(Separators, StringSplitOptions.RemoveEmptyEntries))
        {
            var term = raw.Trim('.', '-', '_');
            if (term.Length == 0 || (term.Length == 1 && char.IsAsciiLetter(term[0])))
            {
                continue;
            }

            if (seen.Add(term))
            {
                terms.Add(term);
            }
        }

        return terms;
    }

    /// <summary>Whether a normalised term looks like a product code: it mixes letters and digits (<c>wh-1000xm4</c>), or it is the product's MPN.</summary>
    /// <param name="term">A term from <see cref="Terms"/>.</param>
    /// <param name="mpn">The normalised MPN of either product, when known.</param>
    /// <returns>True for a product code.</returns>
    public static bool IsProductCode(string term, string? mpn = null)
    {
        ArgumentNullException.ThrowIfNull(term);
        if (mpn is { Length: > 0 } && string.Equals(Compact(term), Compact(mpn), StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return term.Any(char.IsLetter) && term.Any(char.IsDigit);
    }

    /// <summary>The attributes two products share: <c>brand</c> and <c>category</c> (compared with <see cref="ProductFilter.Key"/>) and <c>priceBand</c> (see <see cref="PriceBandRatio"/>).</summary>
    /// <param name="query">The query product.</param>
    /// <param name="result">The result product.</param>
    /// <returns>The names of the matching attributes.</returns>
    public static IReadOnlyList<string> MatchingAttributes(Product query, Product result)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(result);
        var matching = new List<string>(3);
        if (query.Brand is { Length: > 0 } && string.Equals(ProductFilter.Key(query.Brand), ProductFilter.Key(result.Brand), StringComparison.Ordinal))
        {
            matching.Add("brand");
        }

        if (query.Category is { Length: > 0 } && string.Equals(ProductFilter.Key(query.Category), ProductFilter.Key(result.Category), StringComparison.Ordinal))
        {
            matching.Add("category");
        }

        if (SamePriceBand(query.Price, result.Price))
        {
            matching.Add("priceBand");
        }

        return matching;
    }

    /// <summary>Whether two prices are in the same band: both positive, the higher at most <see cref="PriceBandRatio"/> times the lower.</summary>
    public static bool SamePriceBand(decimal? a, decimal? b) =>
        a is > 0 && b is > 0 && (double)Math.Max(a.Value, b.Value) <= (double)Math.Min(a.Value, b.Value) * PriceBandRatio;

    private static List<SharedTerm> SharedTerms(IReadOnlyList<string> queryTerms, Product product, Product? reference)
    {
        if (queryTerms.Count == 0)
        {
            return [];
        }

        var resultTerms = new HashSet<string>(Terms(ProductText.ForKeywordQuery(product)), StringComparer.Ordinal);
        var shared = new List<SharedTerm>();
        foreach (var term in queryTerms)
        {
            if (resultTerms.Contains(term))
            {
                shared.Add(new SharedTerm(term, IsProductCode(term, product.Mpn) || IsProductCode(term, reference?.Mpn)));
            }
        }

        return shared;
    }

    private static string Compact(string value) => new(value.Where(char.IsLetterOrDigit).ToArray());

    /// <summary>
    /// The history items that contributed most to a recommendation: each positive item's weight x its cosine to the
    /// result (negative cosines count as 0), strongest first (ties by id), with its share of the total.
    /// </summary>
    /// <param name="result">The recommended product, with its vector.</param>
    /// <param name="history">The positive history products with their weights (event weight x time decay).</param>
    /// <param name="max">How many to return.</param>
    /// <returns>At most <paramref name="max"/> contributions; none when no history item points towards the result.</returns>
    public static IReadOnlyList<HistoryContribution> ContributingHistory(IndexedProduct result, IReadOnlyList<(IndexedProduct Product, double Weight)> history, int max)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(history);
        var parts = new List<(IndexedProduct Product, double Weight, double Similarity, double Value)>(history.Count);
        foreach (var (product, weight) in history)
        {
            var similarity = product.Vector.Length == result.Vector.Length
                ? (double)System.Numerics.Tensors.TensorPrimitives.Dot(result.Vector.Span, product.Vector.Span)
                : 0;
            parts.Add((product, weight, similarity, weight * Math.Max(0, similarity)));
        }

        var total = parts.Sum(p => p.Value);
        return
        [
            .. parts.Where(p => p.Value > 0)
                .OrderByDescending(p => p.Value).ThenBy(p => p.Product.Id, StringComparer.Ordinal)
                .Take(max)
                .Select(p => new HistoryContribution(p.Product.Id, p.Product.Product.Title, Math.Round(p.Weight, 6), Math.Round(p.Similarity, 6), Math.Round(p.Value / total, 6))),
        ];
    }
}
