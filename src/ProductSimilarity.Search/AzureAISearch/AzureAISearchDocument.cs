using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Search.AzureAISearch;

/// <summary>One search document as sent to and read from Azure AI Search (camelCase field names of <see cref="AzureAISearchSchema"/>).</summary>
/// <remarks>Mutable DTO for the SDK serializer; not shared between threads.</remarks>
internal sealed class AzureAISearchDocument
{
    private static readonly JsonSerializerOptions AttributeJson = new();

    [JsonPropertyName(AzureAISearchSchema.Id)]
    public string Id { get; set; } = "";

    [JsonPropertyName(AzureAISearchSchema.Title)]
    public string? Title { get; set; }

    [JsonPropertyName(AzureAISearchSchema.Description)]
    public string? Description { get; set; }

    [JsonPropertyName(AzureAISearchSchema.Brand)]
    public string? Brand { get; set; }

    [JsonPropertyName(AzureAISearchSchema.BrandKey)]
    public string? BrandKey { get; set; }

    [JsonPropertyName(AzureAISearchSchema.Category)]
    public string? Category { get; set; }

    [JsonPropertyName(AzureAISearchSchema.CategoryKey)]
    public string? CategoryKey { get; set; }

    [JsonPropertyName(AzureAISearchSchema.GroupId)]
    public string? GroupId { get; set; }

    [JsonPropertyName(AzureAISearchSchema.Price)]
    public double? Price { get; set; }

    [JsonPropertyName(AzureAISearchSchema.Currency)]
    public string? Currency { get; set; }

    [JsonPropertyName(AzureAISearchSchema.InStock)]
    public bool? InStock { get; set; }

    [JsonPropertyName(AzureAISearchSchema.Source)]
    public string? Source { get; set; }

    [JsonPropertyName(AzureAISearchSchema.ImageUrl)]
    public string? ImageUrl { get; set; }

    /// <summary>The GTIN-14, normalised on reading the catalog.</summary>
    [JsonPropertyName(AzureAISearchSchema.Gtin)]
    public string? Gtin { get; set; }

    /// <summary>The manufacturer part number, normalised like a model code.</summary>
    [JsonPropertyName(AzureAISearchSchema.Mpn)]
    public string? Mpn { get; set; }

    /// <summary>The product's extra columns as a JSON object string (stored, never searched).</summary>
    [JsonPropertyName(AzureAISearchSchema.Attributes)]
    public string? Attributes { get; set; }

    /// <summary>The attribute filter terms (<see cref="ProductFilter.AttributeTerms"/>); written, never read back.</summary>
    [JsonPropertyName(AzureAISearchSchema.AttributeKeys)]
    public IReadOnlyList<string>? AttributeKeys { get; set; }

    [JsonPropertyName(AzureAISearchSchema.ContentHash)]
    public string? ContentHash { get; set; }

    /// <summary>The title's product codes in normal form (<see cref="ProductCodes.Extract"/>), as the embedded index's
    /// codes field holds them; written, never read back.</summary>
    [JsonPropertyName(AzureAISearchSchema.Codes)]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Codes { get; set; }

    /// <summary>Their near-match keys (<see cref="ProductCodes.BaseForms"/>).</summary>
    [JsonPropertyName(AzureAISearchSchema.CodeBases)]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? CodeBases { get; set; }

    /// <summary>The embedding; omitted from query results (not selected) to keep responses small.</summary>
    [JsonPropertyName(AzureAISearchSchema.Vector)]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float[]? Vector { get; set; }

    /// <summary>Maps an indexed product to its search document. Every field is written (nulls included), so
    /// <c>mergeOrUpload</c> replaces the whole stored document; without <paramref name="withVector"/> the vector is left
    /// out, so a <c>merge</c> keeps the stored one.</summary>
    public static AzureAISearchDocument From(IndexedProduct item, bool withVector = true)
    {
        Product p = item.Product;
        var codes = ProductCodes.Extract(TextNormalizer.Default.ForKeywords(p.Title));
        return new AzureAISearchDocument
        {
            Codes = codes,
            CodeBases = ProductCodes.BaseForms(codes),
            Id = p.Id,
            Title = p.Title,
            Description = p.Description,
            Brand = p.Brand,
            BrandKey = ProductFilter.Key(p.Brand),
            Category = p.Category,
            CategoryKey = ProductFilter.Key(p.Category),
            GroupId = p.GroupId,
            Price = p.Price is { } price ? (double)price : null,
            Currency = p.Currency,
            InStock = p.InStock,
            Source = p.Source,
            ImageUrl = p.ImageUrl,
            Gtin = p.Gtin,
            Mpn = p.Mpn,
            Attributes = p.Attributes.Count == 0 ? null : JsonSerializer.Serialize(p.Attributes, AttributeJson),
            AttributeKeys = ProductFilter.AttributeTerms(p),
            ContentHash = item.ContentHash,
            Vector = withVector ? item.Vector.ToArray() : null,
        };
    }

    /// <summary>Maps a stored document back to an indexed product (an empty vector when it was not selected).</summary>
    public IndexedProduct ToIndexedProduct()
    {
        IReadOnlyDictionary<string, string>? attributes = null;
        if (!string.IsNullOrEmpty(Attributes))
        {
            try
            {
                attributes = JsonSerializer.Deserialize<Dictionary<string, string>>(Attributes, AttributeJson);
            }
            catch (JsonException)
            {
                // A document written by another tool: keep the raw text rather than failing the whole read.
                attributes = new Dictionary<string, string> { [AzureAISearchSchema.Attributes] = Attributes };
            }
        }

        var product = new Product
        {
            Id = Id,
            Title = Title ?? "",
            Description = Description,
            Brand = Brand,
            Category = Category,
            Price = Price is { } price && double.IsFinite(price) ? ToDecimal(price) : null,
            Currency = Currency,
            InStock = InStock,
            GroupId = GroupId,
            ImageUrl = ImageUrl,
            Source = Source,
            Gtin = Gtin,
            Mpn = Mpn,
        };
        if (attributes is not null)
        {
            product = product with { Attributes = attributes };
        }

        return new IndexedProduct
        {
            Product = product,
            ContentHash = ContentHash ?? "",
            Vector = Vector ?? ReadOnlyMemory<float>.Empty,
        };
    }

    private static decimal? ToDecimal(double value)
    {
        // Edm.Double round-trips the shortest representation; parse it back so 19.99 stays 19.99m.
        string text = value.ToString("R", CultureInfo.InvariantCulture);
        return decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out decimal d) ? d : null;
    }
}
