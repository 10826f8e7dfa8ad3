using System.Globalization;
using System.Net;
using System.Text;
using ProductSimilarity.Core.Catalog;

namespace ProductSimilarity.Core.Text;

/// <summary>
/// Cleans product text for embedding and keyword search: strips HTML tags and entities, applies Unicode NFKC
/// (full-width to half-width), collapses whitespace and caps each field. Chinese text is kept intact.
/// </summary>
/// <remarks>
/// <para>
/// Steps, in order: HTML tags (and <c>script</c>/<c>style</c> content) removed, block tags becoming spaces; entities
/// decoded (<see cref="WebUtility.HtmlDecode(string)"/>); control characters, unpaired surrogates and invisible format
/// characters (zero-width space, soft hyphen, BOM, bidi controls) removed; NFKC (<c>ＡＢＣ１２３</c> becomes
/// <c>ABC123</c>, the ideographic space a space, <c>，</c> a comma; Han characters are unchanged); whitespace runs
/// collapsed to one space and trimmed; capped at the field's length, backing off to a space when one is within a few
/// characters and never splitting a surrogate pair or a base character from its combining marks.
/// </para>
/// <para>
/// Cost is linear in the input and no regular expressions are used. Text far beyond the cap is not processed: markup
/// stripping stops after about twelve times the cap in visible characters. Stateless; thread-safe.
/// </para>
/// </remarks>
public sealed partial class TextNormalizer
{
    private readonly PiiScrubber? _piiScrubber;
    private readonly Boilerplate _boilerplate;

    /// <summary>A normaliser that masks personal data in descriptions and reviews (see <see cref="PiiScrubber"/>), with the
    /// default cleaning rules.</summary>
    public TextNormalizer()
        : this(PiiScrubber.Default)
    {
    }

    /// <summary>A normaliser that masks personal data with <paramref name="piiScrubber"/> (or leaves it when null) and
    /// applies <paramref name="options"/> (<see cref="TextCleaningOptions.Default"/> when null).</summary>
    public TextNormalizer(PiiScrubber? piiScrubber, TextCleaningOptions? options = null)
    {
        _piiScrubber = piiScrubber;
        Options = options ?? TextCleaningOptions.Default;
        _boilerplate = new Boilerplate(Options.EffectiveBoilerplate);
    }

    /// <summary>The shared instance; it scrubs personal data from descriptions and reviews.</summary>
    public static TextNormalizer Default { get; } = new();

    /// <summary>
    /// The normaliser for configured cleaning rules (<c>ProductSimilarity:Text</c>): <see cref="Default"/> when
    /// <paramref name="options"/> is null or the default rules, else a new one that applies them and scrubs personal data.
    /// Documents and queries of one index must use the same one, so that both sides see the same keyword form.
    /// </summary>
    /// <param name="options">The cleaning rules.</param>
    public static TextNormalizer For(TextCleaningOptions? options) =>
        options is null || ReferenceEquals(options, TextCleaningOptions.Default) ? Default : new(PiiScrubber.Default, options);

    /// <summary>The shared instance for <c>ProductSimilarity:Ingestion:ScrubPii=false</c>: personal data is left in place.</summary>
    public static TextNormalizer WithoutPiiScrubbing { get; } = new(piiScrubber: null);

    /// <summary>The cleaning rules in force.</summary>
    public TextCleaningOptions Options { get; }

    /// <summary>Longest title kept, in characters.</summary>
    public const int MaxTitleLength = 512;

    /// <summary>Longest description kept, in characters.</summary>
    public const int MaxDescriptionLength = 4000;

    /// <summary>Longest brand, category, currency or attribute value kept, in characters.</summary>
    public const int MaxShortFieldLength = 256;

    /// <summary>How far back from the cap a space is looked for, at most.</summary>
    private const int WordBoundaryWindow = 32;

