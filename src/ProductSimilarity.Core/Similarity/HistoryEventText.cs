namespace ProductSimilarity.Core.Similarity;

/// <summary>The text forms of history event kinds and recommendation strategies, shared by the HTTP API and the CLI. Stateless; thread-safe.</summary>
public static class HistoryEventText
{
    /// <summary>Parses a history event kind: <c>view</c>, <c>cart</c>, <c>purchase</c> or <c>not_interested</c> (any case; <c>-</c> or no separator also accepted).</summary>
    public static bool TryParseKind(string value, out InteractionKind kind)
    {
        ArgumentNullException.ThrowIfNull(value);
        switch (value.Trim().Replace("-", "_", StringComparison.Ordinal).ToUpperInvariant())
        {
            case "VIEW":
                kind = InteractionKind.View;
                return true;
            case "CART":
                kind = InteractionKind.Cart;
                return true;
            case "PURCHASE":
                kind = InteractionKind.Purchase;
                return true;
            case "NOT_INTERESTED" or "NOTINTERESTED":
                kind = InteractionKind.NotInterested;
                return true;
            default:
                kind = InteractionKind.View;
                return false;
        }
    }

    /// <summary>Parses a recommendation strategy: <c>multiInterest</c> (or <c>multi-interest</c>) or <c>centroid</c>, any case.</summary>
    public static bool TryParseStrategy(string value, out RecommendationStrategy strategy)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Enum.TryParse(value.Trim().Replace("-", string.Empty, StringComparison.Ordinal).Replace("_", string.Empty, StringComparison.Ordinal), ignoreCase: true, out strategy)
            && Enum.IsDefined(strategy);
    }
}
