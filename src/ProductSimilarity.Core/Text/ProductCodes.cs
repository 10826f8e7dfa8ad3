using System.Text;
using ProductSimilarity.Core.Catalog;

namespace ProductSimilarity.Core.Text;

/// <summary>How closely two products' model codes agree.</summary>
public enum CodeMatch
{
    /// <summary>No code in common.</summary>
    None,

    /// <summary>A code equal up to a colour, region or variant suffix (<c>SRSA212/BLK</c> and <c>SRSA212BK</c>).</summary>
    Near,

    /// <summary>The same code, written with or without separators (<c>WH-1000XM4</c> and <c>wh1000xm4</c>).</summary>
    Exact,
}

/// <summary>A model code that a result shares with its query: the "same model code" signal of an explanation.</summary>
/// <param name="Code">The shared code in normal form (<see cref="ProductCodes.Normalize"/>), or, for a near match, the
/// near-match key both codes reduce to (<see cref="ProductCodes.BaseForm"/>).</param>
/// <param name="Exact">True for the same code; false for a code equal up to a colour, region or variant suffix.</param>
/// <remarks>Immutable; thread-safe.</remarks>
public sealed record SharedModelCode(string Code, bool Exact)
{
    /// <summary>A short reason for people: <c>same model code</c>, or <c>near model code</c> with what differs.</summary>
    public string Reason => Exact ? "same model code" : "near model code (differs only in a colour, region or variant suffix)";
}

/// <summary>
/// Product and model codes in free text (<c>WH-1000XM4</c>, <c>KX-TG9332S</c>, <c>SRSA212/BLK</c>): extraction, one
/// normal form, and the near-match key that ignores a colour or region suffix. One home for the rule, used by every
/// index store (as a dedicated codes field), by the explanation ("same model code") and by catalog readers that
/// normalise manufacturer part numbers.
/// </summary>
/// <remarks>
/// <para>A code is a whitespace-separated chunk (after full-width forms are folded) that holds at least one letter and
/// one digit and, once everything but ASCII letters and digits is removed, is at least three characters long.
/// Quantities with a unit (<c>500GB</c>, <c>28cm</c>, <c>1.6cu.ft.</c>) are measures, not codes: see
/// <see cref="ProductUnits"/>. Years and bare numbers hold no letter and are not codes.</para>
/// <para>The near-match key (<see cref="BaseForm"/>) drops the letters after the last digit when the code has at least
/// three digits and the tail is at most three letters: <c>srsa212blk</c> and <c>srsa212bk</c> both give
/// <c>srsa212</c>, <c>kxtg9332s</c> gives <c>kxtg9332</c>. Shops add such tails for colour (<c>BK</c>, <c>/BLK</c>,
/// <c>S</c> for silver), region (<c>/US</c>) or pack variants; a code that ends in a digit is its own base.</para>
/// <para>Stateless; thread-safe.</para>
/// </remarks>
public static class ProductCodes
{
    /// <summary>Shortest normalised code.</summary>
    public const int MinLength = 3;

    /// <summary>Longest suffix (in letters) that <see cref="BaseForm"/> drops.</summary>
    public const int MaxSuffixLetters = 3;

    /// <summary>Fewest digits a code needs before a suffix is dropped (so <c>ps4</c> or <c>x1c</c> stay whole).</summary>
    public const int MinDigitsForBase = 3;

    /// <summary>
    /// The normal form of one code: ASCII letters and digits only, lower-cased, full-width forms folded
    /// (<c>WH-1000XM4</c>, <c>ｗｈ１０００ｘｍ４</c> and <c>wh 1000xm4</c> all give <c>wh1000xm4</c>). Empty when nothing
    /// is left. Use it for manufacturer part numbers too.
    /// </summary>
    /// <param name="code">The code as written.</param>
    public static string Normalize(string? code)
    {
        if (string.IsNullOrEmpty(code))
        {
            return string.Empty;
        }

        var builder = new StringBuilder(code.Length);
        foreach (var raw in code)
        {
            var c = FoldWidth(raw);
            if (char.IsAsciiDigit(c))
            {
                builder.Append(c);
            }
            else if (char.IsAsciiLetter(c))
            {
                builder.Append(char.ToLowerInvariant(c));
            }
        }

        return builder.ToString();
    }

    /// <summary>
    /// The codes in <paramref name="text"/>, normalised (<see cref="Normalize"/>), distinct, in order of first appearance.
    /// Quantities with a known unit are left out.
    /// </summary>
    /// <param name="text">Free text: a title, a description, a query.</param>
    /// <param name="max">The most codes to return.</param>
    public static IReadOnlyList<string> Extract(string? text, int max = int.MaxValue)
    {
        var codes = new List<string>();
        if (string.IsNullOrWhiteSpace(text) || max <= 0)
        {
            return codes;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chunk in text.Split(Separators, StringSplitOptions.RemoveEmptyEntries))
        {
            var code = Normalize(chunk);
            if (code.Length < MinLength || !HasLetterAndDigit(code) || ProductUnits.IsQuantity(code))
            {
                continue;
            }

            if (seen.Add(code))
            {
                codes.Add(code);
                if (codes.Count >= max)
                {
                    break;
                }
            }
        }

        return codes;
    }

