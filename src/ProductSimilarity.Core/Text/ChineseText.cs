using System.Text;

namespace ProductSimilarity.Core.Text;

/// <summary>
/// Chinese text rules: Traditional characters to their Simplified forms, from OpenCC's character table
/// (<c>Text/Data/TSCharacters.txt</c>, Apache-2.0, refreshed by <c>scripts/update-opencc-table.sh</c>), and the
/// script test that other rules use.
/// </summary>
/// <remarks>
/// <para>The conversion is character by character, OpenCC's <c>t2s</c> without its phrase table: product titles are
/// short and phrase-level choices (<c>軟體</c> → <c>软件</c>) matter less than getting every character into one script,
/// so that a Hong Kong or Taiwan shop's <c>無線藍牙耳機</c> and a mainland shop's <c>无线蓝牙耳机</c> share their terms.
/// Where OpenCC lists several Simplified candidates, its first (default) one is used.</para>
/// <para>The table is read once, on first use, from the assembly. Thread-safe.</para>
/// </remarks>
public static class ChineseText
{
    private static readonly Lazy<Dictionary<int, string>> Table = new(Load);

    /// <summary>The number of Traditional characters the table maps.</summary>
    public static int TableSize => Table.Value.Count;

    /// <summary><paramref name="text"/> with every Traditional character replaced by its Simplified form.</summary>
    /// <param name="text">Any text; characters outside the table are kept.</param>
    public static string ToSimplified(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!ContainsHan(text))
        {
            return text;
        }

        var table = Table.Value;
        StringBuilder? builder = null;
        var index = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (table.TryGetValue(rune.Value, out var simplified))
            {
                builder ??= new StringBuilder(text.Length).Append(text, 0, index);
                builder.Append(simplified);
            }
            else
            {
                builder?.Append(rune.ToString());
            }

            index += rune.Utf16SequenceLength;
        }

        return builder?.ToString() ?? text;
    }

    /// <summary>True when <paramref name="text"/> holds at least one Han (CJK ideograph) character.</summary>
    /// <param name="text">The text.</param>
    public static bool ContainsHan(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var c in text)
        {
            if (IsHan(c) || char.IsHighSurrogate(c))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True for a CJK unified or compatibility ideograph in the Basic Multilingual Plane.</summary>
    /// <param name="c">The character.</param>
    public static bool IsHan(char c) => c is (>= '\u3400' and <= '\u4DBF') or (>= '\u4E00' and <= '\u9FFF') or (>= '\uF900' and <= '\uFAFF');

    private static Dictionary<int, string> Load()
    {
        using var stream = typeof(ChineseText).Assembly.GetManifestResourceStream("ProductSimilarity.Core.Text.Data.TSCharacters.txt")
            ?? throw new InvalidOperationException("The embedded Traditional-to-Simplified table is missing from ProductSimilarity.Core.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var table = new Dictionary<int, string>(4096);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var tab = line.IndexOf('\t', StringComparison.Ordinal);
            if (tab <= 0 || !Rune.TryGetRuneAt(line, 0, out var key) || key.Utf16SequenceLength != tab)
            {
                continue;
            }

            var values = line.AsSpan(tab + 1);
            var space = values.IndexOf(' ');
            var first = (space < 0 ? values : values[..space]).Trim().ToString();
            if (first.Length > 0 && first != key.ToString())
            {
                table[key.Value] = first;
            }
        }

        return table;
    }
}
