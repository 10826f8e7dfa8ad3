using System.Numerics.Tensors;
using ProductSimilarity.Core.Indexing;

namespace ProductSimilarity.Core.Similarity;

/// <summary>
/// Diversity for a ranked list, over the fused candidates and their stored vectors: maximal marginal relevance (MMR)
/// and near-duplicate suppression.
/// </summary>
/// <remarks>
/// <para>Stateless; thread-safe. Written for every ranked list (similar items, search, recommendations, exports): a
/// caller passes its fused candidates, best first, with their vectors.</para>
/// <para>MMR picks, one at a time, the candidate with the highest
/// <c>lambda * relevance - (1 - lambda) * max cosine to the items already chosen</c>, where relevance is the fused score
/// min-max scaled to 0..1 over the candidates (so both terms are on the same scale; all-equal scores count as 1).
/// Near-duplicate suppression leaves out a candidate whose cosine to an item already chosen is above the threshold: the
/// two count as one, and the better-ranked one stays. A candidate without a stored vector is never a near-duplicate and
/// adds no redundancy.</para>
/// </remarks>
public static class ResultDiversity
{
    /// <summary>Chooses up to <paramref name="top"/> hits from <paramref name="candidates"/>.</summary>
    /// <param name="candidates">The fused candidates, best first, with their vectors.</param>
    /// <param name="top">How many to choose.</param>
    /// <param name="mmrLambda">The MMR trade-off (1: relevance only, 0: novelty only); null keeps the ranked order.</param>
    /// <param name="nearDuplicateThreshold">The cosine above which a candidate counts as one with a chosen item; null keeps near-duplicates.</param>
    /// <param name="chosen">Hits already in the list (an earlier fallback step): new hits are compared with them too.</param>
    /// <returns>The chosen hits, in the order chosen, with their scores unchanged.</returns>
    public static IReadOnlyList<SearchHit> Select(
        IReadOnlyList<SearchHit> candidates,
        int top,
        double? mmrLambda,
        double? nearDuplicateThreshold,
        IReadOnlyList<SearchHit>? chosen = null)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentOutOfRangeException.ThrowIfNegative(top);
        if (mmrLambda is { } l && (double.IsNaN(l) || l is < 0 or > 1))
        {
            throw new ArgumentOutOfRangeException(nameof(mmrLambda), mmrLambda, "The MMR lambda must be between 0 and 1.");
        }

        if (mmrLambda is null && nearDuplicateThreshold is null)
        {
            return candidates.Count <= top ? candidates : [.. candidates.Take(top)];
        }

        // Highest cosine of each candidate to anything chosen so far, updated as items are chosen.
        var redundancy = new double[candidates.Count];
        var open = new bool[candidates.Count];
        Array.Fill(open, true);
        foreach (var earlier in chosen ?? [])
        {
            Update(candidates, redundancy, open, earlier);
        }

        var relevance = Relevance(candidates);
        var result = new List<SearchHit>(Math.Min(top, candidates.Count));
        while (result.Count < top)
        {
            int best = -1;
            double bestValue = double.NegativeInfinity;
            for (int i = 0; i < candidates.Count; i++)
            {
                if (!open[i])
                {
                    continue;
                }

                if (nearDuplicateThreshold is { } threshold && redundancy[i] > threshold)
                {
                    open[i] = false;
                    continue;
                }

                if (mmrLambda is not { } lambda)
                {
                    best = i;
                    break;
                }

                // Strictly greater: among equal values the better-ranked candidate wins.
                double value = (lambda * relevance[i]) - ((1 - lambda) * redundancy[i]);
                if (value > bestValue)
                {
                    best = i;
                    bestValue = value;
                }
            }

            if (best < 0)
            {
                break;
            }

            open[best] = false;
            result.Add(candidates[best]);
            Update(candidates, redundancy, open, candidates[best]);
        }

        return result;
    }

    /// <summary>The cosine of two stored vectors, or 0 when either is missing or their dimensions differ.</summary>
    public static double Cosine(ReadOnlyMemory<float> a, ReadOnlyMemory<float> b) =>
        a.Length == 0 || a.Length != b.Length ? 0 : TensorPrimitives.CosineSimilarity(a.Span, b.Span);

    private static void Update(IReadOnlyList<SearchHit> candidates, double[] redundancy, bool[] open, SearchHit chosen)
    {
        var vector = chosen.Product.Vector;
        for (int i = 0; i < candidates.Count; i++)
        {
            if (open[i])
            {
                redundancy[i] = Math.Max(redundancy[i], Cosine(candidates[i].Product.Vector, vector));
            }
        }
    }

    private static double[] Relevance(IReadOnlyList<SearchHit> candidates)
    {
        double min = double.PositiveInfinity;
        double max = double.NegativeInfinity;
        foreach (var hit in candidates)
        {
            min = Math.Min(min, hit.Score);
            max = Math.Max(max, hit.Score);
        }

        double range = max - min;
        var relevance = new double[candidates.Count];
        for (int i = 0; i < candidates.Count; i++)
        {
            relevance[i] = range > 0 ? (candidates[i].Score - min) / range : 1;
        }

        return relevance;
    }
}
