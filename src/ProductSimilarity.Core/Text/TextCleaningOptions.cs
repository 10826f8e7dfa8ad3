namespace ProductSimilarity.Core.Text;

/// <summary>Cleaning rules of <see cref="TextNormalizer"/>, bound from <c>ProductSimilarity:Text</c>.</summary>
/// <remarks>Treat as immutable once the normaliser is built; the normaliser itself is thread-safe.</remarks>
public sealed class TextCleaningOptions
{
    /// <summary>The defaults.</summary>
    public static TextCleaningOptions Default { get; } = new();

    /// <summary>The boilerplate phrases removed when <see cref="Boilerplate"/> is not set.</summary>
    public static IReadOnlyList<string> DefaultBoilerplate { get; } =
    [
        "free shipping", "free delivery", "new arrival", "hot sale", "best seller", "limited offer", "100% authentic",
        "包邮", "全国包邮", "顺丰包邮", "正品", "正品保证", "官方正品", "官方旗舰店", "旗舰店", "官方", "新款", "热卖", "爆款", "特价", "现货", "促销", "限时", "秒杀",
    ];

    /// <summary>The boilerplate phrases shops add to titles and descriptions, matched case-insensitively (Latin phrases
    /// on word boundaries); null uses <see cref="DefaultBoilerplate"/>, an empty list removes nothing. Always removed from
    /// the keyword side; see <see cref="RemoveBoilerplate"/>.</summary>
    public string[]? Boilerplate { get; set; }

    /// <summary>The phrases in force: <see cref="Boilerplate"/>, or <see cref="DefaultBoilerplate"/> when it is null.</summary>
    public IReadOnlyList<string> EffectiveBoilerplate => Boilerplate ?? DefaultBoilerplate;

    /// <summary>Also remove the boilerplate from the stored title and description, and so from the embedded text.</summary>
    public bool RemoveBoilerplate { get; set; } = true;

    /// <summary>Remove emoji and pictographs from every field.</summary>
    public bool RemoveEmoji { get; set; } = true;

    /// <summary>Collapse runs of one repeated punctuation mark or symbol to one (<c>!!!</c> → <c>!</c>, <c>~~~</c> → <c>~</c>) in every field.</summary>
    public bool CollapseRepeatedPunctuation { get; set; } = true;

    /// <summary>Convert Traditional Chinese to Simplified on the keyword side.</summary>
    public bool TraditionalToSimplified { get; set; } = true;

    /// <summary>Write quantities as one canonical token on the keyword side (<c>28 cm</c> → <c>28cm</c>).</summary>
    public bool NormalizeUnits { get; set; } = true;
}
