using System.Numerics.Tensors;
using Microsoft.Extensions.Options;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Core.Similarity;

/// <summary>
/// Recommendations from a shopper's history of views, carts, purchases and "not interested", with timestamps. The one
/// home of the recommendation rules; <see cref="SimilarityService.RecommendAsync"/> delegates here, so the CLI,
/// <c>psim serve</c> and the Functions app give the same lists.
/// </summary>
/// <remarks>
/// <para>Each event weighs by its kind (<see cref="KindWeight"/>) times its time decay, <c>0.5^(age / half-life)</c>
/// (<see cref="RecommendationOptions.HalfLifeDays"/>); an event without a time counts as now, so untimed events are equally
/// recent. Several events on one product add up.</para>
/// <para><see cref="RecommendationStrategy.MultiInterest"/>: the positive history products, strongest first, form
/// interests: a product joins the first interest whose seed it resembles (cosine at least
/// <see cref="RecommendationOptions.InterestMergeThreshold"/>), else starts one, up to
/// <see cref="RecommendationOptions.MaxInterests"/> (then it joins its nearest). Each interest is one hybrid retrieval
/// around its weighted mean vector and its strongest products' text (at most <see cref="MaxInterestKeywordWords"/> words),
/// with the request's filters. A candidate scores
/// <c>max over interests (interest weight / strongest weight) x similarity</c>, where the similarity is its fused score
/// in that interest's list scaled to 0..1 over the list (so keywords count where the model cannot read a text). A shopper
/// with a knife and headphones gets both kinds rather than the midpoint between them.
/// <see cref="RecommendationStrategy.Centroid"/> puts the whole history in one interest.</para>
/// <para>Negatives: a "not interested" product and its variants are never shown, and every candidate loses
/// <c><see cref="RecommendationOptions.NegativeWeight"/> x decay x cosine</c> to it, which pushes its near neighbours down.</para>
/// <para>Exclusions: viewed and carted products, explicit exclusions and, unless replenishment is asked for, purchased
/// products with their variants (<c>group_id</c>) and other ids with their GTIN. Each list keeps the best variant of a
/// group.</para>
/// <para>Cold start: when the history yields fewer than <c>top</c> results (it is empty, its ids are unknown, or it holds
/// only negatives), the configured fallbacks (<see cref="RecommendationOptions.ColdStart"/>) fill the list, and
/// <see cref="SimilarityResult.Fallback"/> names them.</para>
/// <para>Thread-safe. The history is used for the one call and never stored or logged.</para>
/// </remarks>
public sealed class Recommender(IProductIndex index, IOptions<ProductSimilarityOptions> options, TimeProvider timeProvider)
{
    /// <summary>How many contributing history items an explanation lists.</summary>
    public const int ContributorsShown = 3;

    /// <summary>
    /// The most whitespace-separated words in one interest's keyword query: its strongest product's title and brand (as
    /// a similar-items query for that product), then the words the next two members add, until the query holds this
    /// many. Bounds a recommendation's keyword work whatever the history.
    /// </summary>
    public const int MaxInterestKeywordWords = 16;

    private readonly PopularProducts _popular = new(index, options, timeProvider);

    // The configured keyword-side rules (ProductSimilarity:Text), the same the index's documents are written with.
    private readonly TextNormalizer _text = TextNormalizer.For(options.Value.Text);

    /// <summary>The weight of one event of a kind: view 1, cart 3, purchase 5 (a "not interested" is a negative of 1).</summary>
    /// <param name="kind">The event kind.</param>
    /// <returns>The weight.</returns>
    public static double KindWeight(InteractionKind kind) => kind switch
    {
        InteractionKind.Purchase => 5,
        InteractionKind.Cart => 3,
        _ => 1,
    };

    /// <summary>The time decay of an event: <c>0.5^(age / halfLife)</c>; an event without a time, or in the future, counts as now.</summary>
    /// <param name="at">When it happened.</param>
    /// <param name="now">Now.</param>
    /// <param name="halfLife">The half-life.</param>
    /// <returns>The decay, 0..1.</returns>
    public static double Decay(DateTimeOffset? at, DateTimeOffset now, TimeSpan halfLife)
    {
        var age = at is { } t && t < now ? now - t : TimeSpan.Zero;
        return Math.Pow(0.5, age / halfLife);
    }

