using nietras.SeparatedValues;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Ranking;
using ProductSimilarity.Core.Similarity;
using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Core.Evaluation;

/// <summary>Retrieval quality of similar-items ranking: recall@1, recall@10 and MRR@10.</summary>
/// <param name="Queries">Number of query products evaluated.</param>
/// <param name="RecallAt1">Share of queries whose top result is a true match.</param>
/// <param name="RecallAt10">Share of queries with a true match in the top 10.</param>
/// <param name="MrrAt10">Mean reciprocal rank of the first true match within the top 10 (0 when none).</param>
/// <param name="MissingIds">Ids named in the matches that are not in the catalog (not queried).</param>
public sealed record EvaluationResult(int Queries, double RecallAt1, double RecallAt10, double MrrAt10, int MissingIds);

/// <summary>One ranking to compare in <see cref="RetrievalEvaluator.CompareAsync"/>.</summary>
/// <param name="Name">A label for the table.</param>
/// <param name="Mode">Vector, keyword or hybrid.</param>
/// <param name="Fusion">The fusion of a hybrid candidate.</param>
/// <param name="LeanOnUnknownTokens">Apply <see cref="SimilarityService.FusionFor"/> per query (keyword side leads when
/// the model cannot read the text).</param>
public sealed record RankingCandidate(string Name, RankingMode Mode, FusionOptions? Fusion = null, bool LeanOnUnknownTokens = false)
{
    /// <summary>The candidates <c>psim eval --compare</c> measures: each side alone, and every fusion rule.</summary>
    public static IReadOnlyList<RankingCandidate> Standard { get; } =
    [
        new("vector", RankingMode.Vector),
        new("keyword", RankingMode.Keyword),
        new("weighted 0.7 (min-max)", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.Weighted, VectorWeight = 0.7 }),
        new("weighted 0.5 (min-max)", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.Weighted, VectorWeight = 0.5 }),
        new("weighted 0.3 (min-max)", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.Weighted, VectorWeight = 0.3 }),
        new("rrf k=60", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.Rrf }),
        new("z-score 0.5", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.ZScore, VectorWeight = 0.5 }),
        new("z-score 0.3", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.ZScore, VectorWeight = 0.3 }),
        new("confidence 0.5", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.Confidence, VectorWeight = 0.5 }),
        new("confidence 0.3", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.Confidence, VectorWeight = 0.3 }),
        new("weighted 0.7 + unknown-token lean", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.Weighted, VectorWeight = 0.7, UnknownTokenLeanExponent = 1 }, true),
        new("weighted 0.5 + unknown-token lean", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.Weighted, VectorWeight = 0.5, UnknownTokenLeanExponent = 1 }, true),
        new("z-score 0.5 + unknown-token lean", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.ZScore, VectorWeight = 0.5, UnknownTokenLeanExponent = 1 }, true),
        new("z-score 0.3 + unknown-token lean (previous default)", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.ZScore, VectorWeight = 0.3, UnknownTokenLeanExponent = 1 }, true),
        new("confidence 0.5 + unknown-token lean", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.Confidence, VectorWeight = 0.5, UnknownTokenLeanExponent = 1 }, true),
        new("z-score 0.2 + unknown-token lean", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.ZScore, VectorWeight = 0.2, UnknownTokenLeanExponent = 1 }, true),
        new("z-score 0.25 + unknown-token lean", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.ZScore, VectorWeight = 0.25, UnknownTokenLeanExponent = 1 }, true),
        new("z-score 0.35 + unknown-token lean", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.ZScore, VectorWeight = 0.35, UnknownTokenLeanExponent = 1 }, true),
        new("z-score 0.4 + unknown-token lean", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.ZScore, VectorWeight = 0.4, UnknownTokenLeanExponent = 1 }, true),
        new("weighted 0.3 + unknown-token lean", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.Weighted, VectorWeight = 0.3, UnknownTokenLeanExponent = 1 }, true),
        new("confidence 0.3 + unknown-token lean", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.Confidence, VectorWeight = 0.3, UnknownTokenLeanExponent = 1 }, true),
        new("confidence 0.25 + unknown-token lean", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.Confidence, VectorWeight = 0.25, UnknownTokenLeanExponent = 1 }, true),
        new("confidence 0.4 + unknown-token lean", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.Confidence, VectorWeight = 0.4, UnknownTokenLeanExponent = 1 }, true),
        new("z-score 0.3 + squared lean", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.ZScore, VectorWeight = 0.3, UnknownTokenLeanExponent = 2 }, true),
        new("z-score 0.4 + squared lean", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.ZScore, VectorWeight = 0.4, UnknownTokenLeanExponent = 2 }, true),
        new("z-score 0.5 + squared lean", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.ZScore, VectorWeight = 0.5, UnknownTokenLeanExponent = 2 }, true),
        new("z-score 0.3 + cubed lean", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.ZScore, VectorWeight = 0.3, UnknownTokenLeanExponent = 3 }, true),
        new("confidence 0.3 + squared lean", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.Confidence, VectorWeight = 0.3, UnknownTokenLeanExponent = 2 }, true),
        new("weighted 0.5 + squared lean", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.Weighted, VectorWeight = 0.5, UnknownTokenLeanExponent = 2 }, true),
        new("z-score 0.25 + squared lean (default)", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.ZScore, VectorWeight = 0.25, UnknownTokenLeanExponent = 2 }, true),
        new("z-score 0.2 + squared lean", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.ZScore, VectorWeight = 0.2, UnknownTokenLeanExponent = 2 }, true),
        new("z-score 0.25 + squared lean per candidate", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.ZScore, VectorWeight = 0.25, UnknownTokenLeanExponent = 2, LeanPerCandidate = true }, true),
        new("z-score 0.3 + cubed lean per candidate", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.ZScore, VectorWeight = 0.3, UnknownTokenLeanExponent = 3, LeanPerCandidate = true }, true),
        new("z-score 0.25 + squared lean, 20 per list", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.ZScore, VectorWeight = 0.25, UnknownTokenLeanExponent = 2, CandidateCount = 20 }, true),
        new("z-score 0.3 + squared lean, 20 per list", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.ZScore, VectorWeight = 0.3, UnknownTokenLeanExponent = 2, CandidateCount = 20 }, true),
        new("z-score 0.25 + cubed lean per candidate, 20 per list", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.ZScore, VectorWeight = 0.25, UnknownTokenLeanExponent = 3, LeanPerCandidate = true, CandidateCount = 20 }, true),
        new("z-score 0.3 + cubed lean per candidate, 20 per list", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.ZScore, VectorWeight = 0.3, UnknownTokenLeanExponent = 3, LeanPerCandidate = true, CandidateCount = 20 }, true),
        new("z-score 0.3 + cubed lean per candidate, 30 per list", RankingMode.Hybrid, new FusionOptions { Method = FusionMethod.ZScore, VectorWeight = 0.3, UnknownTokenLeanExponent = 3, LeanPerCandidate = true, CandidateCount = 30 }, true),
    ];
}

