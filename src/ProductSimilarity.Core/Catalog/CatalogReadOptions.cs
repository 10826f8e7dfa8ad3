using System.Globalization;

namespace ProductSimilarity.Core.Catalog;

/// <summary>Which shop platform's export a catalog is, which decides how its columns map onto <see cref="Product"/>.</summary>
public enum CatalogPlatform
{
    /// <summary>Detect from the header row (Shopify, WooCommerce, Google Merchant Center), else <see cref="Generic"/>.</summary>
    Auto,

    /// <summary>Our column names and aliases, plus <see cref="CatalogReadOptions.Columns"/>.</summary>
    Generic,

    /// <summary>A Shopify product export (<c>products_export.csv</c>): one row per variant, grouped by Handle.</summary>
    Shopify,

    /// <summary>A WooCommerce product export: variations point at their parent.</summary>
    WooCommerce,

    /// <summary>A Google Merchant Center feed (TSV/CSV, or RSS 2.0/Atom XML with the <c>g:</c> namespace).</summary>
    Gmc,
}

/// <summary>How to read a catalog: platform, column map, CSV delimiter, price culture, spreadsheet sheet.</summary>
/// <remarks>Immutable; thread-safe.</remarks>
public sealed record CatalogReadOptions
{
    /// <summary>The defaults: detect the platform and the delimiter, infer price separators, skip drafts.</summary>
    public static CatalogReadOptions Default { get; } = new();

    /// <summary>The platform; <see cref="CatalogPlatform.Auto"/> detects it from the header.</summary>
    public CatalogPlatform Platform { get; init; } = CatalogPlatform.Auto;

    /// <summary>
    /// Generic column map: our field name (<c>id</c>, <c>title</c>, <c>brand</c>, ...) to the catalog's column name.
    /// A mapped column wins over our own names and aliases. Used by the generic layout only.
    /// </summary>
    public IReadOnlyDictionary<string, string> Columns { get; init; } = new Dictionary<string, string>();

    /// <summary>The CSV field delimiter; <c>null</c> detects <c>,</c> <c>;</c> tab or <c>|</c> from the first lines.</summary>
    public char? Delimiter { get; init; }

    /// <summary>Read prices with this culture's separators; <c>null</c> infers them per value (see <see cref="PriceParser"/>).</summary>
    public CultureInfo? PriceCulture { get; init; }

    /// <summary>Keep Shopify draft/archived and WooCommerce draft/private products; they are skipped by default.</summary>
    public bool IncludeDrafts { get; init; }

    /// <summary>The worksheet of an <c>.xlsx</c> catalog; <c>null</c> reads the first.</summary>
    public string? Sheet { get; init; }

    /// <summary>The default <see cref="MaxDecompressedBytes"/>: 4 GiB.</summary>
    public const long DefaultMaxDecompressedBytes = 4L << 30;

    /// <summary>
    /// The text encoding (<c>gbk</c>, <c>gb18030</c>, <c>big5</c>, <c>shift_jis</c>, <c>windows-1252</c>, any name or
    /// code page .NET knows with the code-pages provider), or null to read UTF-8 and refuse, with one message, a file
    /// that is clearly GBK. A byte order mark (UTF-8, UTF-16 LE/BE, UTF-32) always wins.
    /// </summary>
    public string? Encoding { get; init; }

    /// <summary>The most bytes a gzip-compressed catalog may decompress to; beyond it the file is refused (a gzip bomb).</summary>
    public long MaxDecompressedBytes { get; init; } = DefaultMaxDecompressedBytes;

    /// <summary>The default <see cref="MaxFileBytes"/>: 16 GiB.</summary>
    public const long DefaultMaxFileBytes = 16L << 30;

    /// <summary>The default <see cref="MaxRows"/>: 50 million.</summary>
    public const long DefaultMaxRows = 50_000_000;

    /// <summary>The default <see cref="MaxFieldLength"/>: 1,000,000 characters.</summary>
    public const int DefaultMaxFieldLength = 1_000_000;

    /// <summary>The largest catalog accepted, in bytes as delivered (before decompression); a larger one is refused before any row.</summary>
    public long MaxFileBytes { get; init; } = DefaultMaxFileBytes;

    /// <summary>The most rows read from one catalog; reading stops with a <see cref="CatalogFormatException"/> after this many.</summary>
    public long MaxRows { get; init; } = DefaultMaxRows;

    /// <summary>The longest raw field accepted, in characters; a longer field rejects its row without being kept in memory.</summary>
    public int MaxFieldLength { get; init; } = DefaultMaxFieldLength;

    /// <summary>The longest raw row (CSV record or JSON line) accepted: <see cref="CatalogReader.MaxRawRowLength"/>, or one field more when <see cref="MaxFieldLength"/> is larger.</summary>
    public int MaxRowLength => Math.Max(CatalogReader.MaxRawRowLength, MaxFieldLength + 1024);

    /// <summary>Parses a delimiter as written in configuration or on the command line: one character, or <c>tab</c>.</summary>
    /// <exception cref="ArgumentException">Not one of <c>,</c> <c>;</c> <c>|</c> tab.</exception>
    public static char? ParseDelimiter(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        return text switch
        {
            "," or ";" or "|" or "\t" => text[0],
            _ when text.Equals("tab", StringComparison.OrdinalIgnoreCase) || text == "\\t" => '\t',
            _ when text.Equals("comma", StringComparison.OrdinalIgnoreCase) => ',',
            _ when text.Equals("semicolon", StringComparison.OrdinalIgnoreCase) => ';',
            _ when text.Equals("pipe", StringComparison.OrdinalIgnoreCase) => '|',
            _ => throw new ArgumentException($"unsupported delimiter '{text}'; use ',', ';', '|' or 'tab'", nameof(text)),
        };
    }

    /// <summary>Parses a column map written as <c>id=SKU,title="Product Name",brand=Manufacturer</c>.</summary>
    /// <exception cref="ArgumentException">A pair has no <c>=</c> or an unknown field name.</exception>
    public static Dictionary<string, string> ParseColumnMap(string? text)
    {
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (string.IsNullOrWhiteSpace(text))
        {
            return map;
        }

        var position = 0;
        while (position < text.Length)
        {
            var equals = text.IndexOf('=', position);
            if (equals < 0)
            {
                throw new ArgumentException($"column map entry '{text[position..].Trim()}' has no '='; write field=Column", nameof(text));
            }

            var field = text[position..equals].Trim();
            position = equals + 1;
            string column;
            if (position < text.Length && text[position] == '"')
            {
                var close = text.IndexOf('"', position + 1);
                if (close < 0)
                {
                    throw new ArgumentException($"column map entry for '{field}' has an unclosed quote", nameof(text));
                }

                column = text[(position + 1)..close];
                position = close + 1;
                var comma = text.IndexOf(',', position);
                position = comma < 0 ? text.Length : comma + 1;
            }
            else
            {
                var comma = text.IndexOf(',', position);
                var end = comma < 0 ? text.Length : comma;
                column = text[position..end].Trim();
                position = end + 1;
            }

            if (CatalogFields.TryParse(field, out _) is false)
            {
                throw new ArgumentException($"unknown field '{field}' in the column map; known fields: {string.Join(", ", CatalogFields.Names)}", nameof(text));
            }

            map[field] = column;
        }

        return map;
    }
}