    /// <summary>What a shopper should see next, given their history (see the type's remarks for the rules).</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The recommendations, with <see cref="SimilarityResult.Fallback"/> set when a cold-start fallback supplied any.</returns>
    /// <exception cref="ArgumentException">The history is longer than <c>ProductSimilarity:Limits:MaxHistory</c>.</exception>
    public async Task<SimilarityResult> RecommendAsync(RecommendationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.History.Count > options.Value.Limits.MaxHistory)
        {
            throw new ArgumentException($"history has {request.History.Count} events; at most {options.Value.Limits.MaxHistory} are allowed (ProductSimilarity:Limits:MaxHistory).", nameof(request));
        }

        var settings = options.Value.Recommendations;
        var history = await ReadHistoryAsync(request, settings, cancellationToken).ConfigureAwait(false);
        var hits = history.Positives.Count == 0 || request.Top == 0
            ? []
            : await PersonalisedAsync(request, settings, history, cancellationToken).ConfigureAwait(false);

        string? fallback = null;
        if (hits.Count < request.Top)
        {
            var (filled, used) = await FillAsync(request, settings, history, hits, cancellationToken).ConfigureAwait(false);
            hits = filled;
            fallback = used.Count > 0 ? string.Join(',', used) : history.Positives.Count == 0 ? "none" : null;
        }