/// <summary>What <see cref="RetrievalEvaluator.TuneAsync"/> learned and measured.</summary>
/// <param name="Tuned">The learned fusion, to store with the index.</param>
/// <param name="Grid">Each vector weight tried, with its figures on the training queries.</param>
/// <param name="HeldOut">The rankings measured on the held-out queries: vector, keyword, configured, tuned.</param>
/// <param name="HeldOutFigures">Their figures, in the same order.</param>
public sealed record FusionTuning(
    TunedFusion Tuned,
    IReadOnlyList<(double VectorWeight, EvaluationResult Train)> Grid,
    IReadOnlyList<RankingCandidate> HeldOut,
    IReadOnlyList<EvaluationResult> HeldOutFigures);

/// <summary>How one query ranked: where its first true match landed, and what beat it.</summary>
/// <param name="QueryId">The query product.</param>
/// <param name="Rank">1-based rank of the first true match among the results, 0 when none made the list.</param>
/// <param name="TopWrong">The best-ranked result that is not a true match, when there is one.</param>
/// <param name="BestMatch">The best-ranked true match, when one made the list.</param>
public sealed record QueryOutcome(string QueryId, int Rank, SearchHit? TopWrong, SearchHit? BestMatch);

/// <summary>Every query's outcome for one ranking.</summary>
/// <param name="Outcomes">One per query, in id order.</param>
/// <param name="Top">How many results each query asked for.</param>
/// <param name="MissingIds">Ids named in the matches that are not in the catalog (not queried).</param>
public sealed record RankedQueries(IReadOnlyList<QueryOutcome> Outcomes, int Top, int MissingIds)
{
    /// <summary>Share of queries with a true match in the top <paramref name="k"/> (k at most <see cref="Top"/>).</summary>
    public double RecallAt(int k)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, Top);
        return Outcomes.Count == 0 ? 0 : (double)Outcomes.Count(o => o.Rank >= 1 && o.Rank <= k) / Outcomes.Count;
    }

    /// <summary>Mean reciprocal rank of the first true match within the top <paramref name="k"/> (0 when none).</summary>
    public double MrrAt(int k)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, Top);
        return Outcomes.Count == 0 ? 0 : Outcomes.Sum(o => o.Rank >= 1 && o.Rank <= k ? 1.0 / o.Rank : 0) / Outcomes.Count;
    }
}

