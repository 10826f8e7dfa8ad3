using System.Globalization;

namespace ProductSimilarity.Core.Catalog;

/// <summary>One catalog record seen by column name: a CSV/TSV/xlsx row under its header, or one XML feed item.</summary>
/// <remarks>Names are compared by <see cref="Key"/>: case-insensitive, <c>g:</c> prefix dropped, spaces and hyphens as <c>_</c>. Not thread-safe.</remarks>
internal abstract class RecordView
{
    /// <summary>The value of a column, trimmed; <c>null</c> when absent or blank.</summary>
    public abstract string? Get(string key);

    /// <summary>Every column with a non-blank value, in order, under its name as written.</summary>
    public abstract IEnumerable<KeyValuePair<string, string>> All();

    /// <summary>The comparison key of a column name.</summary>
    public static string Key(string name)
    {
        var span = name.AsSpan().Trim();
        if (span.StartsWith("g:", StringComparison.OrdinalIgnoreCase))
        {
            span = span[2..];
        }

        return string.Create(span.Length, span.ToString(), static (target, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                target[i] = c is ' ' or '-' ? '_' : char.ToLowerInvariant(c);
            }
        });
    }

    protected static string? Clean(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var trimmed = value.Trim();
        return trimmed.Length == 0 ? null : trimmed;
    }
}

/// <summary>A row of a table (CSV, TSV, xlsx) under its header.</summary>
internal sealed class TableRecordView : RecordView
{
    private readonly Dictionary<string, int> _columns = new(StringComparer.Ordinal);
    private readonly IReadOnlyList<string> _names;

    public TableRecordView(IReadOnlyList<string> names)
    {
        _names = names;
        Values = new string?[names.Count];
        for (var i = 0; i < names.Count; i++)
        {
            _columns.TryAdd(Key(names[i]), i);
        }
    }

    /// <summary>The current row's values by column; set by the reader before each <see cref="PlatformLayout.Map"/>.</summary>
    public string?[] Values { get; }

    public bool Has(string key) => _columns.ContainsKey(key);

    public int IndexOf(string key) => _columns.TryGetValue(key, out var index) ? index : -1;

    public override string? Get(string key) => _columns.TryGetValue(key, out var index) ? Clean(Values[index]) : null;

    public override IEnumerable<KeyValuePair<string, string>> All()
    {
        for (var i = 0; i < _names.Count; i++)
        {
            if (Clean(Values[i]) is { } value)
            {
                yield return new(_names[i], value);
            }
        }
    }
}

/// <summary>One feed item whose values are collected by element name (XML).</summary>
internal sealed class ItemRecordView : RecordView
{
    private readonly List<KeyValuePair<string, string>> _values = [];
    private readonly Dictionary<string, string> _byKey = new(StringComparer.Ordinal);

    public void Clear()
    {
        _values.Clear();
        _byKey.Clear();
    }

    /// <summary>Adds a value; the first value of a repeated element wins (a second <c>g:image_link</c> is ignored).</summary>
    public void Add(string name, string value)
    {
        if (_byKey.TryAdd(Key(name), value))
        {
            _values.Add(new(name, value));
        }
    }

    public override string? Get(string key) => _byKey.TryGetValue(key, out var value) ? Clean(value) : null;

    public override IEnumerable<KeyValuePair<string, string>> All()
    {
        foreach (var (name, value) in _values)
        {
            if (Clean(value) is { } clean)
            {
                yield return new(name, clean);
            }
        }
    }
}

/// <summary>
/// Maps a shop platform's export onto our fields. Each layout keeps what it needs from earlier rows (Shopify's product
/// row, WooCommerce's parent products), so one instance reads one file. Not thread-safe.
/// </summary>
internal abstract class PlatformLayout(CatalogReadOptions options)
{
    protected CatalogReadOptions Options => options;

    /// <summary>The platform's name in messages.</summary>
    public abstract string Name { get; }

    /// <summary>The column key that holds the row's id, for naming the id of a rejected row.</summary>
    public abstract string IdKey { get; }

