using ProductSimilarity.Core.Catalog;

namespace ProductSimilarity.Core.Indexing;

/// <summary>How a query is ranked.</summary>
public enum RankingMode
{
    /// <summary>Vector (cosine) similarity only.</summary>
    Vector,

    /// <summary>BM25 keyword match only.</summary>
    Keyword,

    /// <summary>Vector and keyword lists fused (see <see cref="FusionMethod"/>).</summary>
    Hybrid,
}

/// <summary>How the vector and keyword lists are fused in <see cref="RankingMode.Hybrid"/>.</summary>
public enum FusionMethod
{
    /// <summary>Reciprocal rank fusion: <c>sum 1/(k + rank)</c>.</summary>
    Rrf,

    /// <summary><c>w * cosine + (1 - w) * minmax(BM25)</c> over the candidate lists.</summary>
    Weighted,

    /// <summary><c>w * z(cosine) + (1 - w) * z(BM25)</c>: each list's scores as standard scores over that list, so each
    /// side counts by how far a candidate stands out from the rest of its own list.</summary>
    ZScore,

    /// <summary>
    /// <see cref="ZScore"/> with a weight set per query from each list's confidence: the gap between its first and
    /// second score, in standard deviations of that list, scales that side's share of <c>w</c>. A side whose best result
    /// stands out (an exact model code, a near-duplicate title) leads; a side whose top is flat defers.
    /// </summary>
    Confidence,
}

/// <summary>Structured filters applied before ranking. All set conditions must hold.</summary>
/// <remarks>
/// <para>This record is the one definition of what a filter means; <see cref="Matches"/> is its meaning and
/// <see cref="Key"/> the one key folding. Every store only translates it (a Lucene query and a vector-scan predicate in
/// the embedded index, OData on Azure AI Search), and one table-driven test runs the same cases through each
/// translation.</para>
/// <para>Category and brand match exactly after <see cref="Key"/> on both sides (so case-insensitively). Price bounds are
/// inclusive, and a product without a price fails any bound. <see cref="InStock"/> matches only products whose flag is
/// known and equal. <see cref="Source"/> matches exactly (ordinal); a product without a source passes
/// <see cref="ExcludeSource"/>. <see cref="Attributes"/> match a catalog column by <see cref="AttributeTerm"/>: name and
/// value trimmed and folded with <see cref="Key"/> (so <c>Color=Black</c> matches <c>color=black</c>); a product without
/// the column fails.</para>
/// <para>Immutable; thread-safe.</para>
/// </remarks>
public sealed record ProductFilter
{
    /// <summary>Exact category match (case-insensitive).</summary>
    public string? Category { get; init; }

    /// <summary>Exact brand match (case-insensitive).</summary>
    public string? Brand { get; init; }

    /// <summary>Inclusive lower price bound.</summary>
    public decimal? MinPrice { get; init; }

    /// <summary>Inclusive upper price bound.</summary>
    public decimal? MaxPrice { get; init; }

    /// <summary>Only products with this stock flag.</summary>
    public bool? InStock { get; init; }

    /// <summary>Only products from this source (used by evaluation across sources).</summary>
    public string? Source { get; init; }

    /// <summary>Only products not from this source (used by evaluation across sources).</summary>
    public string? ExcludeSource { get; init; }

    /// <summary>
    /// Catalog columns the product must have with these values (name to value, every one must hold), for example
    /// <c>color = black</c>; see <see cref="AttributeTerm"/> for the folding.
    /// </summary>
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = NoAttributes;

    /// <summary>True when no condition is set.</summary>
    public bool IsEmpty => Category is null && Brand is null && MinPrice is null && MaxPrice is null
        && InStock is null && Source is null && ExcludeSource is null && Attributes.Count == 0;

    /// <summary>
    /// Longest <see cref="AttributeTerm"/> a store indexes. Longer column values (descriptions, lists) are not filterable:
    /// no product matches a filter on them, in every store alike.
    /// </summary>
    public const int MaxAttributeTermLength = 200;

