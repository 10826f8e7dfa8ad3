using System.Numerics.Tensors;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Diagnostics;
using ProductSimilarity.Core.Embeddings;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Core.Similarity;

/// <summary>Similar items, text search and recommendations over an <see cref="IProductIndex"/>. Shared by every host.</summary>
/// <remarks>
/// Thread-safe. Recommendation histories are used for the one call and are never stored or logged. Every list keeps only
/// the best-ranked variant of each <c>group_id</c>.
/// </remarks>
public sealed class SimilarityService(
    IProductIndex index,
    IEmbeddingGenerator<string, Embedding<float>> generator,
    IOptions<ProductSimilarityOptions> options,
    TimeProvider timeProvider)
{
    private readonly Recommender _recommender = new(index, options, timeProvider);

    // The configured keyword-side rules (ProductSimilarity:Text), the same the index's documents are written with.
    private readonly TextNormalizer _text = TextNormalizer.For(options.Value.Text);

    /// <summary>The configured default ranking mode.</summary>
    public RankingMode DefaultMode => options.Value.Ranking.Mode;

    /// <summary>
    /// The fusion of a hybrid query that names none: the one learned for this index by <c>psim eval --tune</c>
    /// (<see cref="IProductIndex.TunedFusion"/>) when there is one and <see cref="RankingOptions.UseTunedFusion"/> is on,
    /// else the configured one.
    /// </summary>
    public FusionOptions DefaultFusion => options.Value.Ranking.ToFusionOptions(index.TunedFusion);

    /// <summary>Items most like one product, excluding itself and its variants.</summary>
    /// <exception cref="ProductNotFoundException">The id is not in the index.</exception>
    public async Task<SimilarityResult> SimilarAsync(SimilarRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var product = await index.GetAsync(request.Id, cancellationToken).ConfigureAwait(false)
            ?? throw new ProductNotFoundException(request.Id);
        var mode = request.Mode ?? DefaultMode;
        var (fusion, note) = FusionForProduct(product, request.Fusion ?? DefaultFusion, mode);
        var query = new ProductQuery
        {
            Text = _text.ForKeywords(ProductText.ForKeywordQuery(product.Product)),
            Vector = product.Vector,
            Mode = mode,
            Fusion = fusion,
            CandidateReadableShare = CandidateReadableShare(fusion, mode),
            CandidateReadableShareOfRecorded = CandidateReadableShareOfRecorded(fusion, mode),
            Filter = request.Filter,
            Top = request.Top,
            ExcludeIds = new HashSet<string>(StringComparer.Ordinal) { product.Id },
            ExcludeGroupIds = product.Product.GroupId is { Length: > 0 } group
                ? new HashSet<string>(StringComparer.Ordinal) { group }
                : new HashSet<string>(StringComparer.Ordinal),
        };
        var hits = SameProductFirst(product.Product, await ShapedSearchAsync(query, request.Shaping, cancellationToken).ConfigureAwait(false));
        if (request.Explain)
        {
            hits = ResultExplainer.Explain(hits, product.Product, ProductText.ForKeywordQuery(product.Product));
        }

        return new SimilarityResult(product, hits, note);
    }

    /// <summary>
    /// Two products with the same valid GTIN are the same product (sold by another shop or under another id): such a
    /// hit moves to the front and is flagged, in its fused order among themselves.
    /// </summary>
    internal static IReadOnlyList<SearchHit> SameProductFirst(Product query, IReadOnlyList<SearchHit> hits)
    {
        if (query.Gtin is not { Length: > 0 } gtin || !hits.Any(h => h.Product.Product.Gtin == gtin))
        {
            return hits;
        }

        return
        [
            .. hits.Where(h => h.Product.Product.Gtin == gtin).Select(h => h with { SameProduct = true, SameProductReason = "same GTIN" }),
            .. hits.Where(h => h.Product.Product.Gtin != gtin),
        ];
    }


    /// <summary>
    /// The fusion for a query whose embedded text is <paramref name="embeddedText"/>: <paramref name="fusion"/>, or, in
    /// hybrid ranking when the embedding model does not know at least <see cref="RankingOptions.UnknownTokenThreshold"/>
    /// of the text's tokens, the same with its vector weight scaled by the share the model can read (raised to
    /// <see cref="FusionOptions.UnknownTokenLeanExponent"/>), and a note saying so.
    /// </summary>
    /// <param name="embeddedText">The text the query's vector was made from.</param>
    /// <param name="fusion">The fusion otherwise used.</param>
    /// <param name="mode">The ranking mode; only hybrid ranking is adjusted.</param>
    public (FusionOptions Fusion, string? Note) FusionFor(string embeddedText, FusionOptions fusion, RankingMode mode = RankingMode.Hybrid)
    {
        ArgumentNullException.ThrowIfNull(embeddedText);
        return FusionForUnknownShare(coverage => coverage.UnknownTokenShare(embeddedText), fusion, mode);
    }

    // The same for a stored product: its unknown-token share recorded at ingest when there is one, else its text's.
    private (FusionOptions Fusion, string? Note) FusionForProduct(IndexedProduct product, FusionOptions fusion, RankingMode mode)
        => FusionForUnknownShare(coverage => product.UnknownTokenShare ?? coverage.UnknownTokenShare(ProductText.ForEmbedding(product.Product)), fusion, mode);

    private (FusionOptions Fusion, string? Note) FusionForUnknownShare(Func<ITokenCoverage, double> unknownShare, FusionOptions fusion, RankingMode mode)
    {
        ArgumentNullException.ThrowIfNull(fusion);
        var threshold = options.Value.Ranking.UnknownTokenThreshold;
        if (mode != RankingMode.Hybrid || threshold >= 1 || generator.GetService<ITokenCoverage>() is not { } coverage)
        {
            return (fusion, null);
        }

        var unknown = 1 - ReadableShare(threshold, unknownShare(coverage));
        if (unknown <= 0)
        {
            return (fusion, null);
        }

        var scale = Math.Pow(1 - unknown, fusion.UnknownTokenLeanExponent);
        var note = string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"keyword-led: the embedding model does not know {unknown * 100:0}% of this product's tokens, so its vector weight is scaled to {scale:0.00} of the configured one");
        return (fusion with { VectorWeight = fusion.VectorWeight * scale }, note);
    }

    /// <summary>
    /// The per-candidate lean of hybrid ranking (<see cref="FusionOptions.LeanPerCandidate"/>): for each candidate, the
    /// share of its embedded text the model can read (1 when its unknown-token share is under
    /// <see cref="RankingOptions.UnknownTokenThreshold"/>), from the share recorded at ingest
    /// (<see cref="IndexedProduct.UnknownTokenShare"/>) when the product has one, else from its text; null when the fusion
    /// does not lean per candidate, the mode is not hybrid, or the model cannot say.
    /// </summary>
    /// <param name="fusion">The query's fusion.</param>
    /// <param name="mode">The ranking mode.</param>
    public Func<IndexedProduct, double>? CandidateReadableShare(FusionOptions fusion, RankingMode mode = RankingMode.Hybrid)
    {
        if (LeanCoverage(fusion, mode) is not { } coverage)
        {
            return null;
        }

        var threshold = options.Value.Ranking.UnknownTokenThreshold;
        return p => ReadableShare(threshold, p.UnknownTokenShare ?? coverage.UnknownTokenShare(ProductText.ForEmbedding(p.Product)));
    }

    /// <summary>
    /// The same lean as <see cref="CandidateReadableShare"/>, from a candidate's unknown-token share recorded at ingest
    /// (<see cref="ProductQuery.CandidateReadableShareOfRecorded"/>), so that its product need not be read; null when
    /// <see cref="CandidateReadableShare"/> is.
    /// </summary>
    /// <param name="fusion">The query's fusion.</param>
    /// <param name="mode">The ranking mode.</param>
    public Func<double, double>? CandidateReadableShareOfRecorded(FusionOptions fusion, RankingMode mode = RankingMode.Hybrid)
    {
        if (LeanCoverage(fusion, mode) is null)
        {
            return null;
        }

        var threshold = options.Value.Ranking.UnknownTokenThreshold;
        return unknown => ReadableShare(threshold, unknown);
    }

    private ITokenCoverage? LeanCoverage(FusionOptions fusion, RankingMode mode)
    {
        ArgumentNullException.ThrowIfNull(fusion);
        var threshold = options.Value.Ranking.UnknownTokenThreshold;
        return !fusion.LeanPerCandidate || mode != RankingMode.Hybrid || threshold >= 1 ? null : generator.GetService<ITokenCoverage>();
    }

    // The share of a text the model can read, from the share of its tokens that are the unknown token.
    private static double ReadableShare(double threshold, double unknown)
        => unknown < threshold || unknown <= 0 ? 1 : 1 - unknown;

    /// <summary>Products matching free text.</summary>
    public Task<SimilarityResult> SearchAsync(string text, int top, ProductFilter? filter = null, RankingMode? mode = null, CancellationToken cancellationToken = default)
        => SearchAsync(new SearchRequest { Text = text, Top = top, Filter = filter ?? new ProductFilter(), Mode = mode }, cancellationToken);

    /// <summary>Products matching free text, with the options of <paramref name="request"/>.</summary>
    public async Task<SimilarityResult> SearchAsync(SearchRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var text = request.Text;
        var top = request.Top;
        var filter = request.Filter;
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        var effectiveMode = request.Mode ?? DefaultMode;
        var clean = _text.Clean(text, TextNormalizer.MaxTitleLength) ?? string.Empty;
        ReadOnlyMemory<float>? vector = null;
        if (effectiveMode != RankingMode.Keyword)
        {
            // A query vector from another model would be compared against the stored ones without any error otherwise.
            EmbeddingModelMismatchException.ThrowIfMismatch(index, generator.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelId ?? generator.GetType().Name);
            using (QueryStages.Time(QueryStage.Embed))
            {
                vector = (await generator.GenerateAsync([clean], EmbeddingInput.QueryOptions, cancellationToken).ConfigureAwait(false))[0].Vector;
            }
        }

        var (fusion, note) = FusionFor(clean, DefaultFusion, effectiveMode);
        var query = new ProductQuery
        {
            Text = _text.ForKeywords(clean),
            Vector = vector,
            Mode = effectiveMode,
            Fusion = fusion,
            CandidateReadableShare = CandidateReadableShare(fusion, effectiveMode),
            CandidateReadableShareOfRecorded = CandidateReadableShareOfRecorded(fusion, effectiveMode),
            Filter = filter,
            Top = top,
        };
        var hits = await ShapedSearchAsync(query, request.Shaping, cancellationToken).ConfigureAwait(false);
        return new SimilarityResult(null, request.Explain ? ResultExplainer.Explain(hits, null, clean) : hits, note);
    }

    /// <summary>What a user should see next, given their history: see <see cref="Recommender"/> for the rules.</summary>
    /// <exception cref="ArgumentException">The history is longer than <c>ProductSimilarity:Limits:MaxHistory</c>.</exception>
    public Task<SimilarityResult> RecommendAsync(RecommendationRequest request, CancellationToken cancellationToken = default)
        => _recommender.RecommendAsync(request, cancellationToken);

    // The filter fallback and diversity around the collapsed search (ShapedSearch); without filters or diversity it is
    // exactly SearchCollapsedAsync.
    private Task<IReadOnlyList<SearchHit>> ShapedSearchAsync(ProductQuery query, ResultShaping shaping, CancellationToken cancellationToken)
        => ShapedSearch.RunAsync(query, shaping, options.Value.Results, (q, ct) => SearchCollapsedAsync(q, ct), cancellationToken);

    /// <summary>
    /// Runs the query and keeps only the best-ranked variant of each <c>group_id</c>, so a list never shows the same
    /// shoe in three sizes. Asks the index for extra results to make up for the collapsed ones.
    /// </summary>
    private async Task<IReadOnlyList<SearchHit>> SearchCollapsedAsync(ProductQuery query, CancellationToken cancellationToken, HashSet<string>? excludeGtins = null)
    {
        var ranked = await index.RankAsync(query with { Top = Math.Min(query.Top * 3, query.Top + 50) }, cancellationToken).ConfigureAwait(false);
        var groups = new HashSet<string>(StringComparer.Ordinal);
        var kept = new List<SearchHit>(query.Top);

        // Products are read a page at a time, no more than could still be kept, so a store that ranks from ids in memory
        // reads stored fields for little more than the hits it returns.
        for (int next = 0; kept.Count < query.Top && next < ranked.Count;)
        {
            int page = query.Top - kept.Count;
            foreach (var hit in ranked.Hits(next, page))
            {
                if (excludeGtins is { Count: > 0 } && hit.Product.Product.Gtin is { } gtin && excludeGtins.Contains(gtin))
                {
                    continue;
                }

                if (hit.Product.Product.GroupId is not { Length: > 0 } group || groups.Add(group))
                {
                    kept.Add(hit);
                }
            }

            next += page;
        }

        return kept;
    }
}
