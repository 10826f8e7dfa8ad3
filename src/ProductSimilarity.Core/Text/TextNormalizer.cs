using ProductSimilarity.Core.Catalog;

namespace ProductSimilarity.Core.Text;

/// <summary>
/// Cleans product text for embedding and keyword search: strips HTML tags and entities, applies Unicode NFKC
/// (full-width to half-width), collapses whitespace and caps each field. Chinese text is kept intact.
/// </summary>
/// <remarks>Stateless; thread-safe.</remarks>
public sealed class TextNormalizer
{
    /// <summary>The shared instance.</summary>
    public static TextNormalizer Default { get; } = new();

    /// <summary>Longest title kept, in characters.</summary>
    public const int MaxTitleLength = 512;

    /// <summary>Longest description kept, in characters.</summary>
    public const int MaxDescriptionLength = 4000;

    /// <summary>Longest brand, category, currency or attribute value kept, in characters.</summary>
    public const int MaxShortFieldLength = 256;

    /// <summary>Cleans one field and caps it at <paramref name="maxLength"/> characters (never splitting a surrogate pair). Null or blank gives null.</summary>
    public string? Clean(string? text, int maxLength) => throw new NotImplementedException();

    /// <summary>Returns the product with every text field cleaned and capped.</summary>
    public Product Normalize(Product product) => throw new NotImplementedException();

    /// <summary>The keyword-side form of already-cleaned text: lower-cased (invariant).</summary>
    public string ForKeywords(string text) => throw new NotImplementedException();
}