    private static readonly IReadOnlyDictionary<string, string> NoAttributes = new Dictionary<string, string>();

    /// <summary>
    /// The one form of an attribute condition, as every store indexes it and every filter asks for it:
    /// <c>Key(name.Trim()) + "=" + Key(value.Trim())</c>.
    /// </summary>
    /// <param name="name">The catalog column name.</param>
    /// <param name="value">The value.</param>
    /// <returns>The term, for example <c>color=black</c>.</returns>
    public static string AttributeTerm(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        return Key(name.Trim()) + "=" + Key(value.Trim());
    }

    /// <summary>
    /// The attribute terms a store indexes for a product: one <see cref="AttributeTerm"/> per catalog column whose name is
    /// not blank and holds no <c>=</c>, whose value is not blank, and whose term is at most
    /// <see cref="MaxAttributeTermLength"/> characters.
    /// </summary>
    /// <param name="product">The product.</param>
    /// <returns>The distinct terms, in column order.</returns>
    public static IReadOnlyList<string> AttributeTerms(Product product)
    {
        ArgumentNullException.ThrowIfNull(product);
        if (product.Attributes.Count == 0)
        {
            return [];
        }

        var terms = new List<string>(product.Attributes.Count);
        foreach (var (name, value) in product.Attributes)
        {
            if (string.IsNullOrWhiteSpace(name) || name.Contains('=', StringComparison.Ordinal) || string.IsNullOrWhiteSpace(value))
            {
                continue;
            }

            var term = AttributeTerm(name, value);
            if (term.Length <= MaxAttributeTermLength && !terms.Contains(term, StringComparer.Ordinal))
            {
                terms.Add(term);
            }
        }

        return terms;
    }

    /// <summary>The terms of <see cref="Attributes"/> (see <see cref="AttributeTerm"/>), the form each store translates.</summary>
    public IEnumerable<string> AttributeFilterTerms() => Attributes.Select(a => AttributeTerm(a.Key, a.Value));

    /// <summary>Whether a product has the attribute <paramref name="name"/> with <paramref name="value"/> (see <see cref="AttributeTerm"/>).</summary>
    /// <param name="product">The product.</param>
    /// <param name="name">The column name.</param>
    /// <param name="value">The value.</param>
    /// <returns>True when it has.</returns>
    public static bool HasAttribute(Product product, string name, string value) =>
        AttributeTerms(product).Contains(AttributeTerm(name, value), StringComparer.Ordinal);

    /// <summary>
    /// The filter key of a category or brand, as every store indexes and queries it: lower-cased with the invariant
    /// culture. The one key folding of the project.
    /// </summary>
    /// <param name="value">A category or brand.</param>
    /// <returns>The folded key, or null for null.</returns>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(value))]
    public static string? Key(string? value) => value?.ToLowerInvariant();

    /// <summary>Whether a product's stored fields pass every condition set (see the remarks for the exact rules).</summary>
    /// <param name="product">The product.</param>
    /// <returns>True when the product passes.</returns>
    public bool Matches(Product product)
    {
        ArgumentNullException.ThrowIfNull(product);
        return (Category is null || string.Equals(Key(product.Category), Key(Category), StringComparison.Ordinal))
            && (Brand is null || string.Equals(Key(product.Brand), Key(Brand), StringComparison.Ordinal))
            && (MinPrice is null || product.Price >= MinPrice)
            && (MaxPrice is null || product.Price <= MaxPrice)
            && (InStock is null || product.InStock == InStock)
            && (Source is null || string.Equals(product.Source, Source, StringComparison.Ordinal))
            && (ExcludeSource is null || !string.Equals(product.Source, ExcludeSource, StringComparison.Ordinal))
            && (Attributes.Count == 0 || Attributes.All(a => HasAttribute(product, a.Key, a.Value)));
    }
}