    /// <summary>Fills <paramref name="raw"/> from <paramref name="record"/>; <c>false</c> skips the row (not a sellable product).</summary>
    public abstract bool Map(RecordView record, RawRow raw);

    /// <summary>Detects the platform from a header's column names; <see cref="CatalogPlatform.Generic"/> when none fits.</summary>
    public static CatalogPlatform Detect(IReadOnlyList<string> names)
    {
        var keys = names.Select(RecordView.Key).ToHashSet(StringComparer.Ordinal);
        if (keys.Contains("handle") && (keys.Contains("variant_sku") || keys.Contains("variant_price") || keys.Contains("body_(html)")))
        {
            return CatalogPlatform.Shopify;
        }

        if (keys.Contains("type") && keys.Contains("sku") && keys.Contains("name")
            && (keys.Contains("regular_price") || keys.Contains("parent") || keys.Contains("attribute_1_name")))
        {
            return CatalogPlatform.WooCommerce;
        }

        if (keys.Contains("id") && keys.Contains("title")
            && (keys.Contains("availability") || keys.Contains("link") || keys.Contains("google_product_category") || keys.Contains("condition")))
        {
            return CatalogPlatform.Gmc;
        }

        return CatalogPlatform.Generic;
    }

    /// <summary>The layout for <paramref name="platform"/>; throws naming the missing columns when the header does not fit.</summary>
    public static PlatformLayout Create(CatalogPlatform platform, TableRecordView? header, CatalogReadOptions options, string file)
    {
        PlatformLayout layout = platform switch
        {
            CatalogPlatform.Shopify => new ShopifyLayout(options),
            CatalogPlatform.WooCommerce => new WooCommerceLayout(options),
            CatalogPlatform.Gmc => new MerchantCenterLayout(options),
            _ => throw new ArgumentOutOfRangeException(nameof(platform), platform, "not a platform layout"),
        };
        if (header is not null)
        {
            var missing = layout.RequiredKeys.Where(k => !header.Has(k)).ToList();
            if (missing.Count > 0)
            {
                throw new CatalogFormatException(file, 1, $"the header row is not a {layout.Name} export: it has no {string.Join(", ", missing.Select(m => $"'{m}'"))} column");
            }
        }

        return layout;
    }

    protected abstract IReadOnlyList<string> RequiredKeys { get; }

    protected static void Set(RawRow raw, CatalogField field, string? value) => raw.Values[(int)field] = value;

    /// <summary>The first entry of a comma-separated list (<c>Clothing &gt; Hoodies, Sale</c> gives <c>Clothing &gt; Hoodies</c>).</summary>
    protected static string? First(string? list)
    {
        if (list is null)
        {
            return null;
        }

        var comma = list.IndexOf(',', StringComparison.Ordinal);
        var first = (comma < 0 ? list : list[..comma]).Trim();
        return first.Length == 0 ? null : first;
    }
}

/// <summary>
/// Shopify product CSV: the first row of a product carries Title, Body (HTML), Vendor, Type, Product Category, Tags,
/// Status and the option names; each row is a variant (Variant SKU, Option values, Variant Price, Variant Inventory Qty,
/// Variant Barcode). Rows with only an image are not products. Handle is the group.
/// </summary>
internal sealed class ShopifyLayout(CatalogReadOptions options) : PlatformLayout(options)
{
    private readonly string?[] _optionNames = new string?[3];
    private string? _handle;
    private string? _title;
    private string? _body;
    private string? _vendor;
    private string? _category;
    private string? _tags;
    private string? _image;
    private bool _skipProduct;

    public override string Name => "Shopify";

    public override string IdKey => "variant_sku";

    protected override IReadOnlyList<string> RequiredKeys { get; } = ["handle", "title"];