        return new SimilarityResult(null, hits) { Fallback = fallback };
    }

    private async Task<History> ReadHistoryAsync(RecommendationRequest request, RecommendationOptions settings, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var halfLife = TimeSpan.FromDays(settings.HalfLifeDays);
        var positive = new Dictionary<string, double>(StringComparer.Ordinal);
        var negative = new Dictionary<string, double>(StringComparer.Ordinal);
        var purchased = new HashSet<string>(StringComparer.Ordinal);
        var categories = new HashSet<string>(StringComparer.Ordinal);
        var history = new History();
        history.ExcludeIds.UnionWith(request.Exclude);
        foreach (var e in request.History)
        {
            var decay = Decay(e.At, now, halfLife);
            if (e.Event == InteractionKind.NotInterested)
            {
                negative[e.Id] = negative.GetValueOrDefault(e.Id) + decay;
                history.ExcludeIds.Add(e.Id);
                continue;
            }

            positive[e.Id] = positive.GetValueOrDefault(e.Id) + (KindWeight(e.Event) * decay);
            if (e.Category is { Length: > 0 } category)
            {
                history.Categories.Add(ProductFilter.Key(category));
            }

            if (e.Event == InteractionKind.Purchase)
            {
                purchased.Add(e.Id);
            }
            else
            {
                history.ExcludeIds.Add(e.Id);
            }
        }

        foreach (var id in positive.Keys.Concat(negative.Keys).Distinct(StringComparer.Ordinal))
        {
            if (await index.GetAsync(id, cancellationToken).ConfigureAwait(false) is not { } product || product.Vector.Length == 0)
            {
                continue;
            }

            var group = product.Product.GroupId is { Length: > 0 } g ? g : null;
            if (negative.TryGetValue(id, out var negativeWeight) && !positive.ContainsKey(id))
            {
                history.Negatives.Add((product, negativeWeight));
                if (group is not null)
                {
                    history.ExcludeGroups.Add(group);
                }

                continue;
            }

            if (positive.TryGetValue(id, out var weight))
            {
                history.Positives.Add(new Weighted(product, weight));
                if (product.Product.Category is { Length: > 0 } category)
                {
                    history.Categories.Add(ProductFilter.Key(category));
                }
            }

            if (purchased.Contains(id) && request.ExcludePurchased)
            {
                history.ExcludeIds.Add(id);
                if (group is not null)
                {
                    history.ExcludeGroups.Add(group);
                }

                // The same GTIN is the same article under another id: bought already, so not recommended either.
                if (product.Product.Gtin is { Length: > 0 } gtin)
                {
                    history.ExcludeGtins.Add(gtin);
                }
            }
        }

        if (request.ExcludePurchased)
        {
            history.ExcludeIds.UnionWith(purchased);
        }

        history.Positives.Sort(static (a, b) => b.Weight != a.Weight ? b.Weight.CompareTo(a.Weight) : string.CompareOrdinal(a.Product.Id, b.Product.Id));
        return history;
    }

    private async Task<IReadOnlyList<SearchHit>> PersonalisedAsync(RecommendationRequest request, RecommendationOptions settings, History history, CancellationToken cancellationToken)
    {
        var strategy = request.Strategy ?? settings.Strategy;
        var interests = strategy == RecommendationStrategy.Centroid
            ? [Interest.Of(history.Positives)]
            : Cluster(history.Positives, settings.MaxInterests, settings.InterestMergeThreshold);

        var perInterest = Math.Max(request.Top * 2, 20);
        var ranking = options.Value.Ranking;
        var lists = await Task.WhenAll(interests.Select(interest => index.RankAsync(
            new ProductQuery
            {
                Text = _text.ForKeywords(KeywordText(interest)),
                Vector = interest.Vector,
                Mode = ranking.Mode,
                Fusion = ranking.ToFusionOptions(index.TunedFusion),
                Filter = request.Filter,
                Top = perInterest,
                ExcludeIds = history.ExcludeIds,
                ExcludeGroupIds = history.ExcludeGroups,
            },
            cancellationToken))).ConfigureAwait(false);

        // Each interest's fused scores, min-max scaled to 0..1 over its own list, so the hybrid ranking (keywords
        // included, where the model cannot read a text) decides within an interest, and the interest's weight across.
        // Scores and ids only: a product is read when the negatives need its vector, or when it may be kept.
        var strongest = interests.Max(i => i.Weight);
        var best = new Dictionary<string, (int List, int Rank, double Score)>(StringComparer.Ordinal);
        for (var k = 0; k < interests.Count; k++)
        {
            var list = lists[k];
            if (list.Count == 0)
            {
                continue;
            }

            var (max, min) = (double.NegativeInfinity, double.PositiveInfinity);
            for (var r = 0; r < list.Count; r++)
            {
                (max, min) = (Math.Max(max, list.ScoreAt(r)), Math.Min(min, list.ScoreAt(r)));
            }

            for (var r = 0; r < list.Count; r++)
            {
                var similarity = max > min ? (list.ScoreAt(r) - min) / (max - min) : 1;
                var value = interests[k].Weight / strongest * similarity;
                if (!best.TryGetValue(list.IdAt(r), out var known) || value > known.Score)
                {
                    best[list.IdAt(r)] = (k, r, value);
                }
            }
        }

        // Reads the hits of ids, with one store call per interest list they come from.
        void Read(IEnumerable<string> ids, Dictionary<string, SearchHit> into)
        {
            foreach (var fromList in ids.GroupBy(id => best[id].List))
            {
                var members = fromList.ToList();
                var hits = lists[fromList.Key].HitsAt(members.ConvertAll(id => best[id].Rank));
                for (var i = 0; i < members.Count; i++)
                {
                    if (hits[i] is { } hit)
                    {
                        into[members[i]] = hit;
                    }
                }
            }
        }

        var candidates = new Dictionary<string, SearchHit>(StringComparer.Ordinal);
        if (history.Negatives.Count > 0 || request.Explain)
        {
            Read(best.Keys, candidates);
            await FillVectorsAsync(candidates, cancellationToken).ConfigureAwait(false);
        }

        var scored = new List<(string Id, double Score)>(best.Count);
        foreach (var (id, (_, _, value)) in best)
        {
            var score = value;
            if (history.Negatives.Count > 0)
            {
                if (!candidates.TryGetValue(id, out var hit))
                {
                    continue;
                }

                var vector = hit.Product.Vector.Span;
                foreach (var (negative, weight) in history.Negatives)
                {
                    if (vector.Length == negative.Vector.Length)
                    {
                        score -= settings.NegativeWeight * weight * Math.Max(0, TensorPrimitives.Dot(vector, negative.Vector.Span));
                    }
                }
            }

            scored.Add((id, score));
        }

        scored.Sort(static (a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : string.CompareOrdinal(a.Id, b.Id));
        var groups = new HashSet<string>(StringComparer.Ordinal);
        var kept = new List<SearchHit>(request.Top);

        // Read a page at a time, no more than could still be kept, one store call per interest list in the page.
        for (var next = 0; kept.Count < request.Top && next < scored.Count;)
        {
            var page = scored.GetRange(next, Math.Min(request.Top - kept.Count, scored.Count - next));
            next += page.Count;
            Read(page.Select(s => s.Id).Where(id => !candidates.ContainsKey(id)), candidates);
            foreach (var (id, score) in page)
            {
                if (!candidates.TryGetValue(id, out var hit))
                {
                    continue;
                }

                var product = hit.Product.Product;
                if ((product.Gtin is { } gtin && history.ExcludeGtins.Contains(gtin))
                    || (product.GroupId is { Length: > 0 } group && !groups.Add(group)))
                {
                    continue;
                }

                kept.Add(hit with { Score = score });
            }
        }

        if (!request.Explain)
        {
            return kept;
        }

        var reference = history.Positives[0].Product.Product;
        var explained = ResultExplainer.Explain(kept, reference, ProductText.ForKeywordQuery(reference));
        var weighted = history.Positives.ConvertAll(p => (p.Product, p.Weight));
        return [.. explained.Select(hit => hit with { Explanation = hit.Explanation! with { ContributingHistory = ResultExplainer.ContributingHistory(hit.Product, weighted, ContributorsShown) } })];
    }

    /// <summary>
    /// The keyword text of one interest's query: its strongest member's title and brand, then the new words of the next
    /// two, while the text holds fewer than <see cref="MaxInterestKeywordWords"/> words.
    /// </summary>
    private static string KeywordText(Interest interest)
    {
        var first = ProductText.ForKeywordQuery(interest.Members[0].Product.Product);
        if (interest.Members.Count == 1)
        {
            return first;
        }

        var words = first.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        var seen = new HashSet<string>(words, StringComparer.OrdinalIgnoreCase);
        foreach (var member in interest.Members.Skip(1).Take(2))
        {
            foreach (var word in ProductText.ForKeywordQuery(member.Product.Product).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (words.Count >= MaxInterestKeywordWords)
                {
                    return string.Join(' ', words);
                }

                if (seen.Add(word))
                {
                    words.Add(word);
                }
            }
        }

        return string.Join(' ', words);
    }

    /// <summary>Groups the history (strongest first) into at most <paramref name="maxInterests"/> interests.</summary>
    private static List<Interest> Cluster(List<Weighted> positives, int maxInterests, double mergeThreshold)
    {
        var seeds = new List<ReadOnlyMemory<float>>();
        var members = new List<List<Weighted>>();
        foreach (var item in positives)
        {
            var nearest = -1;
            var best = double.NegativeInfinity;
            for (var i = 0; i < seeds.Count; i++)
            {
                var similarity = TensorPrimitives.Dot(item.Product.Vector.Span, seeds[i].Span);
                if (similarity > best)
                {
                    (nearest, best) = (i, similarity);
                }
            }

            if (nearest >= 0 && (best >= mergeThreshold || seeds.Count >= maxInterests))
            {
                members[nearest].Add(item);
            }
            else
            {
                seeds.Add(item.Product.Vector);
                members.Add([item]);
            }
        }

        return members.ConvertAll(Interest.Of);
    }

    /// <summary>A store may leave vectors out of search results (Azure AI Search does by default): fetch those.</summary>
    private async Task FillVectorsAsync(Dictionary<string, SearchHit> candidates, CancellationToken cancellationToken)
    {
        foreach (var (id, hit) in candidates.Where(c => c.Value.Product.Vector.Length == 0).ToList())
        {
            if (await index.GetAsync(id, cancellationToken).ConfigureAwait(false) is { } product)
            {
                candidates[id] = hit with { Product = hit.Product with { Vector = product.Vector } };
            }
        }
    }

    /// <summary>Fills a short list from the cold-start fallbacks, in the configured order.</summary>
    private async Task<(IReadOnlyList<SearchHit> Hits, List<string> Used)> FillAsync(
        RecommendationRequest request, RecommendationOptions settings, History history, IReadOnlyList<SearchHit> hits, CancellationToken cancellationToken)
    {
        var used = new List<string>();
        var fallbacks = settings.ColdStartFallbacks();
        if (fallbacks.Count == 0 || request.Top == 0)
        {
            return (hits, used);
        }

        var (ranked, hasPopularity) = await _popular.GetAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<SearchHit>(hits);
        var ids = new HashSet<string>(hits.Select(h => h.Product.Id), StringComparer.Ordinal);
        var groups = new HashSet<string>(hits.Select(h => h.Product.Product.GroupId).OfType<string>(), StringComparer.Ordinal);
        var query = new ProductQuery { Filter = request.Filter, ExcludeIds = history.ExcludeIds, ExcludeGroupIds = history.ExcludeGroups };
        foreach (var fallback in fallbacks)
        {
            Func<Product, bool> fits = fallback switch
            {
                ColdStartFallback.Categories when history.Categories.Count > 0 => p => p.Category is { Length: > 0 } c && history.Categories.Contains(ProductFilter.Key(c)),
                ColdStartFallback.Popular when hasPopularity => p => CatalogPopularity.Of(p) is not null,
                _ => static _ => false,
            };
            var added = 0;
            foreach (var product in ranked)
            {
                if (result.Count == request.Top)
                {
                    break;
                }

                var p = product.Product;
                if (!fits(p) || !query.Admits(p) || ids.Contains(p.Id)
                    || (p.Gtin is { } gtin && history.ExcludeGtins.Contains(gtin))
                    || (p.GroupId is { Length: > 0 } group && !groups.Add(group)))
                {
                    continue;
                }

                ids.Add(p.Id);
                var hit = new SearchHit(product, CatalogPopularity.Of(p) ?? 0, null, null, null, null);
                result.Add(request.Explain ? hit with { Explanation = new ResultExplanation { FusedScore = hit.Score, FusedRank = result.Count + 1, ContributingHistory = [] } } : hit);
                added++;
            }

            if (added > 0)
            {
                used.Add(fallback == ColdStartFallback.Categories ? "categories" : "popular");
            }
        }

        return (result, used);
    }

    private sealed record Weighted(IndexedProduct Product, double Weight);

    /// <summary>One interest: its members (strongest first), their summed weight and their weighted, normalised mean vector.</summary>
    private sealed record Interest(List<Weighted> Members, double Weight, ReadOnlyMemory<float> Vector)
    {
        public static Interest Of(List<Weighted> members)
        {
            var mean = new float[members[0].Product.Vector.Length];
            foreach (var m in members)
            {
                TensorPrimitives.MultiplyAdd(m.Product.Vector.Span, (float)m.Weight, mean, mean);
            }

            var norm = TensorPrimitives.Norm(mean);
            if (norm > 0)
            {
                TensorPrimitives.Divide(mean, norm, mean);
            }

            return new Interest(members, members.Sum(m => m.Weight), mean);
        }
    }

    /// <summary>What the history says once read: weighted products, negatives, exclusions and categories.</summary>
    private sealed class History
    {
        public List<Weighted> Positives { get; } = [];

        public List<(IndexedProduct Product, double Weight)> Negatives { get; } = [];

        public HashSet<string> ExcludeIds { get; } = new(StringComparer.Ordinal);

        public HashSet<string> ExcludeGroups { get; } = new(StringComparer.Ordinal);

        public HashSet<string> ExcludeGtins { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Categories { get; } = new(StringComparer.Ordinal);
    }
}
