using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Lucene.Net.Documents;
using Lucene.Net.Index;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Search.Local;

/// <summary>Field names of the embedded index's Lucene documents.</summary>
internal static class ProductFields
{
    // Stored and indexed as one untokenised term: the key for UpdateDocument / DeleteDocuments.
    public const string Id = "id";
    public const string ContentHash = "hash";

    // float32 little-endian bytes.
    public const string Vector = "vec";

    // Analysed (BM25) and stored.
    public const string Title = "title";
    public const string Description = "description";
    public const string Brand = "brand";
    public const string Category = "category";

    // Untokenised filter keys folded with ProductFilter.Key (not stored; the stored value is in Brand / Category).
    public const string BrandKey = "brand_key";
    public const string CategoryKey = "category_key";

    // Product codes in normal form (ProductCodes.Extract) and their near-match keys (ProductCodes.BaseForm); indexed only.
    public const string ModelCode = "model_code";
    public const string ModelCodeBase = "model_code_base";

    // Stored as the invariant decimal string; PriceNumber is the indexed numeric copy for range filters.
    public const string Price = "price";
    public const string PriceNumber = "price_num";

    // Untokenised, stored, exact.
    public const string InStock = "in_stock";
    public const string GroupId = "group_id";
    public const string Gtin = "gtin";
    public const string Mpn = "mpn";
    public const string Source = "source";

    // Untokenised, indexed only: one ProductFilter.AttributeTerms term per catalog column ("color=black").
    public const string Attribute = "attr";

    // Numeric doc values only: the bits of IndexedProduct.UnknownTokenShare (a double), read per candidate without loading
    // its stored fields; absent in documents written before it was recorded.
    public const string UnknownTokenShare = "unknown_share";

    // Stored only.
    public const string Currency = "currency";
    public const string ImageUrl = "image_url";
    public const string Deleted = "deleted";
    public const string Attributes = "attributes";

    public const string True = "true";
    public const string False = "false";
}

/// <summary>Maps <see cref="IndexedProduct"/> to and from Lucene documents.</summary>
/// <remarks>Stateless; thread-safe.</remarks>
internal static class ProductDocuments
{
    /// <summary>Every stored field <see cref="Read"/> uses.</summary>
    public static readonly ISet<string> AllFields = new HashSet<string>(StringComparer.Ordinal)
    {
        ProductFields.Id, ProductFields.ContentHash, ProductFields.Vector, ProductFields.Title, ProductFields.Description,
        ProductFields.Brand, ProductFields.Category, ProductFields.Price, ProductFields.InStock, ProductFields.GroupId,
        ProductFields.Gtin, ProductFields.Mpn, ProductFields.Source, ProductFields.Currency, ProductFields.ImageUrl,
        ProductFields.Deleted, ProductFields.Attributes,
    };

    /// <summary><see cref="AllFields"/> but the stored vector, for a reader that has the vector in memory.</summary>
    public static readonly ISet<string> FieldsWithoutVector = new HashSet<string>(AllFields.Where(f => f != ProductFields.Vector), StringComparer.Ordinal);

