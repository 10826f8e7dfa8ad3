using System.ComponentModel.DataAnnotations;
using ProductSimilarity.Core.Similarity;

namespace ProductSimilarity.Core.Configuration;

/// <summary>
/// <c>ProductSimilarity:Results</c>: how a ranked list is filled and diversified (the filter fallback, MMR and
/// near-duplicate suppression). Each request can override <see cref="Fallback"/>, <see cref="MmrLambda"/> and
/// <see cref="SuppressNearDuplicates"/> (see <see cref="ResultShaping"/>).
/// </summary>
/// <remarks>
/// The defaults leave a list without filters exactly as the ranking made it: the fallback only acts when a filter is
/// set and leaves fewer than <c>top</c> items, and MMR and near-duplicate suppression are off.
/// </remarks>
public sealed class ResultOptions
{
    /// <summary>Whether a filtered list that is short of <c>top</c> is filled by relaxing filters (default true).</summary>
    public bool Fallback { get; set; } = true;

    /// <summary>
    /// The filters the fallback relaxes, one step each, in this order, comma-separated: any of <c>attributes</c>,
    /// <c>price</c>, <c>brand</c>, <c>category</c>, <c>source</c>, <c>inStock</c>. Default
    /// <c>attributes,price,brand,category,source</c>: the stock filter is never relaxed unless it is listed.
    /// </summary>
    public string RelaxOrder { get; set; } = FilterFallback.FormatOrder(FilterFallback.DefaultOrder);

    /// <summary>
    /// The MMR trade-off used when a request does not give one: 1 is pure relevance, 0 pure novelty; null (the default)
    /// turns MMR off.
    /// </summary>
    [Range(0.0, 1.0)]
    public double? MmrLambda { get; set; }

    /// <summary>
    /// Whether near-duplicates are suppressed when a request does not say (default false): a result whose stored vector
    /// has a cosine above <see cref="NearDuplicateThreshold"/> with a result already in the list is left out.
    /// </summary>
    /// <remarks>
    /// Off by default because it changes a list without anyone asking: two listings of the same article from two shops,
    /// or two colours of one product without a shared <c>group_id</c>, are often above 0.97 with a small embedding model,
    /// and for a matching or comparison use they are the results wanted. Shops that show a "similar items" shelf turn it
    /// on here or per request.
    /// </remarks>
    public bool SuppressNearDuplicates { get; set; }

    /// <summary>The cosine above which two results count as one (default 0.97).</summary>
    [Range(0.5, 1.0)]
    public double NearDuplicateThreshold { get; set; } = 0.97;

    /// <summary>
    /// How many fused candidates MMR and near-duplicate suppression choose from: at least this many, and at least three
    /// times <c>top</c> (default 50).
    /// </summary>
    [Range(10, 1000)]
    public int DiversityCandidates { get; set; } = 50;

    /// <summary><see cref="RelaxOrder"/>, parsed.</summary>
    /// <exception cref="FormatException">The order names an unknown filter or one twice.</exception>
    public IReadOnlyList<RelaxableFilter> ParsedRelaxOrder() => FilterFallback.ParseOrder(RelaxOrder);
}