    public override bool Map(RecordView record, RawRow raw)
    {
        var handle = record.Get("handle");
        if (handle is null)
        {
            return false;
        }

        if (!string.Equals(handle, _handle, StringComparison.Ordinal))
        {
            _handle = handle;
            _title = _body = _vendor = _category = _tags = _image = null;
            Array.Clear(_optionNames);
            var status = record.Get("status");
            _skipProduct = !Options.IncludeDrafts && status is not null && !status.Equals("active", StringComparison.OrdinalIgnoreCase);
        }

        _title = record.Get("title") ?? _title;
        _body = record.Get("body_(html)") ?? _body;
        _vendor = record.Get("vendor") ?? _vendor;
        _category = record.Get("product_category") ?? record.Get("type") ?? _category;
        _tags = record.Get("tags") ?? _tags;
        _image ??= record.Get("image_src");
        Span<int> options = [1, 2, 3];
        foreach (var n in options)
        {
            _optionNames[n - 1] = record.Get($"option{n}_name") ?? _optionNames[n - 1];
        }

        var sku = record.Get("variant_sku");
        var price = record.Get("variant_price");
        var option1 = record.Get("option1_value");
        if (_skipProduct || (sku is null && price is null && option1 is null))
        {
            return false; // a draft, or an extra image row
        }

        var values = new List<string>(3);
        foreach (var n in options)
        {
            if (record.Get($"option{n}_value") is { } value)
            {
                values.Add(value);
                var name = _optionNames[n - 1];
                if (name is not null && !(name == "Title" && value == "Default Title"))
                {
                    raw.Attributes.Add(new(name, value));
                }
            }
        }

        var id = sku ?? (values.Count == 0 || values is ["Default Title"] ? handle : handle + "-" + string.Join("-", values));
        Set(raw, CatalogField.Id, id);
        Set(raw, CatalogField.Title, _title);
        Set(raw, CatalogField.Description, _body);
        Set(raw, CatalogField.Brand, _vendor);
        Set(raw, CatalogField.Category, _category);
        Set(raw, CatalogField.Price, price);
        Set(raw, CatalogField.GroupId, handle);
        Set(raw, CatalogField.Gtin, record.Get("variant_barcode"));
        Set(raw, CatalogField.ImageUrl, record.Get("variant_image") ?? _image);
        if (record.Get("variant_inventory_qty") is { } qty)
        {
            raw.Attributes.Add(new("stock", qty));
            var continues = string.Equals(record.Get("variant_inventory_policy"), "continue", StringComparison.OrdinalIgnoreCase);
            Set(raw, CatalogField.InStock, continues || (long.TryParse(qty, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n > 0) ? "true" : "false");
        }

        if (_tags is not null)
        {
            raw.Attributes.Add(new("tags", _tags));
        }

        return true;
    }
}

/// <summary>
/// WooCommerce product CSV: simple products and variations are products; a variable product is the parent of its
/// variations (not a product itself): its SKU (or <c>id:ID</c>) is their group, and its description, categories, brand
/// and image fill what a variation leaves blank. Draft (<c>Published</c> -1) and private (0) products are skipped.
/// </summary>
internal sealed class WooCommerceLayout(CatalogReadOptions options) : PlatformLayout(options)
{
    private readonly Dictionary<string, Parent> _parents = new(StringComparer.OrdinalIgnoreCase);

    private sealed record Parent(string Group, string? Description, string? Category, string? Brand, string? Image);

    public override string Name => "WooCommerce";

    public override string IdKey => "sku";

    protected override IReadOnlyList<string> RequiredKeys { get; } = ["name", "type"];

