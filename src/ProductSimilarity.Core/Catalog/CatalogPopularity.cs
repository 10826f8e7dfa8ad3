using System.Globalization;

namespace ProductSimilarity.Core.Catalog;

/// <summary>
/// The catalog's optional popularity column: <c>popularity</c>, or one of its aliases <c>popularity_score</c>,
/// <c>sales_count</c>, <c>units_sold</c>. Any non-negative number where higher is more popular (sales, views, a score).
/// The readers check it and keep it with the product's attributes under <c>popularity</c>, so every index stores it
/// without a schema change. Stateless; thread-safe.
/// </summary>
public static class CatalogPopularity
{
    /// <summary>The attribute name the popularity is kept under.</summary>
    public const string AttributeName = "popularity";

    /// <summary>The column names read as the popularity (case-insensitive; <c>-</c> and spaces count as <c>_</c>).</summary>
    public static IReadOnlyList<string> ColumnNames { get; } = [AttributeName, "popularity_score", "sales_count", "units_sold"];

    /// <summary>Whether a column name is the popularity column or one of its aliases.</summary>
    /// <param name="name">A column or property name.</param>
    /// <returns>True for the popularity column.</returns>
    public static bool IsColumn(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var key = name.Trim().ToLowerInvariant().Replace('-', '_').Replace(' ', '_');
        return ColumnNames.Contains(key);
    }

    /// <summary>Parses a popularity value: a finite, non-negative number (invariant culture).</summary>
    /// <param name="text">The cell.</param>
    /// <param name="value">The number, written back in invariant form.</param>
    /// <param name="reason">Why it is not a popularity, for the row error.</param>
    /// <returns>True when valid.</returns>
    public static bool TryParse(string text, out string value, out string reason)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) && number >= 0)
        {
            value = number.ToString("R", CultureInfo.InvariantCulture);
            reason = string.Empty;
            return true;
        }

        value = string.Empty;
        reason = $"'{(text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 40), "..."))}' is not a popularity (expected a non-negative number)";
        return false;
    }

    /// <summary>The stored popularity of a product, or null when its catalog had none.</summary>
    /// <param name="product">The product.</param>
    /// <returns>The popularity.</returns>
    public static double? Of(Product product)
    {
        ArgumentNullException.ThrowIfNull(product);
        return product.Attributes.TryGetValue(AttributeName, out var text)
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
            ? number
            : null;
    }
}
