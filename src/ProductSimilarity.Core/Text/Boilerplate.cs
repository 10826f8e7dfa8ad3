using System.Text;

namespace ProductSimilarity.Core.Text;

/// <summary>Removes a list of boilerplate phrases ("free shipping", "包邮") from text.</summary>
/// <remarks>
/// Matching is case-insensitive (ordinal). A phrase that starts or ends with a Latin letter or digit must sit on a word
/// boundary there (so "hot sale" never eats "hot salespresso"); Chinese phrases match anywhere, since Chinese has no
/// spaces. Longer phrases are tried first, so "官方旗舰店" goes whole before "官方". Immutable; thread-safe.
/// </remarks>
internal sealed class Boilerplate
{
    private readonly string[] _phrases;

    public Boilerplate(IEnumerable<string> phrases)
    {
        _phrases = [.. phrases.Where(p => !string.IsNullOrWhiteSpace(p)).Select(p => p.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).OrderByDescending(p => p.Length)];
    }

    public string Remove(string text)
    {
        if (_phrases.Length == 0 || text.Length == 0)
        {
            return text;
        }

        StringBuilder? builder = null;
        var i = 0;
        var copied = 0;
        while (i < text.Length)
        {
            var length = MatchAt(text, i);
            if (length > 0)
            {
                builder ??= new StringBuilder(text.Length);
                builder.Append(text, copied, i - copied).Append(' ');
                i += length;
                copied = i;
            }
            else
            {
                i++;
            }
        }

        if (builder is null)
        {
            return text;
        }

        return builder.Append(text, copied, text.Length - copied).ToString();
    }

    private int MatchAt(string text, int at)
    {
        foreach (var phrase in _phrases)
        {
            if (at + phrase.Length > text.Length
                || string.Compare(text, at, phrase, 0, phrase.Length, StringComparison.OrdinalIgnoreCase) != 0)
            {
                continue;
            }

            var startsWord = IsWordChar(phrase[0]);
            var endsWord = IsWordChar(phrase[^1]);
            if (startsWord && at > 0 && IsWordChar(text[at - 1]))
            {
                continue;
            }

            var end = at + phrase.Length;
            if (endsWord && end < text.Length && IsWordChar(text[end]))
            {
                continue;
            }

            return phrase.Length;
        }

        return 0;
    }

    private static bool IsWordChar(char c) => char.IsAsciiLetterOrDigit(c);
}