    /// <summary>Builds the document of one product, its searchable text in <paramref name="text"/>'s keyword form.</summary>
    public static Document Create(IndexedProduct indexed, TextNormalizer text)
    {
        var p = indexed.Product;
        var doc = new Document
        {
            new StringField(ProductFields.Id, p.Id, Field.Store.YES),
            new StoredField(ProductFields.ContentHash, indexed.ContentHash),
            new StoredField(ProductFields.Vector, MemoryMarshal.AsBytes(indexed.Vector.Span).ToArray()),
        };

        // Searchable text is the Core's keyword form (Traditional to Simplified, units as one token, boilerplate out);
        // the stored value stays as the shop wrote it.
        AddText(doc, text, ProductFields.Title, p.Title);
        if (p.Description is { } description)
        {
            AddText(doc, text, ProductFields.Description, description);
        }

        if (p.Brand is { } brand)
        {
            AddText(doc, text, ProductFields.Brand, brand);
            doc.Add(new StringField(ProductFields.BrandKey, ProductFilter.Key(brand), Field.Store.NO));
        }

        if (p.Category is { } category)
        {
            AddText(doc, text, ProductFields.Category, category);
            doc.Add(new StringField(ProductFields.CategoryKey, ProductFilter.Key(category), Field.Store.NO));
        }

        var codes = ProductCodes.Extract(text.ForKeywords(p.Title));
        foreach (var code in codes)
        {
            doc.Add(new StringField(ProductFields.ModelCode, code, Field.Store.NO));
        }

        foreach (var code in ProductCodes.BaseForms(codes))
        {
            doc.Add(new StringField(ProductFields.ModelCodeBase, code, Field.Store.NO));
        }

        if (p.Price is { } price)
        {
            doc.Add(new StoredField(ProductFields.Price, price.ToString(CultureInfo.InvariantCulture)));
            doc.Add(new DoubleField(ProductFields.PriceNumber, (double)price, Field.Store.NO));
        }

        if (p.InStock is { } inStock)
        {
            doc.Add(new StringField(ProductFields.InStock, inStock ? ProductFields.True : ProductFields.False, Field.Store.YES));
        }

        AddStoredString(doc, ProductFields.GroupId, p.GroupId, indexed: true);
        AddStoredString(doc, ProductFields.Source, p.Source, indexed: true);
        AddStoredString(doc, ProductFields.Currency, p.Currency, indexed: false);
        AddStoredString(doc, ProductFields.ImageUrl, p.ImageUrl, indexed: false);
        AddStoredString(doc, ProductFields.Gtin, p.Gtin, indexed: true);
        AddStoredString(doc, ProductFields.Mpn, p.Mpn, indexed: true);

        if (indexed.UnknownTokenShare is { } unknownShare)
        {
            doc.Add(new NumericDocValuesField(ProductFields.UnknownTokenShare, BitConverter.DoubleToInt64Bits(unknownShare)));
        }

        if (p.Deleted)
        {
            doc.Add(new StoredField(ProductFields.Deleted, 1));
        }

        if (p.Attributes.Count > 0)
        {
            doc.Add(new StoredField(ProductFields.Attributes, JsonSerializer.Serialize(p.Attributes)));
            foreach (var term in ProductFilter.AttributeTerms(p))
            {
                doc.Add(new StringField(ProductFields.Attribute, term, Field.Store.NO));
            }
        }

        return doc;
    }

    /// <summary>Reads a product back from its stored fields.</summary>
    public static IndexedProduct Read(Document doc)
    {
        var attributesJson = doc.Get(ProductFields.Attributes);
        var product = new Product
        {
            Id = doc.Get(ProductFields.Id),
            Title = doc.Get(ProductFields.Title) ?? string.Empty,
            Description = doc.Get(ProductFields.Description),
            Brand = doc.Get(ProductFields.Brand),
            Category = doc.Get(ProductFields.Category),
            Price = doc.Get(ProductFields.Price) is { } price ? decimal.Parse(price, NumberStyles.Number, CultureInfo.InvariantCulture) : null,
            Currency = doc.Get(ProductFields.Currency),
            InStock = doc.Get(ProductFields.InStock) switch
            {
                ProductFields.True => true,
                ProductFields.False => false,
                _ => null,
            },
            GroupId = doc.Get(ProductFields.GroupId),
            ImageUrl = doc.Get(ProductFields.ImageUrl),
            Source = doc.Get(ProductFields.Source),
            Gtin = doc.Get(ProductFields.Gtin),
            Mpn = doc.Get(ProductFields.Mpn),
            Deleted = doc.GetField(ProductFields.Deleted) is not null,
            Attributes = attributesJson is null
                ? new Dictionary<string, string>()
                : JsonSerializer.Deserialize<Dictionary<string, string>>(attributesJson) ?? [],
        };

        var bytes = doc.GetBinaryValue(ProductFields.Vector);
        float[] vector = bytes is null
            ? []
            : MemoryMarshal.Cast<byte, float>(bytes.Bytes.AsSpan(bytes.Offset, bytes.Length)).ToArray();

        return new IndexedProduct
        {
            Product = product,
            ContentHash = doc.Get(ProductFields.ContentHash) ?? string.Empty,
            Vector = vector,
        };
    }

    /// <summary>
    /// The unknown-token share recorded for the document at <paramref name="row"/> of a segment
    /// (<see cref="IndexedProduct.UnknownTokenShare"/>), exactly as written; null when none was recorded.
    /// </summary>
    public static double? UnknownTokenShare(AtomicReader segment, int row)
    {
        if (segment.GetNumericDocValues(ProductFields.UnknownTokenShare) is not { } values
            || segment.GetDocsWithField(ProductFields.UnknownTokenShare) is not { } recorded
            || !recorded.Get(row))
        {
            return null;
        }

        return BitConverter.Int64BitsToDouble(values.Get(row));
    }

    private static void AddText(Document doc, TextNormalizer text, string name, string value)
    {
        doc.Add(new StoredField(name, value));
        doc.Add(new TextField(name, text.ForKeywords(value), Field.Store.NO));
    }

    private static void AddStoredString(Document doc, string name, string? value, bool indexed)
    {
        if (value is null)
        {
            return;
        }

        doc.Add(indexed ? new StringField(name, value, Field.Store.YES) : new StoredField(name, value));
    }
}
