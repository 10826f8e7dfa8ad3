using System.Globalization;

namespace ProductSimilarity.Core.Catalog;

/// <summary>
/// Parses prices as shops write them: <c>9.99</c>, <c>1.234,56</c>, <c>12,99 €</c>, <c>$1,299.00</c>, <c>¥129</c>,
/// <c>15.00 USD</c>, with the currency taken from the symbol or ISO code when there is one.
/// </summary>
/// <remarks>
/// <para>
/// Without a culture, the decimal separator is inferred from the value alone. When both <c>.</c> and <c>,</c> occur,
/// the last one is the decimal separator (<c>1.234,56</c> and <c>1,234.56</c> are both 1234.56). A separator that occurs
/// more than once groups thousands (<c>1,000,000</c>, <c>1.000.000</c>). A single <c>,</c> is a decimal comma
/// (<c>12,99</c>, <c>1,5</c>) unless exactly three digits follow it, in which case it groups thousands: the
/// ambiguous <c>1,234</c> is read as 1234. A single <c>.</c> is always a decimal point (<c>1.234</c> is 1.234). Set a
/// culture (for example <c>de-DE</c>) to read every value with that culture's separators instead. Spaces, non-breaking
/// spaces and <c>'</c> inside the number are ignored as thousands separators.
/// </para>
/// <para>
/// Symbols: <c>$</c> USD, <c>€</c> EUR, <c>£</c> GBP, <c>¥</c> JPY, <c>￥</c> (full-width, as Chinese shops write it)
/// CNY, <c>₹</c> INR, <c>₩</c> KRW; or any three-letter code before or after the number. Stateless; thread-safe.
/// </para>
/// </remarks>
public static class PriceParser
{
    private static readonly Dictionary<string, string> Symbols = new(StringComparer.Ordinal)
    {
        ["US$"] = "USD",
        ["$"] = "USD",
        ["€"] = "EUR",
        ["£"] = "GBP",
        ["¥"] = "JPY",
        ["￥"] = "CNY",
        ["₹"] = "INR",
        ["₩"] = "KRW",
    };

    /// <summary>Parses <paramref name="text"/>; blank gives <c>true</c> with a <c>null</c> price.</summary>
    /// <param name="text">The price as written.</param>
    /// <param name="culture">Read the number with this culture's separators; <c>null</c> infers them (see remarks).</param>
    /// <param name="price">The price, not negative.</param>
    /// <param name="currency">The ISO 4217 code from the symbol or code in the text, or <c>null</c>.</param>
    /// <param name="reason">Why the text is not a price.</param>
    public static bool TryParse(string? text, CultureInfo? culture, out decimal? price, out string? currency, out string reason)
    {
        price = null;
        currency = null;
        reason = string.Empty;
        var span = text.AsSpan().Trim();
        if (span.IsEmpty)
        {
            return true;
        }

        span = StripCurrency(span, ref currency);
        span = StripCurrency(span, ref currency); // "$ 12 USD" style: one on each side
        var number = Clean(span);
        if (number.Length == 0 || !TryParseNumber(number, culture, out var value))
        {
            reason = $"'{ProductRowBuilder.Shorten(text!)}' is not a number";
            return false;
        }

        if (value < 0)
        {
            reason = $"price must not be negative (got '{ProductRowBuilder.Shorten(text!)}')";
            return false;
        }

        price = value;
        return true;
    }

    private static ReadOnlySpan<char> StripCurrency(ReadOnlySpan<char> span, scoped ref string? currency)
    {
        foreach (var (symbol, code) in Symbols)
        {
            if (span.StartsWith(symbol, StringComparison.Ordinal))
            {
                currency ??= code;
                return span[symbol.Length..].Trim();
            }

            if (span.EndsWith(symbol, StringComparison.Ordinal))
            {
                currency ??= code;
                return span[..^symbol.Length].Trim();
            }
        }

        if (span.Length > 3 && IsCode(span[..3]) && !char.IsLetter(span[3]))
        {
            currency ??= span[..3].ToString().ToUpperInvariant();
            return span[3..].Trim();
        }

        if (span.Length > 3 && IsCode(span[^3..]) && !char.IsLetter(span[^4]))
        {
            currency ??= span[^3..].ToString().ToUpperInvariant();
            return span[..^3].Trim();
        }

        return span;
    }

    private static bool IsCode(ReadOnlySpan<char> span) => span is [>= 'A' and <= 'Z', >= 'A' and <= 'Z', >= 'A' and <= 'Z'];

    private static string Clean(ReadOnlySpan<char> span)
    {
        Span<char> buffer = stackalloc char[Math.Min(span.Length, 64)];
        if (span.Length > 64)
        {
            return string.Empty;
        }

        var written = 0;
        foreach (var c in span)
        {
            if (c is ' ' or '\u00A0' or '\u202F' or '\u2009' or '\'')
            {
                continue;
            }

            buffer[written++] = c;
        }

        return new string(buffer[..written]);
    }

    private static bool TryParseNumber(string number, CultureInfo? culture, out decimal value)
    {
        const NumberStyles styles = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowThousands;
        if (culture is not null)
        {
            return decimal.TryParse(number, styles, culture, out value);
        }

        var lastDot = number.LastIndexOf('.');
        var lastComma = number.LastIndexOf(',');
        char? decimalSeparator;
        if (lastDot >= 0 && lastComma >= 0)
        {
            decimalSeparator = lastDot > lastComma ? '.' : ',';
        }
        else if (lastComma >= 0)
        {
            var single = number.IndexOf(',') == lastComma;
            decimalSeparator = single && number.Length - lastComma - 1 != 3 ? ',' : null;
        }
        else if (lastDot >= 0)
        {
            decimalSeparator = number.IndexOf('.') == lastDot ? '.' : null;
        }
        else
        {
            decimalSeparator = '.';
        }

        var group = decimalSeparator == '.' ? ',' : decimalSeparator == ',' ? '.' : number[lastDot >= 0 ? lastDot : lastComma];
        var format = new NumberFormatInfo
        {
            NumberDecimalSeparator = decimalSeparator?.ToString() ?? (group == '.' ? "," : "."),
            NumberGroupSeparator = group.ToString(),
            NegativeSign = "-",
        };
        return decimal.TryParse(number, decimalSeparator is null ? styles & ~NumberStyles.AllowDecimalPoint : styles, format, out value)
            && GroupsAreValid(number, group, decimalSeparator);
    }

    /// <summary>Thousands groups after the first must have three digits (<c>1,23,4</c> is not a price).</summary>
    private static bool GroupsAreValid(string number, char group, char? decimalSeparator)
    {
        var end = decimalSeparator is { } d && number.LastIndexOf(d) is var at and >= 0 && d != group ? at : number.Length;
        var integer = number.AsSpan(0, end);
        var first = integer.IndexOf(group);
        if (first < 0)
        {
            return true;
        }

        var rest = integer[(first + 1)..];
        while (true)
        {
            var next = rest.IndexOf(group);
            var length = next < 0 ? rest.Length : next;
            if (length != 3)
            {
                return false;
            }

            if (next < 0)
            {
                return true;
            }

            rest = rest[(next + 1)..];
        }
    }
}
