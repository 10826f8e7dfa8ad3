using System.Text;

namespace ProductSimilarity.Core.Text;

/// <summary>Removes HTML markup from product text with a single forward pass (no regular expressions).</summary>
/// <remarks>
/// <para>
/// A tag is <c>&lt;</c> followed by a letter, <c>/</c>, <c>!</c> or <c>?</c>, up to the next <c>&gt;</c>; any other
/// <c>&lt;</c> is text (<c>size &lt; 10</c>). Comments are removed, and so is the content of <c>script</c>,
/// <c>style</c>, <c>noscript</c> and <c>template</c> elements. Block tags (<c>p</c>, <c>br</c>, <c>li</c>, <c>div</c>,
/// ...) become a space; inline tags (<c>b</c>, <c>span</c>, <c>a</c>, ...) vanish, so <c>wire&lt;b&gt;less&lt;/b&gt;</c>
/// stays one word. Entities are left for <see cref="System.Net.WebUtility.HtmlDecode(string)"/>.
/// </para>
/// <para>
/// Every search moves forward, so the cost is linear in the input even for hostile text (<c>&lt;a&lt;a&lt;a...</c>).
/// Output stops once it holds <c>budget</c> non-whitespace characters, so a 10 MB description costs no more than the
/// part that can survive the length cap. Stateless; thread-safe.
/// </para>
/// </remarks>
internal static class HtmlText
{
    private static readonly string[] RawTextElements = ["script", "style", "noscript", "template"];

    private static readonly HashSet<string> InlineTags = new(StringComparer.OrdinalIgnoreCase)
    {
        "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "font", "i", "kbd", "mark", "q", "s", "samp",
        "small", "span", "strong", "sub", "sup", "time", "u", "var", "wbr",
    };

    /// <summary>Strips tags from <paramref name="text"/>, keeping at most about <paramref name="budget"/> non-whitespace characters.</summary>
    public static string Strip(string text, long budget)
    {
        var output = new StringBuilder((int)Math.Min(text.Length, Math.Min(budget * 2, 1 << 20)));
        var kept = 0L;
        var noTagEndAhead = false;
        var i = 0;
        while (i < text.Length && kept < budget)
        {
            var lt = text.IndexOf('<', i);
            var end = lt < 0 ? text.Length : lt;
            kept += AppendWithin(output, text.AsSpan(i, end - i), budget - kept);
            if (lt < 0 || kept >= budget)
            {
                break;
            }

            i = lt;
            if (noTagEndAhead || i + 1 >= text.Length || !IsTagStart(text[i + 1]))
            {
                output.Append('<');
                kept++;
                i++;
                continue;
            }

            if (text.AsSpan(i).StartsWith("<!--", StringComparison.Ordinal))
            {
                var close = text.IndexOf("-->", i + 4, StringComparison.Ordinal);
                if (close < 0)
                {
                    break; // an unclosed comment hides the rest
                }

                output.Append(' ');
                i = close + 3;
                continue;
            }

            var gt = text.IndexOf('>', i + 1);
            if (gt < 0)
            {
                noTagEndAhead = true; // no later '<' can start a tag either
                output.Append('<');
                kept++;
                i++;
                continue;
            }

            var name = TagName(text.AsSpan(i + 1, gt - i - 1), out var closing);
            i = gt + 1;
            if (!closing && IsRawTextElement(name, out var element))
            {
                var close = text.IndexOf("</" + element, i, StringComparison.OrdinalIgnoreCase);
                if (close < 0)
                {
                    break;
                }

                var closeEnd = text.IndexOf('>', close);
                i = closeEnd < 0 ? text.Length : closeEnd + 1;
                output.Append(' ');
                continue;
            }

            if (name.IsEmpty || !InlineTags.GetAlternateLookup<ReadOnlySpan<char>>().Contains(name))
            {
                output.Append(' ');
            }
        }

        return output.ToString();
    }

    private static bool IsTagStart(char c) => char.IsAsciiLetter(c) || c is '/' or '!' or '?';

    private static ReadOnlySpan<char> TagName(ReadOnlySpan<char> inside, out bool closing)
    {
        closing = !inside.IsEmpty && inside[0] == '/';
        if (closing)
        {
            inside = inside[1..];
        }

        var length = 0;
        while (length < inside.Length && (char.IsAsciiLetterOrDigit(inside[length]) || inside[length] is '-' or ':'))
        {
            length++;
        }

        return inside[..length];
    }

    private static bool IsRawTextElement(ReadOnlySpan<char> name, out string element)
    {
        foreach (var candidate in RawTextElements)
        {
            if (name.Equals(candidate, StringComparison.OrdinalIgnoreCase))
            {
                element = candidate;
                return true;
            }
        }

        element = string.Empty;
        return false;
    }

    /// <summary>Appends <paramref name="run"/> up to <paramref name="remaining"/> non-whitespace characters; returns how many it counted.</summary>
    private static long AppendWithin(StringBuilder output, ReadOnlySpan<char> run, long remaining)
    {
        var counted = 0L;
        var take = 0;
        while (take < run.Length && counted < remaining)
        {
            if (!char.IsWhiteSpace(run[take]))
            {
                counted++;
            }

            take++;
        }

        output.Append(run[..take]);
        return counted;
    }
}
