using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Search.Local;

/// <summary>Keyword (BM25) settings of <see cref="LocalProductIndex"/>.</summary>
/// <remarks>
/// Immutable; thread-safe. The boosts multiply each field's BM25 score; a query term scores in every field that holds
/// it and the parts add up. The defaults favour the title, where products from different shops agree most: a query
/// made of one shop's title finds the same product listed by another shop even when that shop's description is long
/// and different. A boost of 0 leaves the field out of keyword queries.
/// </remarks>
public sealed record LocalProductIndexOptions
{
    /// <summary>The defaults.</summary>
    public static LocalProductIndexOptions Default { get; } = new();

    /// <summary>Boost of the title field.</summary>
    public float TitleBoost { get; init; } = 1.0f;

    /// <summary>Boost of the brand field.</summary>
    public float BrandBoost { get; init; } = 0.5f;

    /// <summary>Boost of the category field.</summary>
    public float CategoryBoost { get; init; } = 0.3f;

    /// <summary>Boost of the description field.</summary>
    public float DescriptionBoost { get; init; } = 0.2f;

    /// <summary>
    /// Boost of the model-number field: title chunks holding letters and digits, with separators removed, so that
    /// <c>WH-1000XM4</c> and <c>wh1000xm4</c> match each other.
    /// </summary>
    public float ModelNumberBoost { get; init; } = 1.0f;

    /// <summary>
    /// Boost of the near-code field: codes without a colour or region suffix (<see cref="ProductCodes.BaseForm"/>), so
    /// that <c>SRSA212/BLK</c> and <c>SRSA212BK</c> meet. An exact code also matches here, so an exact match always
    /// scores above a near one. 0 turns near matches off.
    /// </summary>
    public float NearCodeBoost { get; init; } = 0.5f;

    /// <summary>
    /// How keyword candidates are scored: in memory (the default; <see cref="MemoryKeywordScorer"/>) or by Lucene's
    /// <c>IndexSearcher</c>. Same hits, same order, same scores.
    /// </summary>
    public KeywordScorerKind KeywordScorer { get; init; } = KeywordScorerKind.Memory;

    /// <summary>When vector queries use the HNSW graph instead of an exact scan, and its parameters.</summary>
    public HnswSettings Hnsw { get; init; } = HnswSettings.Default;

    /// <summary>
    /// The keyword-side text rules the documents' searchable fields are written with
    /// (<see cref="TextNormalizer.ForKeywords"/>: boilerplate list, units, Traditional to Simplified); the hosts pass the
    /// configured <c>ProductSimilarity:Text</c> rules, which the query side (<c>SimilarityService</c>) also uses. A change
    /// takes effect for documents written after it: re-ingest (<c>--full</c>) to rewrite the others.
    /// </summary>
    public TextNormalizer Text { get; init; } = TextNormalizer.Default;

    /// <summary>The most distinct query terms used (longer query text is cut); bounds the cost of a query.</summary>
    public int MaxQueryTerms { get; init; } = 64;

    /// <summary>
    /// Null (the default): every read first brings the reader up to the latest commit, on the caller's thread. Set: a
    /// background task looks for a new commit at this interval, opens it and warms it (loads the new segments' vectors,
    /// brings the HNSW graph up to date) before reads switch to it, so no read waits for another process's commit; reads
    /// see that commit one refresh later. This instance's own commits are visible at once either way. For servers.
    /// </summary>
    public TimeSpan? RefreshInterval { get; init; }

    /// <summary>How an exact vector search reads the vectors (<see cref="ExactScanMode"/>); both give the same results.</summary>
    public ExactScanMode ExactScan { get; init; } = ExactScanMode.Int8;
}

/// <summary>How <see cref="LocalProductIndex"/> scans the vectors when it searches exactly (no HNSW graph in use). Both
/// return exactly the same ids, order and scores.</summary>
public enum ExactScanMode
{
    /// <summary>Scan an int8 copy of each segment's vectors (a quarter of the bytes), bound each row's error, and rescore
    /// in fp32 only the rows that can still reach the top k. About 400 more bytes per product in memory (384 dimensions),
    /// built when a segment is first scanned.</summary>
    Int8,

    /// <summary>Compute every row's fp32 dot product: no int8 copy, slower on large catalogs.</summary>
    Fp32,
}
