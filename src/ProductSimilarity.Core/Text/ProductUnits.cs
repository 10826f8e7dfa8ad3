using System.Globalization;
using System.Text.RegularExpressions;

namespace ProductSimilarity.Core.Text;

/// <summary>
/// Quantities with a unit, for the keyword side: a number and its unit become one canonical token, so that
/// <c>28cm</c>, <c>28 cm</c> and <c>28厘米</c> all give <c>28cm</c>; <c>1.6 cu.ft.</c> gives <c>1.6cuft</c>;
/// <c>500 GB</c> gives <c>500gb</c>; <c>1/2"</c> and <c>0.5 in</c> give <c>0.5in</c>.
/// </summary>
/// <remarks>
/// <para>Units covered: length (mm, cm, m, km, in, ft; 毫米 厘米 米 英寸 寸 英尺), mass (mg, g, kg, lb, oz; 克 千克 公斤),
/// volume (ml, l, fl oz, cu ft; 毫升 升), storage (kb, mb, gb, tb), power and electricity (w, kw, v, mah; 瓦 伏),
/// frequency (hz, khz, mhz, ghz). <c>寸</c> in shop titles is the inch of screens and wheels (<c>55寸</c> TVs), so it
/// maps to <c>in</c>. Fractions with a small power-of-two denominator become decimals (<c>1/2"</c>).</para>
/// <para>Only the keyword side uses this: the embedded text keeps the shop's own wording, which the model reads
/// better than our tokens. A number glued to a preceding ASCII letter or digit is part of a code (<c>X1000mAh</c>
/// stays), and <c>2 in 1</c> stays as written.</para>
/// <para>Stateless; thread-safe.</para>
/// </remarks>
public static partial class ProductUnits
{
    private static readonly Dictionary<string, string> CjkUnits = new(StringComparer.Ordinal)
    {
        ["毫米"] = "mm",
        ["厘米"] = "cm",
        ["公分"] = "cm",
        ["米"] = "m",
        ["英寸"] = "in",
        ["寸"] = "in",
        ["英尺"] = "ft",
        ["毫克"] = "mg",
        ["克"] = "g",
        ["千克"] = "kg",
        ["公斤"] = "kg",
        ["毫升"] = "ml",
        ["升"] = "l",
        ["瓦"] = "w",
        ["千瓦"] = "kw",
        ["伏"] = "v",
        ["毫安"] = "mah",
        ["毫安时"] = "mah",
    };

    /// <summary>Rewrites every quantity in <paramref name="text"/> as its canonical token (lower-case).</summary>
    /// <param name="text">Text for the keyword side.</param>
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.AsSpan().ContainsAnyInRange('0', '9') && !text.AsSpan().ContainsAnyInRange('\uFF10', '\uFF19'))
        {
            return text;
        }

        return Quantity().Replace(text, static m =>
        {
            var number = Number(m.Groups["num"].Value);
            if (number is null)
            {
                return m.Value;
            }

            var unit = Canonical(m.Groups["unit"].Value);
            return unit is null ? m.Value : number + unit;
        });
    }

    /// <summary>True when a normalised token (letters and digits only, lower-case) is a number with a known unit, such as
    /// <c>500gb</c>, <c>28cm</c>, <c>16cuft</c> or <c>1080p</c>: a measure, not a model code.</summary>
    /// <param name="token">The token, in <see cref="ProductCodes.Normalize"/> form.</param>
    public static bool IsQuantity(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return QuantityToken().IsMatch(token);
    }

    private static string? Number(string raw)
    {
        raw = raw.Replace(" ", string.Empty, StringComparison.Ordinal);
        var slash = raw.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0)
        {
            if (!int.TryParse(raw.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out var numerator)
                || !int.TryParse(raw.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var denominator)
                || denominator == 0)
            {
                return null;
            }

            return ((decimal)numerator / denominator).ToString("0.####", CultureInfo.InvariantCulture);
        }

        return decimal.TryParse(raw, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
            ? value.ToString("0.####", CultureInfo.InvariantCulture)
            : null;
    }

    private static string? Canonical(string unit)
    {
        if (CjkUnits.TryGetValue(unit, out var cjk))
        {
            return cjk;
        }

        var u = unit.ToLowerInvariant().Replace(".", string.Empty, StringComparison.Ordinal).Replace(" ", string.Empty, StringComparison.Ordinal);
        return u switch
        {
            "\"" or "”" or "″" or "in" or "inch" or "inches" => "in",
            "'" or "′" or "ft" or "feet" or "foot" => "ft",
            "mm" or "millimeter" or "millimeters" or "millimetre" or "millimetres" => "mm",
            "cm" or "centimeter" or "centimeters" or "centimetre" or "centimetres" => "cm",
            "m" or "meter" or "meters" or "metre" or "metres" => "m",
            "km" => "km",
            "mg" => "mg",
            "g" or "gram" or "grams" or "gr" => "g",
            "kg" or "kgs" or "kilogram" or "kilograms" => "kg",
            "lb" or "lbs" or "pound" or "pounds" => "lb",
            "oz" or "ounce" or "ounces" => "oz",
            "floz" => "floz",
            "ml" or "milliliter" or "milliliters" or "millilitre" or "millilitres" => "ml",
            "l" or "liter" or "liters" or "litre" or "litres" => "l",
            "cuft" or "cubicfeet" or "cubicfoot" or "cubicft" => "cuft",
            "kb" => "kb",
            "mb" => "mb",
            "gb" => "gb",
            "tb" => "tb",
            "w" or "watt" or "watts" => "w",
            "kw" => "kw",
            "v" or "volt" or "volts" => "v",
            "mah" => "mah",
            "hz" => "hz",
            "khz" => "khz",
            "mhz" => "mhz",
            "ghz" => "ghz",
            _ => null,
        };
    }

    // A number (decimal, or a fraction with a small denominator) not glued to a preceding ASCII letter, digit or dot,
    // then optional spaces and a unit. Latin units must not run on into more letters; "in" must not be followed by a
    // number ("2 in 1"). CJK units need no boundary.
    [GeneratedRegex(
        """(?<![A-Za-z0-9.])(?<num>\d{1,6}(?:\.\d{1,4})?|\d{1,2}\s?/\s?(?:2|4|8|16|32|64))\s?(?<unit>(?:cu\.?\s?ft\.?|cubic\s(?:feet|foot|ft)|fl\.?\s?oz\.?|inch(?:es)?|in\.?(?!\s?\d)|ft\.?|feet|foot|mm|millimet(?:er|re)s?|cm|centimet(?:er|re)s?|met(?:er|re)s?|m|km|mg|grams?|gr|g|kgs?|kilograms?|lbs?\.?|pounds?|oz\.?|ounces?|ml|millilit(?:er|re)s?|lit(?:er|re)s?|l|kb|mb|gb|tb|watts?|w|kw|volts?|v|mah|hz|khz|mhz|ghz)(?![A-Za-z])|["”″]|毫米|厘米|公分|英寸|英尺|寸|米|毫克|千克|公斤|克|毫升|升|千瓦|瓦|伏|毫安时|毫安)""",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Quantity();

    [GeneratedRegex(
        "^[0-9]+(?:mm|cm|m|km|in|inch|ft|mg|g|kg|lb|lbs|oz|floz|ml|l|cuft|kb|mb|gb|tb|w|kw|v|mah|hz|khz|mhz|ghz|p|pk|pcs|pc)$",
        RegexOptions.CultureInvariant)]
    private static partial Regex QuantityToken();
}
