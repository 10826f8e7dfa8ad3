using System.Globalization;

namespace ProductSimilarity.Core.Catalog;

/// <summary>The raw string values of one catalog row, before validation. Reused from row to row.</summary>
/// <remarks>Not thread-safe.</remarks>
internal sealed class RawRow
{
    /// <summary>Known field values by <see cref="CatalogField"/>; <c>null</c> when absent.</summary>
    public string?[] Values { get; } = new string?[CatalogFields.Count];

    /// <summary>Every other column or property, in file order, empty values already left out.</summary>
    public List<KeyValuePair<string, string>> Attributes { get; } = [];

    public void Clear()
    {
        Array.Clear(Values);
        Attributes.Clear();
    }
}

/// <summary>
/// Turns <see cref="RawRow"/>s into products or row errors with the rules shared by CSV and JSON Lines: required id
/// and title, id length, duplicate ids, prices, booleans and invalid UTF-8.
/// </summary>
/// <remarks>
/// One instance per file: it remembers the ids accepted so far (only accepted rows count, so a rejected row never
/// makes a later good row with the same id a duplicate). Not thread-safe.
/// </remarks>
internal sealed class ProductRowBuilder(string file, CultureInfo? priceCulture = null, string? sheet = null)
{
    private const char ReplacementChar = '\uFFFD';
    private const string InvalidUtf8 = "invalid UTF-8";

    private readonly Dictionary<string, long> _seen = new(StringComparer.Ordinal);

    /// <summary>The file name used in errors.</summary>
    public string File => file;

    /// <summary>Makes a rejected row.</summary>
    public CatalogRow Error(long line, string? field, string reason, string? id = null) =>
        new(line, null, new RowError(file, line, field, reason, id) { Sheet = sheet });

