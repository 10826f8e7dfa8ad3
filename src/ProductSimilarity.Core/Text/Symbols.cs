using System.Globalization;
using System.Text;

namespace ProductSimilarity.Core.Text;

/// <summary>Emoji, repeated punctuation and punctuation on the keyword side.</summary>
/// <remarks>Character classes come from the Unicode tables that .NET ships (<see cref="Rune.GetUnicodeCategory"/>),
/// not from hand-typed lists. Stateless; thread-safe.</remarks>
internal static class Symbols
{
    /// <summary>Removes emoji and pictographs (other-symbol code points outside the Basic Multilingual Plane and in the
    /// Miscellaneous Symbols, Dingbats and arrows blocks), variation selectors, keycap marks and zero-width joiners.</summary>
    public static string RemoveEmoji(string s)
    {
        if (!HasCandidate(s))
        {
            return s;
        }

        var builder = new StringBuilder(s.Length);
        foreach (var rune in s.EnumerateRunes())
        {
            if (!IsEmoji(rune))
            {
                builder.Append(rune.ToString());
            }
            else if (builder.Length > 0 && builder[^1] != ' ')
            {
                builder.Append(' ');
            }
        }

        return builder.ToString();
    }

    /// <summary>Collapses a run of the same punctuation or symbol character to one (<c>!!!</c> → <c>!</c>,
    /// <c>~~~</c> → <c>~</c>, <c>。。。</c> → <c>。</c>). Letters, digits and spaces are never touched.</summary>
    public static string CollapseRepeatedPunctuation(string s)
    {
        var found = false;
        for (var i = 1; i < s.Length && !found; i++)
        {
            found = s[i] == s[i - 1] && IsPunctuationOrSymbol(s[i]);
        }

        if (!found)
        {
            return s;
        }

        var builder = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (i > 0 && s[i] == s[i - 1] && IsPunctuationOrSymbol(s[i]))
            {
                continue;
            }

            builder.Append(s[i]);
        }

        return builder.ToString();
    }

    /// <summary>Turns punctuation and symbols into spaces, except a character joining two ASCII letters or digits
    /// (<c>wh-1000xm4</c>, <c>srsa212/blk</c>, <c>1.6cuft</c>, <c>noah's</c> stay whole for code and unit rules).</summary>
    public static string PunctuationToSpace(string s)
    {
        StringBuilder? builder = null;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            var drop = IsPunctuationOrSymbol(c)
                && !(i > 0 && i + 1 < s.Length && char.IsAsciiLetterOrDigit(s[i - 1]) && char.IsAsciiLetterOrDigit(s[i + 1]));
            if (drop)
            {
                builder ??= new StringBuilder(s.Length).Append(s, 0, i);
                builder.Append(' ');
            }
            else
            {
                builder?.Append(c);
            }
        }

        return builder?.ToString() ?? s;
    }

    private static bool IsPunctuationOrSymbol(char c) => !char.IsSurrogate(c) && CharUnicodeInfo.GetUnicodeCategory(c) is
        UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
        or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation
        or UnicodeCategory.OtherPunctuation or UnicodeCategory.MathSymbol or UnicodeCategory.OtherSymbol
        or UnicodeCategory.ModifierSymbol;

    private static bool HasCandidate(string s)
    {
        foreach (var c in s)
        {
            if (char.IsSurrogate(c) || c is (>= '\u2190' and <= '\u27BF') or '\uFE0F' or '\u200D' or '\u20E3' or (>= '\u2B00' and <= '\u2BFF'))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsEmoji(Rune rune)
    {
        var v = rune.Value;
        if (v is 0xFE0F or 0xFE0E or 0x200D or 0x20E3 || v is >= 0x1F3FB and <= 0x1F3FF)
        {
            return true;
        }

        var category = Rune.GetUnicodeCategory(rune);
        if (category is not (UnicodeCategory.OtherSymbol or UnicodeCategory.ModifierSymbol))
        {
            return false;
        }

        return v > 0xFFFF || v is (>= 0x2190 and <= 0x21FF) or (>= 0x2300 and <= 0x23FF) or (>= 0x2600 and <= 0x27BF) or (>= 0x2B00 and <= 0x2BFF);
    }
}