    public override bool Map(RecordView record, RawRow raw)
    {
        var type = record.Get("type") ?? "simple";
        var wooId = record.Get("id");
        var sku = record.Get("sku");
        var description = record.Get("description") ?? record.Get("short_description");
        var category = First(record.Get("categories"));
        var brand = First(record.Get("brands")) ?? record.Get("brand");
        var image = First(record.Get("images"));
        if (type.Contains("variable", StringComparison.OrdinalIgnoreCase))
        {
            var parent = new Parent(sku ?? "id:" + wooId, description, category, brand, image);
            if (wooId is not null)
            {
                _parents["id:" + wooId] = parent;
            }

            if (sku is not null)
            {
                _parents[sku] = parent;
            }

            return false;
        }

        var published = record.Get("published");
        if (!Options.IncludeDrafts && published is "-1" or "0")
        {
            return false;
        }

        Parent? from = null;
        var parentRef = record.Get("parent");
        if (parentRef is not null)
        {
            _parents.TryGetValue(parentRef, out from);
        }

        Set(raw, CatalogField.Id, sku ?? (wooId is null ? null : "id:" + wooId));
        Set(raw, CatalogField.Title, record.Get("name"));
        Set(raw, CatalogField.Description, description ?? from?.Description);
        Set(raw, CatalogField.Category, category ?? from?.Category);
        Set(raw, CatalogField.Brand, brand ?? from?.Brand);
        Set(raw, CatalogField.ImageUrl, image ?? from?.Image);
        Set(raw, CatalogField.GroupId, from?.Group ?? parentRef);
        Set(raw, CatalogField.Price, record.Get("sale_price") ?? record.Get("regular_price"));
        Set(raw, CatalogField.Gtin, record.Get("gtin,_upc,_ean,_or_isbn") ?? record.Get("gtin") ?? record.Get("ean") ?? record.Get("upc"));
        Set(raw, CatalogField.Mpn, record.Get("mpn"));
        var inStock = record.Get("in_stock?");
        Set(raw, CatalogField.InStock, inStock is "backorder" ? "false" : inStock);
        for (var n = 1; n < 100; n++)
        {
            var name = record.Get(FormattableString.Invariant($"attribute_{n}_name"));
            if (name is null)
            {
                if (n > 3)
                {
                    break;
                }

                continue;
            }

            if (record.Get(FormattableString.Invariant($"attribute_{n}_value(s)")) is { } value)
            {
                raw.Attributes.Add(new(name, value));
            }
        }

        if (record.Get("tags") is { } tags)
        {
            raw.Attributes.Add(new("tags", tags));
        }

        if (record.Get("stock") is { } stock)
        {
            raw.Attributes.Add(new("stock", stock));
        }

        return true;
    }
}

/// <summary>
/// Google Merchant Center feed (TSV or XML): <c>price</c> such as <c>15.00 USD</c> gives price and currency,
/// <c>availability</c> gives in-stock (<c>in_stock</c> only), <c>item_group_id</c> the group, <c>product_type</c> (else
/// <c>google_product_category</c>) the category. Other attributes (color, size, condition...) are kept.
/// </summary>
internal sealed class MerchantCenterLayout(CatalogReadOptions options) : PlatformLayout(options)
{
    private static readonly HashSet<string> Mapped = new(StringComparer.Ordinal)
    {
        "id", "title", "description", "brand", "price", "availability", "item_group_id", "gtin", "mpn", "image_link",
        "product_type",
    };

    public override string Name => "Google Merchant Center";

    public override string IdKey => "id";

    protected override IReadOnlyList<string> RequiredKeys { get; } = ["id", "title"];

    public override bool Map(RecordView record, RawRow raw)
    {
        Set(raw, CatalogField.Id, record.Get("id"));
        Set(raw, CatalogField.Title, record.Get("title"));
        Set(raw, CatalogField.Description, record.Get("description"));
        Set(raw, CatalogField.Brand, record.Get("brand"));
        Set(raw, CatalogField.Price, record.Get("price"));
        Set(raw, CatalogField.GroupId, record.Get("item_group_id"));
        Set(raw, CatalogField.Gtin, record.Get("gtin"));
        Set(raw, CatalogField.Mpn, record.Get("mpn"));
        Set(raw, CatalogField.ImageUrl, record.Get("image_link"));
        Set(raw, CatalogField.Category, First(record.Get("product_type")) ?? record.Get("google_product_category"));
        if (record.Get("availability") is { } availability)
        {
            var key = RecordView.Key(availability);
            Set(raw, CatalogField.InStock, key is "in_stock" ? "true" : key is "out_of_stock" or "preorder" or "backorder" ? "false" : availability);
        }

        foreach (var (name, value) in record.All())
        {
            if (!Mapped.Contains(RecordView.Key(name)))
            {
                raw.Attributes.Add(new(name.StartsWith("g:", StringComparison.Ordinal) ? name[2..] : name, value));
            }
        }

        return true;
    }
}