/// <summary>
/// Measures similar-items quality against labelled match pairs, through the same <see cref="SimilarityService"/> that
/// serves <c>psim similar</c> and the HTTP API. Each product that appears in a match pair is a query; when the index
/// holds two or more sources, the candidates are the products of the other sources; a query is a hit at k when any of
/// its true matches is in its top k.
/// </summary>
/// <remarks>Thread-safe; queries run with bounded parallelism.</remarks>
public sealed class RetrievalEvaluator(SimilarityService service, IProductIndex index)
{

    /// <summary>Reads <c>id_a,id_b[,...]</c> pairs from a CSV with a header; with <paramref name="split"/>, keeps rows whose
    /// <c>split</c> column equals it and whose <c>label</c> column (when present) is 1.</summary>
    public static IReadOnlyList<(string A, string B)> ReadPairs(string path, string? split = null)
    {
        using var reader = Sep.Reader(o => o with { Unescape = true }).FromFile(path);
        var header = reader.Header;
        if (!header.ColNames.Contains("id_a") || !header.ColNames.Contains("id_b"))
        {
            throw new FormatException($"{path}:1: expected columns id_a and id_b.");
        }

        var hasLabel = header.ColNames.Contains("label");
        var hasSplit = header.ColNames.Contains("split");
        if (split is not null && !hasSplit)
        {
            throw new FormatException($"{path}:1: --split needs a 'split' column.");
        }

        var pairs = new List<(string, string)>();
        foreach (var row in reader)
        {
            if (split is not null && !string.Equals(row["split"].ToString(), split, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (hasLabel && row["label"].ToString().Trim() != "1")
            {
                continue;
            }

            pairs.Add((row["id_a"].ToString().Trim(), row["id_b"].ToString().Trim()));
        }

        return pairs;
    }

    /// <summary>Evaluates the index.</summary>
    /// <param name="matches">All true match pairs.</param>
    /// <param name="queryPairs">When set, only products in these pairs are queries (a split's positives).</param>
    /// <param name="mode">Ranking; null uses the service default.</param>
    /// <param name="progress">Reports queries done.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    public async Task<EvaluationResult> EvaluateAsync(
        IReadOnlyList<(string A, string B)> matches,
        IReadOnlyList<(string A, string B)>? queryPairs = null,
        RankingMode? mode = null,
        IProgress<int>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var ranked = await RankQueriesAsync(matches, queryPairs, mode, 10, progress, cancellationToken).ConfigureAwait(false);
        return new EvaluationResult(ranked.Outcomes.Count, ranked.RecallAt(1), ranked.RecallAt(10), ranked.MrrAt(10), ranked.MissingIds);
    }

    /// <summary>Runs every query and keeps each one's outcome (for recall curves and reports of the misses).</summary>
    /// <param name="matches">All true match pairs.</param>
    /// <param name="queryPairs">When set, only products in these pairs are queries (a split's positives).</param>
    /// <param name="mode">Ranking; null uses the service default.</param>
    /// <param name="top">Results per query (1..100): recall is known up to this k.</param>
    /// <param name="progress">Reports queries done.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    public async Task<RankedQueries> RankQueriesAsync(
        IReadOnlyList<(string A, string B)> matches,
        IReadOnlyList<(string A, string B)>? queryPairs = null,
        RankingMode? mode = null,
        int top = 10,
        IProgress<int>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(matches);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(top, 100);
        var (truth, queryIds, present) = await QueriesAsync(matches, queryPairs, cancellationToken).ConfigureAwait(false);
        var distinctSources = await CountSourcesAsync(cancellationToken).ConfigureAwait(false);
        var outcomes = new QueryOutcome[present.Count];
        var done = 0;
        await Parallel.ForEachAsync(
            Enumerable.Range(0, present.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount), CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var id = present[i];
                var product = await index.GetAsync(id, ct).ConfigureAwait(false);
                var filter = distinctSources >= 2 && product?.Product.Source is { } source
                    ? new ProductFilter { ExcludeSource = source }
                    : new ProductFilter();
                var result = await service.SimilarAsync(new SimilarRequest { Id = id, Top = top, Filter = filter, Mode = mode }, ct).ConfigureAwait(false);
                var rank = 0;
                SearchHit? topWrong = null;
                SearchHit? bestMatch = null;
                for (var r = 0; r < result.Hits.Count; r++)
                {
                    var hit = result.Hits[r];
                    if (truth[id].Contains(hit.Product.Id))
                    {
                        if (bestMatch is null)
                        {
                            bestMatch = hit;
                            rank = r + 1;
                        }
                    }
                    else
                    {
                        topWrong ??= hit;
                    }
                }

                outcomes[i] = new QueryOutcome(id, rank, topWrong, bestMatch);
                progress?.Report(Interlocked.Increment(ref done));
            }).ConfigureAwait(false);

