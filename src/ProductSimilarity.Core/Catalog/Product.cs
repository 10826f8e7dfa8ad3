namespace ProductSimilarity.Core.Catalog;

/// <summary>One catalog product as read from a catalog file, before normalisation.</summary>
/// <remarks>Immutable; thread-safe.</remarks>
public sealed record Product
{
    /// <summary>The shop's product id. Required, unique within a catalog, at most <see cref="CatalogLimits.MaxIdLength"/> characters.</summary>
    public required string Id { get; init; }

    /// <summary>The product title. Required.</summary>
    public required string Title { get; init; }

    /// <summary>Free-text description (HTML allowed; it is stripped on normalisation).</summary>
    public string? Description { get; init; }

    /// <summary>Brand or manufacturer.</summary>
    public string? Brand { get; init; }

    /// <summary>Category, optionally a path such as <c>Electronics &gt; Audio</c>.</summary>
    public string? Category { get; init; }

    /// <summary>Price in <see cref="Currency"/>.</summary>
    public decimal? Price { get; init; }

    /// <summary>ISO 4217 currency code.</summary>
    public string? Currency { get; init; }

    /// <summary>Whether the product can be bought now.</summary>
    public bool? InStock { get; init; }

    /// <summary>Variants of one product (sizes, colours) share a group id; similar-items excludes them.</summary>
    public string? GroupId { get; init; }

    /// <summary>Image address.</summary>
    public string? ImageUrl { get; init; }

    /// <summary>Where the record came from (a marketplace, a feed); used by evaluation across sources.</summary>
    public string? Source { get; init; }

    /// <summary>
    /// The product's GTIN (EAN, UPC or ISBN) as 14 digits with a valid check digit; <c>null</c> when absent or invalid.
    /// Two products with the same GTIN are the same product. See <see cref="ProductIdentifiers.TryNormalizeGtin"/>.
    /// </summary>
    public string? Gtin { get; init; }

    /// <summary>The manufacturer part number, normalised like a model code (see <see cref="ProductIdentifiers.NormalizeMpn"/>).</summary>
    public string? Mpn { get; init; }

    /// <summary>True when the row asks for the product to be removed from the index (the <c>deleted</c> column).</summary>
    public bool Deleted { get; init; }

    /// <summary>Every other column, kept verbatim.</summary>
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = EmptyAttributes;

    internal static readonly IReadOnlyDictionary<string, string> EmptyAttributes = new Dictionary<string, string>();
}

/// <summary>Limits applied while reading catalogs.</summary>
public static class CatalogLimits
{
    /// <summary>Longest accepted product id (Azure AI Search keys allow 1,024 characters; we keep ids short).</summary>
    public const int MaxIdLength = 512;
}
