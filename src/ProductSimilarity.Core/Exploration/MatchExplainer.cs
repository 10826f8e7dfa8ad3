using System.Numerics.Tensors;
using System.Text;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Core.Exploration;

/// <summary>An attribute two products share with the same value.</summary>
/// <param name="Name">The field: <c>brand</c>, <c>category</c> or a catalog column such as <c>color</c>.</param>
/// <param name="Value">The shared value, as the first product spells it.</param>
public sealed record MatchingAttribute(string Name, string Value);

/// <summary>What two products have in common, for people reading a ranking.</summary>
/// <param name="Id">The id of the compared product.</param>
/// <param name="Cosine">Cosine similarity of the two stored embeddings (what the vector side of the ranking uses), when both have vectors of one length.</param>
/// <param name="SharedTerms">Terms in both products' title and brand (see <see cref="MatchExplainer.Terms"/>), in the first product's order.</param>
/// <param name="MatchingAttributes">Brand, category and catalog columns with equal values (case-insensitive).</param>
/// <param name="ModelCode">The model code both products carry (exact, or equal up to a colour or region suffix), or null.</param>
public sealed record MatchExplanation(string Id, double? Cosine, IReadOnlyList<string> SharedTerms, IReadOnlyList<MatchingAttribute> MatchingAttributes, SharedModelCode? ModelCode = null);

/// <summary>
/// Explains a pair of products after the fact: shared terms, matching attributes and the embedding cosine. It does
/// not re-run or reach into the ranking, so it never changes a score.
/// </summary>
/// <remarks>
/// The terms are a readable approximation of the keyword side, not its exact analyser: text is lower-cased and split
/// into runs of letters and digits; runs of Han characters become overlapping bigrams (as CJK keyword search does),
/// one-letter Latin tokens and a few English stop words are dropped. No stemming, so <c>knife</c> and <c>knives</c>
/// are different terms here. Stateless; thread-safe.
/// </remarks>
public static class MatchExplainer
{
    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "into", "is", "it", "of", "on", "or", "the", "to", "with",
    };

    /// <summary>Explains why <paramref name="other"/> may be like <paramref name="query"/>.</summary>
    public static MatchExplanation Explain(IndexedProduct query, IndexedProduct other)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(other);
        var otherTerms = Terms(other.Product).ToHashSet(StringComparer.Ordinal);
        var shared = Terms(query.Product).Where(otherTerms.Contains).ToList();
        double? cosine = query.Vector.Length > 0 && query.Vector.Length == other.Vector.Length
            ? Math.Round(TensorPrimitives.CosineSimilarity(query.Vector.Span, other.Vector.Span), 6)
            : null;
        return new MatchExplanation(other.Id, cosine, shared, MatchingAttributes(query.Product, other.Product), ProductCodes.Shared(query.Product, other.Product));
    }

    /// <summary>The distinct terms of a product's title and brand (the text of its keyword query), in order of first appearance.</summary>
    public static IReadOnlyList<string> Terms(Product product)
    {
        ArgumentNullException.ThrowIfNull(product);
        var terms = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var field in new[] { product.Title, product.Brand })
        {
            if (!string.IsNullOrEmpty(field))
            {
                Tokenize(field.ToLowerInvariant(), terms, seen);
            }
        }

        return terms;
    }

    private static void Tokenize(string text, List<string> terms, HashSet<string> seen)
    {
        var word = new StringBuilder();
        var han = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            if (IsHan(rune))
            {
                Flush(word, terms, seen, han: false);
                han.Append(rune.ToString());
            }
            else if (Rune.IsLetterOrDigit(rune))
            {
                Flush(han, terms, seen, han: true);
                word.Append(rune.ToString());
            }
            else
            {
                Flush(word, terms, seen, han: false);
                Flush(han, terms, seen, han: true);
            }
        }

        Flush(word, terms, seen, han: false);
        Flush(han, terms, seen, han: true);
    }

    private static void Flush(StringBuilder run, List<string> terms, HashSet<string> seen, bool han)
    {
        if (run.Length == 0)
        {
            return;
        }

        var text = run.ToString();
        run.Clear();
        if (!han)
        {
            if ((text.Length > 1 || char.IsDigit(text[0])) && !StopWords.Contains(text) && seen.Add(text))
            {
                terms.Add(text);
            }

            return;
        }

        var runes = text.EnumerateRunes().Select(r => r.ToString()).ToArray();
        if (runes.Length == 1)
        {
            if (seen.Add(runes[0]))
            {
                terms.Add(runes[0]);
            }

            return;
        }

        for (var i = 0; i + 1 < runes.Length; i++)
        {
            var bigram = runes[i] + runes[i + 1];
            if (seen.Add(bigram))
            {
                terms.Add(bigram);
            }
        }
    }

    private static bool IsHan(Rune rune) =>
        rune.Value is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2EBEF) or (>= 0xF900 and <= 0xFAFF);

    private static List<MatchingAttribute> MatchingAttributes(Product a, Product b)
    {
        var matches = new List<MatchingAttribute>();
        if (Same(a.Brand, b.Brand))
        {
            matches.Add(new MatchingAttribute("brand", a.Brand!));
        }

        if (Same(a.Category, b.Category))
        {
            matches.Add(new MatchingAttribute("category", a.Category!));
        }

        foreach (var (name, value) in a.Attributes.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (b.Attributes.TryGetValue(name, out var other) && Same(value, other))
            {
                matches.Add(new MatchingAttribute(name, value));
            }
        }

        return matches;
    }

    private static bool Same(string? a, string? b) =>
        !string.IsNullOrWhiteSpace(a) && !string.IsNullOrWhiteSpace(b)
        && string.Equals(a.Trim(), b.Trim(), StringComparison.OrdinalIgnoreCase);
}
