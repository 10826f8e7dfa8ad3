namespace ProductSimilarity.Core.Catalog;

/// <summary>The catalog columns (CSV) or properties (JSON Lines) that map onto <see cref="Product"/> members.</summary>
internal enum CatalogField
{
    Id,
    Title,
    Description,
    Brand,
    Category,
    Price,
    Currency,
    InStock,
    GroupId,
    ImageUrl,
    Source,
    Deleted,
    Gtin,
    Mpn,
}

/// <summary>Resolves column and property names to <see cref="CatalogField"/>s.</summary>
/// <remarks>
/// Names are matched case-insensitively after mapping <c>-</c> and spaces to <c>_</c>. Canonical names win over
/// aliases: a file with both <c>title</c> and <c>name</c> maps <c>title</c> to the title and keeps <c>name</c> as an
/// attribute. Immutable; thread-safe.
/// </remarks>
internal static class CatalogFields
{
    /// <summary>How many fields there are.</summary>
    public const int Count = (int)CatalogField.Mpn + 1;

    private static readonly string[] Canonical =
    [
        "id", "title", "description", "brand", "category", "price", "currency", "in_stock", "group_id", "image_url", "source", "deleted", "gtin", "mpn",
    ];

    private static readonly Dictionary<string, CatalogField> CanonicalNames = BuildCanonical();

    private static readonly Dictionary<string, CatalogField> Aliases = new(StringComparer.Ordinal)
    {
        ["product_id"] = CatalogField.Id,
        ["name"] = CatalogField.Title,
        ["product_name"] = CatalogField.Title,
        ["manufacturer"] = CatalogField.Brand,
        ["instock"] = CatalogField.InStock,
        ["groupid"] = CatalogField.GroupId,
        ["item_group_id"] = CatalogField.GroupId,
        ["image"] = CatalogField.ImageUrl,
        ["imageurl"] = CatalogField.ImageUrl,
        ["image_link"] = CatalogField.ImageUrl,
        ["is_deleted"] = CatalogField.Deleted,
        ["ean"] = CatalogField.Gtin,
        ["upc"] = CatalogField.Gtin,
        ["isbn"] = CatalogField.Gtin,
        ["barcode"] = CatalogField.Gtin,
        ["gtin13"] = CatalogField.Gtin,
        ["gtin14"] = CatalogField.Gtin,
        ["manufacturer_part_number"] = CatalogField.Mpn,
        ["part_number"] = CatalogField.Mpn,
    };

    /// <summary>Every canonical field name.</summary>
    public static IReadOnlyList<string> Names => Canonical;

    /// <summary>Finds a field by its canonical name or an alias.</summary>
    public static bool TryParse(string name, out CatalogField field)
    {
        var key = Key(name);
        return CanonicalNames.TryGetValue(key, out field) || Aliases.TryGetValue(key, out field);
    }

    /// <summary>The canonical (lower-case, snake_case) name used in row errors.</summary>
    public static string NameOf(CatalogField field) => Canonical[(int)field];

    /// <summary>Maps a list of names (a CSV header or one JSON object's properties) to fields; <c>null</c> marks an attribute.</summary>
    /// <remarks>Each field is assigned at most once: the first canonical match, else the first alias match.</remarks>
    public static CatalogField?[] Resolve(IReadOnlyList<string> names, IReadOnlyDictionary<string, string>? map = null)
    {
        var result = new CatalogField?[names.Count];
        var taken = new bool[Count];
        var keys = new string[names.Count];
        foreach (var (fieldName, column) in map ?? new Dictionary<string, string>())
        {
            // An explicit map wins: field=Column assigns that column, whatever its name means to us.
            if (TryParse(fieldName, out var mapped) && !taken[(int)mapped])
            {
                for (var i = 0; i < names.Count; i++)
                {
                    if (result[i] is null && names[i].Trim().Equals(column.Trim(), StringComparison.OrdinalIgnoreCase))
                    {
                        result[i] = mapped;
                        taken[(int)mapped] = true;
                        break;
                    }
                }
            }
        }

        for (var i = 0; i < names.Count; i++)
        {
            keys[i] = Key(names[i]);
            if (result[i] is null && CanonicalNames.TryGetValue(keys[i], out var field) && !taken[(int)field])
            {
                result[i] = field;
                taken[(int)field] = true;
            }
        }

        for (var i = 0; i < names.Count; i++)
        {
            if (result[i] is null && Aliases.TryGetValue(keys[i], out var field) && !taken[(int)field])
            {
                result[i] = field;
                taken[(int)field] = true;
            }
        }

        return result;
    }

    private static string Key(string name)
    {
        var trimmed = name.Trim();
        return string.Create(trimmed.Length, trimmed, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                span[i] = c is '-' or ' ' ? '_' : char.ToLowerInvariant(c);
            }
        });
    }

    private static Dictionary<string, CatalogField> BuildCanonical()
    {
        var map = new Dictionary<string, CatalogField>(StringComparer.Ordinal);
        for (var i = 0; i < Canonical.Length; i++)
        {
            map[Canonical[i]] = (CatalogField)i;
        }

        return map;
    }
}
