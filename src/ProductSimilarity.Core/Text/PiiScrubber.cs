using System.Text.RegularExpressions;

namespace ProductSimilarity.Core.Text;

/// <summary>
/// Masks personal data that shops paste into descriptions and reviews before the text is embedded or indexed:
/// e-mail addresses, phone numbers (international, North American and Chinese formats), card-like numbers that pass
/// the Luhn check, and the query strings of URLs.
/// </summary>
/// <remarks>
/// <para>
/// Replacements: <c>[email]</c>, <c>[phone]</c>, <c>[card]</c>; a URL keeps its scheme, host and path and loses its
/// query and fragment (<c>https://shop.example/p?email=a@b.c</c> becomes <c>https://shop.example/p</c>).
/// </para>
/// <para>
/// Phones are recognised only in shapes that product codes and measurements do not take: a leading <c>+</c> country
/// code (<c>+1 (415) 555-0100</c>, <c>+86 138 0013 8000</c>), a bracketed area code (<c>(415) 555-0100</c>), the North
/// American 3-3-4 digits with separators (<c>415-555-0100</c>), a Chinese mobile number (11 digits starting 13–19,
/// optionally spaced 3-4-4: <c>138 0013 8000</c>) and a Chinese landline with its area code (<c>010-12345678</c>).
/// Card-like numbers are 13 to 19 digits, optionally grouped by spaces or hyphens, that pass the Luhn check; a GTIN
/// that happens to pass it is masked too, which is why only descriptions and reviews are scrubbed, never codes.
/// </para>
/// <para>Stateless; thread-safe. The expressions have a match timeout, and text is scrubbed after it is capped.</para>
/// </remarks>
public sealed partial class PiiScrubber
{
    /// <summary>The shared instance.</summary>
    public static PiiScrubber Default { get; } = new();

    /// <summary>Replacement for an e-mail address.</summary>
    public const string EmailMask = "[email]";

    /// <summary>Replacement for a phone number.</summary>
    public const string PhoneMask = "[phone]";

    /// <summary>Replacement for a card-like number.</summary>
    public const string CardMask = "[card]";

    /// <summary>Returns <paramref name="text"/> with personal data masked; null stays null.</summary>
    public string? Scrub(string? text)
    {
        if (string.IsNullOrEmpty(text) || !MayContainPii(text))
        {
            return text;
        }

        try
        {
            var s = UrlRegex().Replace(text, static m => m.Groups["base"].Value);
            s = EmailRegex().Replace(s, EmailMask);
            s = CardRegex().Replace(s, static m => IsLuhnValid(m.Value) ? CardMask : m.Value);
            s = PhoneRegex().Replace(s, PhoneMask);
            return s;
        }
        catch (RegexMatchTimeoutException)
        {
            // Pathological input: drop it rather than index text that may hold personal data.
            return string.Empty;
        }
    }

    /// <summary>True when the digits (separators ignored) pass the Luhn check.</summary>
    public static bool IsLuhnValid(ReadOnlySpan<char> number)
    {
        var sum = 0;
        var count = 0;
        var doubleIt = false;
        for (var i = number.Length - 1; i >= 0; i--)
        {
            var c = number[i];
            if (c is ' ' or '-')
            {
                continue;
            }

            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            var d = c - '0';
            if (doubleIt)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            sum += d;
            doubleIt = !doubleIt;
            count++;
        }

        return count is >= 13 and <= 19 && sum % 10 == 0;
    }

    // Cheap pre-check: personal data needs an @, a URL query or a run of digits.
    private static bool MayContainPii(string text)
    {
        var digits = 0;
        foreach (var c in text)
        {
            if (c is '@' or '?' or '#')
            {
                return true;
            }

            digits = char.IsAsciiDigit(c) ? digits + 1 : digits;
            if (digits >= 7)
            {
                return true;
            }
        }

        return false;
    }

    [GeneratedRegex(@"(?<base>\bhttps?://[^\s?#""'<>]+)[?#][^\s""'<>]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex UrlRegex();

    [GeneratedRegex(@"\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}\b", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex EmailRegex();

    [GeneratedRegex(@"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex CardRegex();

    [GeneratedRegex(
        @"(?:(?<![\w+])\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}(?!\d)"
        + @"|(?<![\w(])\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}(?!\d)"
        + @"|(?<![\w-])\d{3}[-.]\d{3}[-.]\d{4}(?![\w-])"
        + @"|(?<![0-9A-Za-z_-])1[3-9]\d(?:[ -]?\d{4}){2}(?![0-9A-Za-z_-])"
        + @"|(?<![0-9A-Za-z_-])0\d{2,3}-\d{7,8}(?![0-9A-Za-z_-]))",
        RegexOptions.CultureInvariant, 1000)]
    private static partial Regex PhoneRegex();
}