    /// <summary>Cleans one field and caps it at <paramref name="maxLength"/> characters (never splitting a surrogate pair). Null or blank gives null.</summary>
    public string? Clean(string? text, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLength);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var budget = (maxLength * 12L) + 1024;
        var s = text;
        if (s.Length > budget || s.Contains('<', StringComparison.Ordinal))
        {
            s = HtmlText.Strip(s, budget);
        }

        if (s.Contains('&', StringComparison.Ordinal))
        {
            s = WebUtility.HtmlDecode(s);
        }

        s = RemoveInvisible(s);
        s = NormalizeKc(s);
        if (Options.RemoveEmoji)
        {
            s = Symbols.RemoveEmoji(s);
        }

        if (Options.CollapseRepeatedPunctuation)
        {
            s = Symbols.CollapseRepeatedPunctuation(s);
        }

        s = CollapseWhitespace(s);
        return s.Length == 0 ? null : Cap(s, maxLength);
    }

    /// <summary>Returns the product with every text field cleaned and capped.</summary>
    /// <remarks>
    /// Title, description, brand, category, currency (also upper-cased) and attribute values are cleaned; blank
    /// attributes are dropped. The id is only trimmed; group id, image address and source are left as read. The
    /// description and review-like attributes (a key containing <c>review</c> or <c>comment</c>) then pass the
    /// <see cref="PiiScrubber"/>, unless this normaliser was built without one.
    /// </remarks>
    public Product Normalize(Product product)
    {
        ArgumentNullException.ThrowIfNull(product);
        return product with
        {
            Id = product.Id.Trim(),
            Title = KeepIfBlank(Clean(product.Title, MaxTitleLength)) ?? string.Empty,
            Description = ScrubPii(KeepIfBlank(Clean(product.Description, MaxDescriptionLength))),
            Brand = Clean(product.Brand, MaxShortFieldLength),
            Category = Clean(product.Category, MaxShortFieldLength),
            Currency = Clean(product.Currency, MaxShortFieldLength)?.ToUpperInvariant(),
            Attributes = NormalizeAttributes(product.Attributes),
        };
    }

    /// <summary>
    /// The keyword-side form of already-cleaned text, the same for documents and queries in every store: lower-cased
    /// (invariant), Traditional Chinese to Simplified (<see cref="ChineseText"/>), quantities as one token
    /// (<see cref="ProductUnits"/>), boilerplate phrases removed, and punctuation that is not part of a number or a code
    /// turned into spaces. Never used for the embedded text: the model reads the shop's own wording.
    /// </summary>
    public string ForKeywords(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var s = text.ToLowerInvariant();
        if (Options.TraditionalToSimplified)
        {
            s = ChineseText.ToSimplified(s);
        }

        if (Options.NormalizeUnits)
        {
            s = ProductUnits.Normalize(s);
        }

        s = _boilerplate.Remove(s);
        return CollapseWhitespace(Symbols.PunctuationToSpace(s));
    }

    /// <summary>Removes the configured boilerplate phrases (<see cref="TextCleaningOptions.Boilerplate"/>) from cleaned
    /// text; null, or a text that would become blank, is returned as it is.</summary>
    public string? RemoveBoilerplate(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var removed = _boilerplate.Remove(text);
        if (ReferenceEquals(removed, text))
        {
            return text;
        }

        // "【包邮】" leaves "【 】" behind: drop brackets that now hold nothing.
        var s = CollapseWhitespace(EmptyBrackets().Replace(removed, " "));
        return s.Length == 0 ? text : s;
    }

    private string? KeepIfBlank(string? text) => Options.RemoveBoilerplate ? RemoveBoilerplate(text) : text;

    private IReadOnlyDictionary<string, string> NormalizeAttributes(IReadOnlyDictionary<string, string> attributes)
    {
        if (attributes.Count == 0)
        {
            return attributes;
        }

        var cleaned = new Dictionary<string, string>(attributes.Count, StringComparer.Ordinal);
        foreach (var (key, value) in attributes)
        {
            if (Clean(value, MaxShortFieldLength) is { } clean)
            {
                cleaned[key] = IsReviewLike(key) ? ScrubPii(clean) ?? string.Empty : clean;
            }
        }

        return cleaned;
    }

    private string? ScrubPii(string? text) => _piiScrubber is null ? text : _piiScrubber.Scrub(text);

    private static bool IsReviewLike(string key) =>
        key.Contains("review", StringComparison.OrdinalIgnoreCase) || key.Contains("comment", StringComparison.OrdinalIgnoreCase);

    private static bool IsInvisible(char c) =>
        (char.IsControl(c) && !char.IsWhiteSpace(c))
        || c is '\u00AD' or '\u200B' or '\u200E' or '\u200F' or '\uFEFF'
        || c is >= '\u202A' and <= '\u202E'
        || c is >= '\u2060' and <= '\u2064'
        || c is >= '\u2066' and <= '\u2069';

    /// <summary>Removes control and invisible format characters and unpaired surrogates (which NFKC rejects).</summary>
    private static string RemoveInvisible(string s)
    {
        var first = -1;
        for (var i = 0; i < s.Length; i++)
        {
            if (IsInvisible(s[i]) || IsUnpairedSurrogate(s, i))
            {
                first = i;
                break;
            }
        }

        if (first < 0)
        {
            return s;
        }

        var builder = new StringBuilder(s.Length);
        builder.Append(s, 0, first);
        for (var i = first; i < s.Length; i++)
        {
            if (!IsInvisible(s[i]) && !IsUnpairedSurrogate(s, i))
            {
                builder.Append(s[i]);
            }
        }

        return builder.ToString();
    }

    private static bool IsUnpairedSurrogate(string s, int i)
    {
        var c = s[i];
        if (char.IsHighSurrogate(c))
        {
            return i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1]);
        }

        return char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(s[i - 1]));
    }

    private static string NormalizeKc(string s)
    {
        try
        {
            return s.IsNormalized(NormalizationForm.FormKC) ? s : s.Normalize(NormalizationForm.FormKC);
        }
        catch (ArgumentException)
        {
            // Unassigned or otherwise unnormalisable code points: keep the text as it is rather than lose it.
            return s;
        }
    }

    private static string CollapseWhitespace(string s)
    {
        var clean = s.Length > 0 && !char.IsWhiteSpace(s[0]) && !char.IsWhiteSpace(s[^1]);
        for (var i = 0; clean && i < s.Length; i++)
        {
            if (char.IsWhiteSpace(s[i]) && (s[i] != ' ' || s[i + 1] == ' '))
            {
                clean = false;
            }
        }

        if (clean)
        {
            return s;
        }

        var builder = new StringBuilder(s.Length);
        var pendingSpace = false;
        foreach (var c in s)
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = builder.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                builder.Append(' ');
                pendingSpace = false;
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    private static string Cap(string s, int maxLength)
    {
        if (s.Length <= maxLength)
        {
            return s;
        }

        // s[cut] is the first character dropped: never keep half a surrogate pair, or a base without its marks.
        var cut = maxLength;
        var steps = 0;
        while (cut > 0 && steps++ < 16 && (char.IsLowSurrogate(s[cut]) || IsCombiningMark(s[cut])))
        {
            cut--;
        }

        if (cut == 0 || char.IsLowSurrogate(s[cut]))
        {
            cut = char.IsHighSurrogate(s[maxLength - 1]) ? maxLength - 1 : maxLength;
        }

        if (s[cut] != ' ')
        {
            var window = Math.Min(WordBoundaryWindow, cut - 1);
            var space = window > 0 ? s.LastIndexOf(' ', cut - 1, window) : -1;
            if (space > 0)
            {
                cut = space;
            }
        }

        return s[..cut].TrimEnd();
    }

    private static bool IsCombiningMark(char c) => CharUnicodeInfo.GetUnicodeCategory(c)
        is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;

    [System.Text.RegularExpressions.GeneratedRegex(@"[\[【(（「『〔]\s*[\]】)）」』〕]")]
    private static partial System.Text.RegularExpressions.Regex EmptyBrackets();
}