    /// <summary>
    /// The near-match key of a normalised code: the code without a short letter suffix after its last digit, or the code
    /// itself when it has no such suffix (see the remarks on <see cref="ProductCodes"/>).
    /// </summary>
    /// <param name="code">A code in normal form (<see cref="Normalize"/>).</param>
    public static string BaseForm(string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        var lastDigit = code.Length - 1;
        while (lastDigit >= 0 && !char.IsAsciiDigit(code[lastDigit]))
        {
            lastDigit--;
        }

        var suffix = code.Length - 1 - lastDigit;
        if (lastDigit < 0 || suffix == 0 || suffix > MaxSuffixLetters)
        {
            return code;
        }

        var digits = 0;
        for (var i = 0; i <= lastDigit; i++)
        {
            if (char.IsAsciiDigit(code[i]))
            {
                digits++;
            }
        }

        return digits >= MinDigitsForBase ? code[..(lastDigit + 1)] : code;
    }

    /// <summary>The distinct near-match keys (<see cref="BaseForm"/>) of <paramref name="codes"/>, in order.</summary>
    /// <param name="codes">Codes in normal form.</param>
    public static IReadOnlyList<string> BaseForms(IEnumerable<string> codes)
    {
        ArgumentNullException.ThrowIfNull(codes);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<string>();
        foreach (var code in codes)
        {
            var b = BaseForm(code);
            if (seen.Add(b))
            {
                result.Add(b);
            }
        }

        return result;
    }

    /// <summary>How the codes of two texts agree: an exact code in common, a near one, or none.</summary>
    /// <param name="a">One text (a title).</param>
    /// <param name="b">The other text.</param>
    /// <param name="shared">The shared code (the exact one, or the near-match key), when there is one.</param>
    public static CodeMatch Compare(string? a, string? b, out string? shared)
    {
        shared = null;
        var left = Extract(a);
        var right = Extract(b);
        if (left.Count == 0 || right.Count == 0)
        {
            return CodeMatch.None;
        }

        var rightSet = new HashSet<string>(right, StringComparer.Ordinal);
        foreach (var code in left)
        {
            if (rightSet.Contains(code))
            {
                shared = code;
                return CodeMatch.Exact;
            }
        }

        var rightBases = new HashSet<string>(BaseForms(right), StringComparer.Ordinal);
        foreach (var code in BaseForms(left))
        {
            if (rightBases.Contains(code))
            {
                shared = code;
                return CodeMatch.Near;
            }
        }

        return CodeMatch.None;
    }

    /// <summary>
    /// The model code <paramref name="product"/> shares with a query text (its title, brand and MPN against the text):
    /// the exact code when there is one, else the near-match key, else null.
    /// </summary>
    /// <param name="queryText">The query: a product's title and brand, or search text.</param>
    /// <param name="product">The result.</param>
    public static SharedModelCode? Shared(string? queryText, Product product)
    {
        ArgumentNullException.ThrowIfNull(product);
        return Compare(queryText, CodeText(product), out var shared) switch
        {
            CodeMatch.Exact => new SharedModelCode(shared!, true),
            CodeMatch.Near => new SharedModelCode(shared!, false),
            _ => null,
        };
    }

    /// <summary>The model code two products share (titles, brands and MPNs), as <see cref="Shared(string?, Product)"/>.</summary>
    /// <param name="query">The query product.</param>
    /// <param name="product">The result.</param>
    public static SharedModelCode? Shared(Product query, Product product)
    {
        ArgumentNullException.ThrowIfNull(query);
        return Shared(CodeText(query), product);
    }

    private static string CodeText(Product product)
    {
        var text = ProductText.ForKeywordQuery(product);
        return string.IsNullOrEmpty(product.Mpn) ? text : $"{text} {product.Mpn}";
    }

    private static readonly char[] Separators = [' ', '+', '\t', '\n', '\r', '\u3000', ',', ';', '(', ')', '[', ']', '{', '}', '|', '，', '；', '（', '）', '【', '】', '、', '。'];

    private static bool HasLetterAndDigit(string code)
    {
        bool letter = false, digit = false;
        foreach (var c in code)
        {
            letter |= char.IsAsciiLetter(c);
            digit |= char.IsAsciiDigit(c);
        }

        return letter && digit;
    }

    // Full-width ASCII (U+FF01..U+FF5E) to ASCII; cheaper than NFKC for the one case codes need.
    private static char FoldWidth(char c) => c is >= '\uFF01' and <= '\uFF5E' ? (char)(c - 0xFEE0) : c;
}
