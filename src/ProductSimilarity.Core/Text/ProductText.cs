using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ProductSimilarity.Core.Catalog;

namespace ProductSimilarity.Core.Text;

/// <summary>
/// What text of a product is embedded and what text queries the keyword side, plus the content hashes that decide
/// whether a product must be re-embedded. One home for these rules, so ingestion, similar-items and evaluation agree.
/// </summary>
/// <remarks>Stateless; thread-safe.</remarks>
public static class ProductText
{
    /// <summary>
    /// The text embedded for a product: title and brand (and category when present). Descriptions are left out on
    /// purpose: on real shop data they are long, noisy and often boilerplate, and they pull unrelated products together
    /// (measured on amazon-google: title + brand gives the best recall@1 for MiniLM); they still count on the keyword side.
    /// </summary>
    public static string ForEmbedding(Product product)
    {
        ArgumentNullException.ThrowIfNull(product);
        var sb = new StringBuilder(product.Title);
        if (!string.IsNullOrEmpty(product.Brand) && !product.Title.Contains(product.Brand, StringComparison.OrdinalIgnoreCase))
        {
            sb.Append(" | ").Append(product.Brand);
        }

        return sb.ToString();
    }

    /// <summary>The keyword query used to find products like <paramref name="product"/>: its title and brand.</summary>
    public static string ForKeywordQuery(Product product)
    {
        ArgumentNullException.ThrowIfNull(product);
        return string.IsNullOrEmpty(product.Brand) ? product.Title : $"{product.Title} {product.Brand}";
    }

    /// <summary>
    /// The content hash of a normalised product: <c>{embeddingHash}.{recordHash}</c>. The first part covers what is
    /// embedded and the model (so a model or adapter change re-embeds everything); the second covers every stored field
    /// (so a price change rewrites the document without re-embedding it).
    /// </summary>
    public static string ContentHash(Product product, string modelId)
    {
        ArgumentNullException.ThrowIfNull(product);
        return $"{EmbeddingHash(product, modelId)}.{RecordHash(product)}";
    }

    /// <summary>The part of <see cref="ContentHash"/> that covers the embedded text and the model.</summary>
    public static string EmbeddingPart(string contentHash)
    {
        ArgumentNullException.ThrowIfNull(contentHash);
        var dot = contentHash.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? contentHash : contentHash[..dot];
    }

    private static string EmbeddingHash(Product product, string modelId) =>
        Hash(modelId + "\u001f" + ForEmbedding(product));

    private static string RecordHash(Product product)
    {
        var fields = new SortedDictionary<string, string?>(StringComparer.Ordinal)
        {
            ["title"] = product.Title,
            ["description"] = product.Description,
            ["brand"] = product.Brand,
            ["category"] = product.Category,
            ["price"] = product.Price?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["currency"] = product.Currency,
            ["in_stock"] = product.InStock?.ToString(),
            ["group_id"] = product.GroupId,
            ["image_url"] = product.ImageUrl,
            ["source"] = product.Source,
        };
        if (product.Gtin is not null || product.Mpn is not null)
        {
            // Only when present, so that hashes of products without identifiers stay what they were.
            fields["gtin"] = product.Gtin;
            fields["mpn"] = product.Mpn;
        }

        foreach (var (key, value) in product.Attributes)
        {
            fields["attr:" + key] = value;
        }

        return Hash(JsonSerializer.Serialize(fields));
    }

    private static string Hash(string text)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), digest);
        return Convert.ToHexStringLower(digest[..12]);
    }
}