/// <summary>Fusion settings for hybrid ranking.</summary>
public sealed record FusionOptions
{
    /// <summary>
    /// The default: standard-score fusion of the first 20 candidates of each list with the vector side at 0.3, and the
    /// unknown-token lean cubed, per query and per candidate (a pair whose texts the model reads 80% and 90% of keeps
    /// (0.8 × 0.9)^3 ≈ 0.37 of that weight). Chosen across three sets (amazon-google, the same with brands removed from
    /// titles, and the Chinese set in samples/zh-eval; the README has the table): it is at least as good as the better
    /// single side on each, and on each half of each.
    /// </summary>
    public static FusionOptions Default { get; } = new();

    /// <summary>Fusion method.</summary>
    public FusionMethod Method { get; init; } = FusionMethod.ZScore;

    /// <summary>Weight of the vector part in <see cref="FusionMethod.Weighted"/>, <see cref="FusionMethod.ZScore"/> and
    /// <see cref="FusionMethod.Confidence"/> (0..1).</summary>
    public double VectorWeight { get; init; } = 0.3;

    /// <summary>The k constant of reciprocal rank fusion.</summary>
    public int RrfK { get; init; } = 60;

    /// <summary>How many candidates of each list are fused (the heads); a store fetches more only to fill a larger top,
    /// and those follow the fused heads.</summary>
    public int CandidateCount { get; init; } = 20;

    /// <summary>
    /// How hard the unknown-token lean pulls (<see cref="Similarity.SimilarityService.FusionFor"/>): the vector weight of
    /// a query the model cannot fully read is scaled by <c>(share it can read)^exponent</c>. 1 scales by the share; the
    /// default, 3, by its cube.
    /// </summary>
    public double UnknownTokenLeanExponent { get; init; } = 3;

    /// <summary>
    /// Also lean per candidate: each candidate's vector weight is scaled by <c>(share of its text the model can
    /// read)^UnknownTokenLeanExponent</c> (<see cref="ProductQuery.CandidateReadableShare"/>), as the query's is. On by
    /// default.
    /// </summary>
    public bool LeanPerCandidate { get; init; } = true;
}

/// <summary>A query against an <see cref="IProductIndex"/>.</summary>
public sealed record ProductQuery
{
    /// <summary>Keyword text (already normalised), or null for a vector-only query.</summary>
    public string? Text { get; init; }

    /// <summary>The query vector (L2-normalised), or null for a keyword-only query.</summary>
    public ReadOnlyMemory<float>? Vector { get; init; }

    /// <summary>Ranking mode.</summary>
    public RankingMode Mode { get; init; } = RankingMode.Hybrid;

    /// <summary>Fusion settings for hybrid ranking.</summary>
    public FusionOptions Fusion { get; init; } = FusionOptions.Default;

    /// <summary>
    /// The share (0..1) of a candidate's text the embedding model can read, for the per-candidate lean of hybrid
    /// ranking (<see cref="FusionOptions.LeanPerCandidate"/>); null leaves every candidate's weight as the query's.
    /// Must be thread-safe.
    /// </summary>
    public Func<IndexedProduct, double>? CandidateReadableShare { get; init; }

    /// <summary>
    /// The same share as <see cref="CandidateReadableShare"/>, from a candidate's unknown-token share recorded at ingest
    /// (<see cref="IndexedProduct.UnknownTokenShare"/>, <see cref="ICandidateProducts.UnknownTokenShares"/>), so that the
    /// store need not read the candidate nor the model tokenise its text; null, or a candidate with none recorded, falls
    /// back to <see cref="CandidateReadableShare"/> on the read product. Must agree with it and be thread-safe.
    /// </summary>
    public Func<double, double>? CandidateReadableShareOfRecorded { get; init; }

    /// <summary>Filters.</summary>
    public ProductFilter Filter { get; init; } = new();

    /// <summary>How many results to return.</summary>
    public int Top { get; init; } = 10;

    /// <summary>Product ids that must not appear (the query product itself, purchased items).</summary>
    public IReadOnlySet<string> ExcludeIds { get; init; } = new HashSet<string>();