        return new RankedQueries(outcomes, top, queryIds.Count - present.Count);
    }

    /// <summary>
    /// Measures several rankings on the same queries at once: each query's vector and keyword candidate lists are
    /// fetched once (through <see cref="SimilarityService"/>, <see cref="FusionOptions.CandidateCount"/> each, as the
    /// index fuses them) and every candidate ranks them with <see cref="RankFusion"/>.
    /// </summary>
    /// <param name="matches">All true match pairs.</param>
    /// <param name="candidates">The rankings to measure.</param>
    /// <param name="queryPairs">When set, only products in these pairs are queries.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>One result per candidate, in order.</returns>
    public async Task<IReadOnlyList<EvaluationResult>> CompareAsync(
        IReadOnlyList<(string A, string B)> matches,
        IReadOnlyList<RankingCandidate> candidates,
        IReadOnlyList<(string A, string B)>? queryPairs = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(matches);
        ArgumentNullException.ThrowIfNull(candidates);
        var (truth, queryIds, present) = await QueriesAsync(matches, queryPairs, cancellationToken).ConfigureAwait(false);

        var distinctSources = await CountSourcesAsync(cancellationToken).ConfigureAwait(false);
        // Each list is fetched once, as deep as the deepest candidate asks; a candidate with fewer per list fuses the heads.
        var depth = candidates.Select(c => c.Fusion?.CandidateCount ?? 0).Append(FusionOptions.Default.CandidateCount).Max();
        var shares = new System.Collections.Concurrent.ConcurrentDictionary<string, double>(StringComparer.Ordinal);
        var hits1 = new double[candidates.Count];
        var hits10 = new double[candidates.Count];
        var mrr = new double[candidates.Count];
        var gate = new Lock();
        await Parallel.ForEachAsync(
            present,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount), CancellationToken = cancellationToken },
            async (id, ct) =>
            {
                var product = await index.GetAsync(id, ct).ConfigureAwait(false);
                var filter = distinctSources >= 2 && product?.Product.Source is { } source
                    ? new ProductFilter { ExcludeSource = source }
                    : new ProductFilter();
                var vector = (await service.SimilarAsync(new SimilarRequest { Id = id, Top = depth, Filter = filter, Mode = RankingMode.Vector }, ct).ConfigureAwait(false))
                    .Hits.Select(h => new ScoredCandidate(h.Product, h.VectorScore ?? h.Score)).ToList();
                var keyword = (await service.SimilarAsync(new SimilarRequest { Id = id, Top = depth, Filter = filter, Mode = RankingMode.Keyword }, ct).ConfigureAwait(false))
                    .Hits.Select(h => new ScoredCandidate(h.Product, h.KeywordScore ?? h.Score)).ToList();
                var embedded = product is null ? string.Empty : ProductText.ForEmbedding(product.Product);
                var ranks = new int[candidates.Count];
                for (var c = 0; c < candidates.Count; c++)
                {
                    var candidate = candidates[c];
                    var fusion = candidate.Fusion ?? FusionOptions.Default;
                    var perList = Math.Max(fusion.CandidateCount, 10);
                    var share = candidate.LeanOnUnknownTokens ? service.CandidateReadableShare(fusion) : null;
                    var ranked = candidate.Mode switch
                    {
                        RankingMode.Vector => RankFusion.FromVector(vector),
                        RankingMode.Keyword => RankFusion.FromKeyword(keyword),
                        _ => RankFusion.Fuse(
                            vector.Count > perList ? vector[..perList] : vector,
                            keyword.Count > perList ? keyword[..perList] : keyword,
                            candidate.LeanOnUnknownTokens ? service.FusionFor(embedded, fusion).Fusion : fusion,
                            share is null ? null : p => shares.GetOrAdd(p.Id, _ => share(p))),
                    };
                    for (var i = 0; i < Math.Min(10, ranked.Count); i++)
                    {
                        if (truth[id].Contains(ranked[i].Product.Id))
                        {
                            ranks[c] = i + 1;
                            break;
                        }
                    }
                }

                lock (gate)
                {
                    for (var c = 0; c < candidates.Count; c++)
                    {
                        if (ranks[c] == 1)
                        {
                            hits1[c]++;
                        }

                        if (ranks[c] >= 1)
                        {
                            hits10[c]++;
                            mrr[c] += 1.0 / ranks[c];
                        }
                    }
                }
            }).ConfigureAwait(false);

        var n = present.Count;
        var missing = queryIds.Count - n;
        return [.. Enumerable.Range(0, candidates.Count).Select(c => n == 0
            ? new EvaluationResult(0, 0, 0, 0, missing)
            : new EvaluationResult(n, hits1[c] / n, hits10[c] / n, mrr[c] / n, missing))];
    }

    /// <summary>
    /// Learns a catalog's fusion weight from its own labelled pairs: every vector weight of <paramref name="grid"/>
    /// (standard-score fusion with the unknown-token lean, as the default) is measured on the queries of
    /// <paramref name="trainPairs"/> only, and the best by recall@1, then MRR@10, then nearness to
    /// <paramref name="configured"/>'s weight, wins. The held-out queries (<paramref name="heldOutPairs"/>, minus any
    /// product that is also a training query) are then measured with the configured fusion, the learned one, and each
    /// side alone, so the figures come from queries the weight never saw.
    /// </summary>
    /// <param name="matches">All true match pairs (the truth).</param>
    /// <param name="trainPairs">The pairs whose products are the training queries.</param>
    /// <param name="heldOutPairs">The pairs whose products are the held-out queries.</param>
    /// <param name="configured">The fusion used without tuning.</param>
    /// <param name="grid">The vector weights to try (0..1); null: 0, 0.1, ..., 1.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    public async Task<FusionTuning> TuneAsync(
        IReadOnlyList<(string A, string B)> matches,
        IReadOnlyList<(string A, string B)> trainPairs,
        IReadOnlyList<(string A, string B)> heldOutPairs,
        FusionOptions configured,
        IReadOnlyList<double>? grid = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(matches);
        ArgumentNullException.ThrowIfNull(trainPairs);
        ArgumentNullException.ThrowIfNull(heldOutPairs);
        ArgumentNullException.ThrowIfNull(configured);
        grid ??= [.. Enumerable.Range(0, 11).Select(i => i / 10.0)];
        var method = configured.Method is FusionMethod.ZScore or FusionMethod.Confidence or FusionMethod.Weighted ? configured.Method : FusionMethod.ZScore;
        var trial = grid.Select(w => new RankingCandidate(
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{method} {w:0.00}"),
            RankingMode.Hybrid,
            configured with { Method = method, VectorWeight = w },
            LeanOnUnknownTokens: true)).ToList();
        var trained = await CompareAsync(matches, trial, trainPairs, cancellationToken).ConfigureAwait(false);
        var best = 0;
        for (var i = 1; i < trial.Count; i++)
        {
            var (a, b) = (trained[i], trained[best]);
            var better = a.RecallAt1 > b.RecallAt1 + 1e-12
                || (Math.Abs(a.RecallAt1 - b.RecallAt1) <= 1e-12 && (a.MrrAt10 > b.MrrAt10 + 1e-12
                    || (Math.Abs(a.MrrAt10 - b.MrrAt10) <= 1e-12
                        && Math.Abs(grid[i] - configured.VectorWeight) < Math.Abs(grid[best] - configured.VectorWeight))));
            if (better)
            {
                best = i;
            }
        }

        var tuned = new TunedFusion(method, grid[best], trained[best].Queries);
        var trainIds = trainPairs.SelectMany(p => new[] { p.A, p.B }).ToHashSet(StringComparer.Ordinal);
        var heldOut = heldOutPairs.Where(p => !trainIds.Contains(p.A) && !trainIds.Contains(p.B)).ToList();
        IReadOnlyList<RankingCandidate> report =
        [
            new("vector", RankingMode.Vector),
            new("keyword", RankingMode.Keyword),
            new("configured", RankingMode.Hybrid, configured, LeanOnUnknownTokens: true),
            new("tuned", RankingMode.Hybrid, tuned.ApplyTo(configured), LeanOnUnknownTokens: true),
        ];
        var figures = heldOut.Count == 0
            ? [.. report.Select(_ => new EvaluationResult(0, 0, 0, 0, 0))]
            : await CompareAsync(matches, report, heldOut, cancellationToken).ConfigureAwait(false);
        return new FusionTuning(tuned, [.. trial.Select((t, i) => (t.Fusion!.VectorWeight, trained[i]))], report, figures);
    }

    /// <summary>
    /// Splits labelled pairs into a training and a held-out part by a stable hash of each pair (the same pairs land in the
    /// same part on every run and machine): about <paramref name="trainShare"/> of them train.
    /// </summary>
    /// <param name="pairs">The pairs.</param>
    /// <param name="trainShare">The share that trains, 0..1.</param>
    public static (IReadOnlyList<(string A, string B)> Train, IReadOnlyList<(string A, string B)> HeldOut) SplitPairs(
        IReadOnlyList<(string A, string B)> pairs, double trainShare = 0.5)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var train = new List<(string, string)>();
        var heldOut = new List<(string, string)>();
        foreach (var pair in pairs)
        {
            var hash = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(
                System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{pair.A}\n{pair.B}")));
            (hash / (double)uint.MaxValue < trainShare ? train : heldOut).Add(pair);
        }

        return (train, heldOut);
    }

    /// <summary>
    /// The truth (each product's true matches, both directions), the query ids (every product in a pair, or only those of
    /// <paramref name="queryPairs"/>), and those of the query ids the index holds, in id order.
    /// </summary>
    private async Task<(Dictionary<string, HashSet<string>> Truth, HashSet<string> QueryIds, List<string> Present)> QueriesAsync(
        IReadOnlyList<(string A, string B)> matches,
        IReadOnlyList<(string A, string B)>? queryPairs,
        CancellationToken cancellationToken)
    {
        var truth = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var (a, b) in matches)
        {
            Add(truth, a, b);
            Add(truth, b, a);
        }

        var queryIds = queryPairs is null
            ? truth.Keys.ToHashSet(StringComparer.Ordinal)
            : queryPairs.SelectMany(p => new[] { p.A, p.B }).ToHashSet(StringComparer.Ordinal);
        var present = new List<string>();
        await foreach (var id in index.GetAllIdsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (queryIds.Contains(id))
            {
                present.Add(id);
            }
        }

        present.Sort(StringComparer.Ordinal);
        return (truth, queryIds, present);
    }

    private async Task<int> CountSourcesAsync(CancellationToken cancellationToken)
    {
        var sources = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var id in index.GetAllIdsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await index.GetAsync(id, cancellationToken).ConfigureAwait(false) is { Product.Source: { } source })
            {
                sources.Add(source);
                if (sources.Count >= 2)
                {
                    break;
                }
            }
        }

        return sources.Count;
    }

    private static void Add(Dictionary<string, HashSet<string>> truth, string from, string to)
    {
        if (!truth.TryGetValue(from, out var set))
        {
            truth[from] = set = new HashSet<string>(StringComparer.Ordinal);
        }

        set.Add(to);
    }
}
