using nietras.SeparatedValues;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Similarity;

namespace ProductSimilarity.Core.Evaluation;

/// <summary>Retrieval quality of similar-items ranking: recall@1, recall@10 and MRR@10.</summary>
/// <param name="Queries">Number of query products evaluated.</param>
/// <param name="RecallAt1">Share of queries whose top result is a true match.</param>
/// <param name="RecallAt10">Share of queries with a true match in the top 10.</param>
/// <param name="MrrAt10">Mean reciprocal rank of the first true match within the top 10 (0 when none).</param>
/// <param name="MissingIds">Ids named in the matches that are not in the catalog (not queried).</param>
public sealed record EvaluationResult(int Queries, double RecallAt1, double RecallAt10, double MrrAt10, int MissingIds);

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
        ArgumentNullException.ThrowIfNull(matches);
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
        var distinctSources = await CountSourcesAsync(cancellationToken).ConfigureAwait(false);
        var missing = queryIds.Count - present.Count;
        double hits1 = 0, hits10 = 0, mrr = 0;
        var done = 0;
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
                var result = await service.SimilarAsync(new SimilarRequest { Id = id, Top = 10, Filter = filter, Mode = mode }, ct).ConfigureAwait(false);
                var rank = 0;
                for (var i = 0; i < result.Hits.Count; i++)
                {
                    if (truth[id].Contains(result.Hits[i].Product.Id))
                    {
                        rank = i + 1;
                        break;
                    }
                }

                lock (gate)
                {
                    if (rank == 1)
                    {
                        hits1++;
                    }

                    if (rank is >= 1 and <= 10)
                    {
                        hits10++;
                        mrr += 1.0 / rank;
                    }

                    progress?.Report(++done);
                }
            }).ConfigureAwait(false);

        var n = present.Count;
        return n == 0
            ? new EvaluationResult(0, 0, 0, 0, missing)
            : new EvaluationResult(n, hits1 / n, hits10 / n, mrr / n, missing);
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