    /// <summary>Variant groups that must not appear (the query product's group).</summary>
    public IReadOnlySet<string> ExcludeGroupIds { get; init; } = new HashSet<string>();

    /// <summary>
    /// Whether the hits must carry their stored vectors (diversity re-ranking compares them). A store that leaves vectors
    /// out of query results to keep them small (Azure AI Search) selects them for such a query.
    /// </summary>
    public bool IncludeVectors { get; init; }

    /// <summary>
    /// Whether a product may be a candidate of this query: it passes <see cref="Filter"/>, its id is not in
    /// <see cref="ExcludeIds"/>, and its variant group (when it has one) is not in <see cref="ExcludeGroupIds"/>.
    /// </summary>
    /// <param name="product">The product.</param>
    /// <returns>True when the product may be returned.</returns>
    public bool Admits(Product product)
    {
        ArgumentNullException.ThrowIfNull(product);
        return Filter.Matches(product)
            && !ExcludeIds.Contains(product.Id)
            && (product.GroupId is null || !ExcludeGroupIds.Contains(product.GroupId));
    }

    /// <summary>Whether a store fills the vector candidate list: not keyword-only, and a non-empty vector is given.</summary>
    public bool UsesVector => Mode != RankingMode.Keyword && Vector is { Length: > 0 };

    /// <summary>Whether a store fills the keyword candidate list: not vector-only, and the text is not blank.</summary>
    public bool UsesKeyword => Mode != RankingMode.Vector && !string.IsNullOrWhiteSpace(Text);

    /// <summary>
    /// How many candidates each list holds at most: <c>max(Fusion.CandidateCount, Top)</c> in
    /// <see cref="RankingMode.Hybrid"/>, <see cref="Top"/> otherwise.
    /// </summary>
    public int CandidatesPerList => Mode == RankingMode.Hybrid ? Math.Max(Fusion.CandidateCount, Top) : Top;

    /// <summary>Throws when the query cannot be run: a negative <see cref="Top"/>, or a vector-only query without a vector.</summary>
    /// <exception cref="ArgumentException">The query is not valid.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(Top);
        if (Mode == RankingMode.Vector && Vector is not { Length: > 0 })
        {
            throw new ArgumentException("A vector query needs ProductQuery.Vector.", "query");
        }
    }
}

/// <summary>One ranked result with its score parts.</summary>
/// <param name="Product">The product.</param>
/// <param name="Score">The final (fused) score; higher is better.</param>
/// <param name="VectorScore">Cosine similarity, when the vector side ranked it.</param>
/// <param name="KeywordScore">BM25 score, when the keyword side ranked it.</param>
/// <param name="VectorRank">1-based rank in the vector list, when present.</param>
/// <param name="KeywordRank">1-based rank in the keyword list, when present.</param>
public sealed record SearchHit(
    IndexedProduct Product,
    double Score,
    double? VectorScore,
    double? KeywordScore,
    int? VectorRank,
    int? KeywordRank)
{
    /// <summary>The hit is the same product as the query's (for example the same GTIN), whatever its score; it ranks first.</summary>
    public bool SameProduct { get; init; }

    /// <summary>Why <see cref="SameProduct"/> is set (<c>same GTIN</c>).</summary>
    public string? SameProductReason { get; init; }

    /// <summary>Why the hit is in the list, when the request asked for explanations; null otherwise.</summary>
    public Similarity.ResultExplanation? Explanation { get; init; }

    /// <summary>
    /// The filter conditions this hit does not meet, when the filter fallback relaxed them to fill the list
    /// (<c>attr.color</c>, <c>price</c>, <c>brand</c>, <c>category</c>, <c>source</c>, <c>inStock</c>); empty for a hit
    /// that passes every filter. See <see cref="Similarity.FilterFallback"/>.
    /// </summary>
    public IReadOnlyList<string> RelaxedFilters { get; init; } = [];
}
