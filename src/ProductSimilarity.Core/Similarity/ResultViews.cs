using System.Text.Json.Serialization;
using ProductSimilarity.Core.Indexing;

namespace ProductSimilarity.Core.Similarity;

/// <summary>The public JSON shape of a product (HTTP API and <c>psim --json</c>). The vector is never included.</summary>
public sealed record ProductView(
    string Id,
    string Title,
    string? Brand,
    string? Category,
    decimal? Price,
    string? Currency,
    bool? InStock,
    string? GroupId,
    string? ImageUrl,
    string? Source,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Description = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Gtin = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Mpn = null)
{
    /// <summary>Maps an indexed product; <paramref name="withDescription"/> adds the description.</summary>
    public static ProductView From(IndexedProduct product, bool withDescription = false)
    {
        ArgumentNullException.ThrowIfNull(product);
        var p = product.Product;
        return new(p.Id, p.Title, p.Brand, p.Category, p.Price, p.Currency, p.InStock, p.GroupId, p.ImageUrl, p.Source, withDescription ? p.Description : null, p.Gtin, p.Mpn);
    }
}

/// <summary>The public JSON shape of a ranked result: the product and the score parts that explain its rank.</summary>
public sealed record HitView(
    ProductView Product,
    double Score,
    double? VectorScore,
    double? KeywordScore,
    int? VectorRank,
    int? KeywordRank,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool SameProduct = false,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ResultExplanation? Explanation = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Relaxed = null)
{
    /// <summary>Maps a search hit.</summary>
    public static HitView From(SearchHit hit)
    {
        ArgumentNullException.ThrowIfNull(hit);
        return new(ProductView.From(hit.Product), Math.Round(hit.Score, 6), Round(hit.VectorScore), Round(hit.KeywordScore), hit.VectorRank, hit.KeywordRank, hit.SameProduct, hit.SameProductReason, Round(hit.Explanation),
            hit.RelaxedFilters.Count == 0 ? null : hit.RelaxedFilters);
    }

    private static ResultExplanation? Round(ResultExplanation? e) => e is null ? null : e with
    {
        VectorScore = Round(e.VectorScore),
        KeywordScore = Round(e.KeywordScore),
        FusedScore = Math.Round(e.FusedScore, 6),
    };

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 6) : null;
}