    /// <summary>Validates <paramref name="raw"/> and builds the product, or the first error found.</summary>
    public CatalogRow Build(long line, RawRow raw)
    {
        var values = raw.Values;
        var id = TrimToNull(values[(int)CatalogField.Id]);

        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] is { } value && value.Contains(ReplacementChar, StringComparison.Ordinal))
            {
                return Error(line, CatalogFields.NameOf((CatalogField)i), InvalidUtf8, i == (int)CatalogField.Id ? null : id);
            }
        }

        foreach (var (key, value) in raw.Attributes)
        {
            if (key.Contains(ReplacementChar, StringComparison.Ordinal) || value.Contains(ReplacementChar, StringComparison.Ordinal))
            {
                return Error(line, key, InvalidUtf8, id);
            }
        }

        if (id is null)
        {
            return Error(line, "id", "id is missing");
        }

        if (id.Length > CatalogLimits.MaxIdLength)
        {
            return Error(line, "id", FormattableString.Invariant($"id is {id.Length:N0} characters long; the limit is {CatalogLimits.MaxIdLength:N0}"));
        }

        if (!TryParseBool(values[(int)CatalogField.Deleted], out var deleted))
        {
            return Error(line, "deleted", BoolReason(values[(int)CatalogField.Deleted]!), id);
        }

        var isDeleted = deleted ?? false;
        var title = TrimToNull(values[(int)CatalogField.Title]);
        if (title is null && !isDeleted)
        {
            return Error(line, "title", "title is missing", id);
        }

        if (!PriceParser.TryParse(values[(int)CatalogField.Price], priceCulture, out var price, out var priceCurrency, out var priceReason))
        {
            return Error(line, "price", priceReason, id);
        }

        if (!TryParseBool(values[(int)CatalogField.InStock], out var inStock))
        {
            return Error(line, "in_stock", BoolReason(values[(int)CatalogField.InStock]!), id);
        }

        if (!_seen.TryAdd(id, line))
        {
            return Error(line, "id", FormattableString.Invariant($"duplicate id '{id}'; first seen at line {_seen[id]}"), id);
        }

        IReadOnlyList<RowError> warnings = [];
        string? gtin = null;
        var gtinText = values[(int)CatalogField.Gtin];
        if (!string.IsNullOrWhiteSpace(gtinText) && !ProductIdentifiers.TryNormalizeGtin(gtinText, out gtin, out var gtinReason))
        {
            warnings = [new RowError(file, line, "gtin", gtinReason + "; the row was kept without it", id) { Sheet = sheet, IsWarning = true }];
        }

        string? popularity = null;
        foreach (var (key, value) in raw.Attributes)
        {
            if (CatalogPopularity.IsColumn(key))
            {
                if (!CatalogPopularity.TryParse(value, out var parsed, out var popularityReason))
                {
                    warnings = [.. warnings, new RowError(file, line, key, popularityReason + "; the row was kept without it", id) { Sheet = sheet, IsWarning = true }];
                }
                else
                {
                    popularity ??= parsed;
                }
            }
        }

        return new CatalogRow(line, new Product
        {
            Id = id,
            Title = title ?? string.Empty,
            Description = TrimToNull(values[(int)CatalogField.Description]),
            Brand = TrimToNull(values[(int)CatalogField.Brand]),
            Category = TrimToNull(values[(int)CatalogField.Category]),
            Price = price,
            Currency = TrimToNull(values[(int)CatalogField.Currency]) ?? priceCurrency,
            InStock = inStock,
            GroupId = TrimToNull(values[(int)CatalogField.GroupId]),
            ImageUrl = TrimToNull(values[(int)CatalogField.ImageUrl]),
            Source = TrimToNull(values[(int)CatalogField.Source]),
            Gtin = gtin,
            Mpn = ProductIdentifiers.NormalizeMpn(values[(int)CatalogField.Mpn]),
            Deleted = isDeleted,
            Attributes = BuildAttributes(raw.Attributes, popularity),
        }, null)
        { Warnings = warnings };
    }

    /// <summary>Parses true/false/yes/no/1/0/y/n (any case). Blank gives <c>null</c>.</summary>
    internal static bool TryParseBool(string? text, out bool? value)
    {
        value = null;
        var span = text.AsSpan().Trim();
        if (span.IsEmpty)
        {
            return true;
        }

        if (span.Equals("true", StringComparison.OrdinalIgnoreCase) || span.Equals("yes", StringComparison.OrdinalIgnoreCase)
            || span.Equals("y", StringComparison.OrdinalIgnoreCase) || span.Equals("1", StringComparison.Ordinal))
        {
            value = true;
            return true;
        }

        if (span.Equals("false", StringComparison.OrdinalIgnoreCase) || span.Equals("no", StringComparison.OrdinalIgnoreCase)
            || span.Equals("n", StringComparison.OrdinalIgnoreCase) || span.Equals("0", StringComparison.Ordinal))
        {
            value = false;
            return true;
        }

        return false;
    }

    /// <summary>Cuts user text quoted in an error reason to a readable length.</summary>
    internal static string Shorten(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 40), "...");

    private static string BoolReason(string text) => $"'{Shorten(text)}' is not a boolean (expected true/false, yes/no, y/n or 1/0)";

    private static string? TrimToNull(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var trimmed = text.Trim();
        return trimmed.Length == 0 ? null : trimmed;
    }

    private static IReadOnlyDictionary<string, string> BuildAttributes(List<KeyValuePair<string, string>> attributes, string? popularity)
    {
        if (attributes.Count == 0)
        {
            return Product.EmptyAttributes;
        }

        var map = new Dictionary<string, string>(attributes.Count, StringComparer.Ordinal);
        foreach (var (key, value) in attributes)
        {
            // The popularity column (or an alias) is kept under one name, checked; see CatalogPopularity.
            if (!CatalogPopularity.IsColumn(key))
            {
                map[key] = value;
            }
        }

        if (popularity is not null)
        {
            map[CatalogPopularity.AttributeName] = popularity;
        }

        return map;
    }
}
