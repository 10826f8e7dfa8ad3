namespace ProductSimilarity.Core.Catalog;

/// <summary>
/// Normalises product identifiers: GTIN (EAN-8, UPC-A, EAN-13, ITF-14, ISBN-13, ISBN-10) to the 14-digit GTIN form
/// with its check digit validated, and manufacturer part numbers (MPN) to a comparable code.
/// </summary>
/// <remarks>
/// A GTIN is written as 8 to 14 digits (spaces, hyphens and dots between them are ignored) and zero-padded on the
/// left to 14 digits; padding keeps the GS1 check digit valid, so a UPC whose leading zero a spreadsheet dropped is
/// still accepted. An ISBN-10 (last character may be <c>X</c>) is converted to its ISBN-13 (<c>978</c> prefix). All
/// zeros is not a GTIN. Stateless; thread-safe.
/// </remarks>
public static class ProductIdentifiers
{
    /// <summary>Normalises a GTIN, EAN, UPC or ISBN to 14 digits.</summary>
    /// <param name="text">The identifier as written.</param>
    /// <param name="gtin">The 14-digit GTIN when valid.</param>
    /// <param name="reason">Why it is not a valid GTIN.</param>
    /// <returns><c>true</c> when valid; blank text gives <c>false</c> with an empty reason.</returns>
    public static bool TryNormalizeGtin(string? text, out string? gtin, out string reason)
    {
        gtin = null;
        reason = string.Empty;
        var span = text.AsSpan().Trim();
        if (span.IsEmpty)
        {
            return false;
        }

        Span<char> digits = stackalloc char[14];
        var count = 0;
        foreach (var c in span)
        {
            if (c is ' ' or '-' or '.')
            {
                continue;
            }

            var isbnX = c is 'X' or 'x' && count == 9;
            if ((!char.IsAsciiDigit(c) && !isbnX) || count == 14)
            {
                reason = $"'{ProductRowBuilder.Shorten(text!)}' is not a GTIN (expected 8 to 14 digits)";
                return false;
            }

            digits[count++] = char.ToUpperInvariant(c);
        }

        if (count == 10)
        {
            // Ten characters is an ISBN-10 (no GTIN is written with ten digits).
            return TryIsbn10(digits[..10], text!, out gtin, out reason);
        }

        if (count < 8 || digits[..count].Contains('X'))
        {
            reason = $"'{ProductRowBuilder.Shorten(text!)}' is not a GTIN (expected 8 to 14 digits)";
            return false;
        }

        Span<char> padded = stackalloc char[14];
        padded[..(14 - count)].Fill('0');
        digits[..count].CopyTo(padded[(14 - count)..]);
        if (!padded.ContainsAnyExcept('0'))
        {
            reason = "a GTIN of zeros is not a GTIN";
            return false;
        }

        if (CheckDigit(padded[..13]) != padded[13])
        {
            reason = $"'{ProductRowBuilder.Shorten(text!)}' has a wrong check digit (expected {CheckDigit(padded[..13])})";
            return false;
        }

        gtin = new string(padded);
        return true;
    }

    /// <summary>
    /// Normalises a manufacturer part number like a model code: upper case, with spaces, hyphens, dots, slashes and
    /// underscores removed (<c>wh-1000xm4</c> and <c>WH 1000 XM4</c> both give <c>WH1000XM4</c>). Blank gives <c>null</c>.
    /// </summary>
    public static string? NormalizeMpn(string? text)
    {
        var span = text.AsSpan().Trim();
        if (span.IsEmpty)
        {
            return null;
        }

        Span<char> buffer = span.Length <= 256 ? stackalloc char[span.Length] : new char[span.Length];
        var written = 0;
        foreach (var c in span)
        {
            if (c is ' ' or '-' or '.' or '/' or '_' or '\t')
            {
                continue;
            }

            buffer[written++] = char.ToUpperInvariant(c);
        }

        return written == 0 ? null : new string(buffer[..written]);
    }

    private static bool TryIsbn10(ReadOnlySpan<char> isbn, string text, out string? gtin, out string reason)
    {
        gtin = null;
        reason = string.Empty;
        var sum = 0;
        for (var i = 0; i < 10; i++)
        {
            var value = isbn[i] == 'X' ? 10 : isbn[i] - '0';
            sum += value * (10 - i);
        }

        if (sum % 11 != 0)
        {
            reason = $"'{ProductRowBuilder.Shorten(text)}' is not a valid ISBN-10 (wrong check digit)";
            return false;
        }

        Span<char> padded = stackalloc char[14];
        "0978".AsSpan().CopyTo(padded);
        isbn[..9].CopyTo(padded[4..]);
        padded[13] = CheckDigit(padded[..13]);
        gtin = new string(padded);
        return true;
    }

    /// <summary>GS1 check digit: weights 3 and 1 alternating from the rightmost data digit.</summary>
    private static char CheckDigit(ReadOnlySpan<char> data)
    {
        var sum = 0;
        for (var i = 0; i < data.Length; i++)
        {
            var weight = (data.Length - i) % 2 == 1 ? 3 : 1;
            sum += (data[i] - '0') * weight;
        }

        return (char)('0' + ((10 - (sum % 10)) % 10));
    }
}
