using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.Extensions.Options;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Core.Configuration;

/// <summary>The root options tree, bound from the configuration section <c>ProductSimilarity</c>.</summary>
/// <remarks>
/// The same keys work in local.settings.json, Azure app settings (<c>ProductSimilarity__Index__Provider</c>) and CLI flags.
/// Validated on start by <see cref="ProductSimilarityOptionsValidator"/>: the DataAnnotations of every section
/// (<see cref="ValidateObjectMembersAttribute"/>) and the cross-field rules of <see cref="Validate"/>.
/// </remarks>
public sealed class ProductSimilarityOptions : IValidatableObject
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "ProductSimilarity";

    /// <summary>Analyzers accepted for Azure AI Search text fields.</summary>
    public static IReadOnlyList<string> AllowedAnalyzers { get; } = ["en.lucene", "zh-Hans.lucene", "zh-Hans.microsoft", "psim-cjk-bigram", "standard.lucene"];

    /// <summary>Embedding provider settings.</summary>
    [ValidateObjectMembers]
    public EmbeddingOptions Embeddings { get; set; } = new();

    /// <summary>Index provider settings.</summary>
    [ValidateObjectMembers]
    public IndexOptions Index { get; set; } = new();

    /// <summary>Ranking defaults.</summary>
    [ValidateObjectMembers]
    public RankingOptions Ranking { get; set; } = new();

    /// <summary>Ingestion settings.</summary>
    [ValidateObjectMembers]
    public IngestionOptions Ingestion { get; set; } = new();

    /// <summary>Recommendation settings (time decay, interests, negatives, cold start).</summary>
    [ValidateObjectMembers]
    public RecommendationOptions Recommendations { get; set; } = new();

    /// <summary>Text cleaning rules (boilerplate, emoji, Chinese script, units).</summary>
    public TextCleaningOptions Text { get; set; } = new();

    /// <summary>Input limits of the query API and the similarity service.</summary>
    [ValidateObjectMembers]
    public LimitsOptions Limits { get; set; } = new();

    /// <summary>How result lists are filled and diversified: filter fallback, MMR, near-duplicates.</summary>
    [ValidateObjectMembers]
    public ResultOptions Results { get; set; } = new();

    /// <summary>How queries are served: the query-embedding cache and the slow-query log.</summary>
    [ValidateObjectMembers]
    public ServingOptions Serving { get; set; } = new();

    /// <summary>The cross-field rules: what the chosen providers need. Each message names the configuration key.</summary>
    /// <param name="validationContext">The validation context (unused).</param>
    /// <returns>One result per broken rule.</returns>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        const string root = SectionName;
        string? relaxOrderError = null;
        try
        {
            _ = Results.ParsedRelaxOrder();
        }
        catch (FormatException ex)
        {
            relaxOrderError = ex.Message;
        }

        if (relaxOrderError is not null)
        {
            yield return new($"{root}:Results:RelaxOrder: {relaxOrderError}");
        }

        if (Embeddings.Provider == EmbeddingProvider.AzureOpenAI)
        {
            if (Embeddings.AzureOpenAI.Endpoint is null)
            {
                yield return new($"{root}:Embeddings:AzureOpenAI:Endpoint is required when Provider=AzureOpenAI.");
            }
            else if (Embeddings.AzureOpenAI.Endpoint.Scheme != Uri.UriSchemeHttps)
            {
                yield return new($"{root}:Embeddings:AzureOpenAI:Endpoint must be an https address.");
            }

            if (string.IsNullOrWhiteSpace(Embeddings.AzureOpenAI.Deployment))
            {
                yield return new($"{root}:Embeddings:AzureOpenAI:Deployment is required when Provider=AzureOpenAI.");
            }
        }

        if (Index.Provider == IndexProvider.AzureAISearch)
        {
            if (Index.AzureAISearch.Endpoint is null)
            {
                yield return new($"{root}:Index:AzureAISearch:Endpoint is required when Provider=AzureAISearch.");
            }
            else if (Index.AzureAISearch.Endpoint.Scheme != Uri.UriSchemeHttps)
            {
                yield return new($"{root}:Index:AzureAISearch:Endpoint must be an https address.");
            }

            if (!AllowedAnalyzers.Contains(Index.AzureAISearch.Analyzer))
            {
                yield return new($"{root}:Index:AzureAISearch:Analyzer must be one of {string.Join(", ", AllowedAnalyzers)}.");
            }
        }
        else if (string.IsNullOrWhiteSpace(Index.Local.Path))
        {
            yield return new($"{root}:Index:Local:Path is required when Provider=Local.");
        }

        string? coldStartError = null;
        try
        {
            Recommendations.ColdStartFallbacks();
        }
        catch (FormatException ex)
        {
            coldStartError = ex.Message;
        }

        if (coldStartError is not null)
        {
            yield return new(coldStartError);
        }
    }
}

/// <summary>Which embedding generator to use.</summary>
public enum EmbeddingProvider
{
    /// <summary>A local ONNX BERT model (a bundled model unless <see cref="OnnxEmbeddingOptions.ModelPath"/> is set).</summary>
    Onnx,

    /// <summary>Hosted Azure OpenAI embeddings.</summary>
    AzureOpenAI,
}

/// <summary>Which index to use.</summary>
public enum IndexProvider
{
    /// <summary>The embedded on-disk index.</summary>
    Local,

    /// <summary>Azure AI Search.</summary>
    AzureAISearch,
}

/// <summary><c>ProductSimilarity:Embeddings</c>.</summary>
public sealed class EmbeddingOptions
{
    /// <summary><c>Onnx</c> (default) or <c>AzureOpenAI</c>.</summary>
    public EmbeddingProvider Provider { get; set; } = EmbeddingProvider.Onnx;

    /// <summary>Local ONNX model settings.</summary>
    [ValidateObjectMembers]
    public OnnxEmbeddingOptions Onnx { get; set; } = new();

    /// <summary>Azure OpenAI settings.</summary>
    [ValidateObjectMembers]
    public AzureOpenAIEmbeddingOptions AzureOpenAI { get; set; } = new();

    /// <summary>
    /// Optional linear adapter (<c>adapter.safetensors</c> from <c>psim train --adapter</c>) applied to every vector the
    /// provider returns; empty: none. Changing it changes the vectors, so the index must be re-embedded.
    /// </summary>
    public string? AdapterPath { get; set; }
}

/// <summary><c>ProductSimilarity:Embeddings:Onnx</c>.</summary>
public sealed class OnnxEmbeddingOptions
{
    /// <summary>The bundled model used when <see cref="ModelPath"/> is empty: <c>MiniLM</c> (default) or <c>ArcticXs</c>.</summary>
    [EnumDataType(typeof(OnnxBundledModel))]
    public OnnxBundledModel Model { get; set; } = OnnxBundledModel.MiniLM;

    /// <summary>Path of an operator-supplied ONNX model; empty means the bundled model named by <see cref="Model"/>.</summary>
    public string? ModelPath { get; set; }

    /// <summary>
    /// Path of the model's tokenizer: a WordPiece <c>vocab.txt</c>, or a Hugging Face <c>tokenizer.json</c> with a
    /// WordPiece model; default: <c>vocab.txt</c> (else <c>tokenizer.json</c>) next to <see cref="ModelPath"/>.
    /// </summary>
    public string? VocabPath { get; set; }

    /// <summary>How token states become one vector; <c>Auto</c> is the bundled model's own pooling, mean for other models.</summary>
    [EnumDataType(typeof(OnnxPooling))]
    public OnnxPooling Pooling { get; set; } = OnnxPooling.Auto;

    /// <summary>Lower-case (and strip accents) before WordPiece; null is the bundled model's setting, true for other models.</summary>
    public bool? LowerCase { get; set; }

    /// <summary>Text put before every search query (e.g. e5 <c>query: </c>); null is the bundled model's own prefix, none for other models.</summary>
    public string? QueryPrefix { get; set; }

    /// <summary>Text put before every product (passage) text (e.g. e5 <c>passage: </c>); null means none.</summary>
    public string? PassagePrefix { get; set; }

    /// <summary>Maximum tokens per text, including [CLS] and [SEP].</summary>
    [Range(8, 512)]
    public int MaxTokens { get; set; } = 256;

    /// <summary>Texts per ONNX run.</summary>
    [Range(1, 1024)]
    public int BatchSize { get; set; } = 32;

    /// <summary>ONNX Runtime intra-op threads; 0 lets ONNX Runtime choose.</summary>
    [Range(0, 256)]
    public int Threads { get; set; }

    /// <summary>
    /// <c>Int8</c> (default) runs the model with its weight matrices quantised to int8 (scheme: <see cref="Int8Scheme"/>)
    /// for faster CPU inference at the same retrieval quality; <c>None</c> runs it as it is. The model id names the
    /// variant (e.g. <c>-int8-s8</c>), so switching re-embeds the catalog.
    /// </summary>
    [EnumDataType(typeof(OnnxQuantization))]
    public OnnxQuantization Quantization { get; set; } = OnnxQuantization.Int8;

    /// <summary>
    /// Which int8 weight scheme <see cref="OnnxQuantization.Int8"/> uses; <c>Auto</c> (default) picks by the CPU: signed
    /// 8-bit weights where it has VNNI, the saturation-free scheme elsewhere. The model id names the scheme.
    /// </summary>
    [EnumDataType(typeof(OnnxInt8Scheme))]
    public OnnxInt8Scheme Int8Scheme { get; set; } = OnnxInt8Scheme.Auto;

    /// <summary>
    /// Folder for quantised models when the model's own folder cannot be written (always for a bundled model); empty:
    /// <c>$XDG_CACHE_HOME/psim/models</c> (or <c>~/.cache/psim/models</c>).
    /// </summary>
    public string? CacheDirectory { get; set; }
}

/// <summary>The embedding models that ship with the app.</summary>
public enum OnnxBundledModel
{
    /// <summary>sentence-transformers all-MiniLM-L6-v2: 384 dimensions, mean pooling, no prefixes.</summary>
    MiniLM,

    /// <summary>Snowflake snowflake-arctic-embed-xs: 384 dimensions, CLS pooling, a query prefix.</summary>
    ArcticXs,
}

/// <summary>How the per-token states of the model become one text vector.</summary>
public enum OnnxPooling
{
    /// <summary>The bundled model's own pooling; mean for an operator-supplied model.</summary>
    Auto,

    /// <summary>Mean of the token states over the attention mask (sentence-transformers, e5).</summary>
    Mean,

    /// <summary>The state of the first token, <c>[CLS]</c> (bge, arctic-embed).</summary>
    Cls,
}

/// <summary>The int8 weight scheme of <see cref="OnnxQuantization.Int8"/>.</summary>
public enum OnnxInt8Scheme
{
    /// <summary><see cref="S8"/> on a CPU with VNNI (AVX-512 VNNI or AVX-VNNI) or on arm64, else <see cref="ReduceRange"/>.</summary>
    Auto,

    /// <summary>Signed 8-bit weights (-127..127): the fastest, exact on VNNI, but its 16-bit sums saturate on x86-64 without VNNI.</summary>
    S8,

    /// <summary>Signed 7-bit weights (-63..63): no 16-bit sum can saturate, so results are the same on every x86-64 CPU.</summary>
    ReduceRange,

    /// <summary>Unsigned 8-bit weights with a per-column zero point: exact 32-bit sums everywhere, slower kernels.</summary>
    U8U8,
}

/// <summary>How the local ONNX embedding model is run.</summary>
public enum OnnxQuantization
{
    /// <summary>The model as it is (fp32 for the bundled models).</summary>
    None,

    /// <summary>
    /// Dynamic int8 quantisation (the default): the weights of MatMuls with constant weights become 8-bit (per output
    /// column) and the activations are quantised at run time. About 1.5-2 times as fast on CPU; embeddings stay above
    /// 0.99 cosine to fp32 and amazon-google recall@1 within 0.001 of fp32.
    /// </summary>
    Int8,
}

/// <summary><c>ProductSimilarity:Embeddings:AzureOpenAI</c>.</summary>
public sealed class AzureOpenAIEmbeddingOptions
{
    /// <summary>The Azure OpenAI endpoint, e.g. <c>https://my-aoai.openai.azure.com/</c>.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The embedding deployment name.</summary>
    public string? Deployment { get; set; }

    /// <summary>Requested output dimensions (text-embedding-3 models support shortening).</summary>
    [Range(1, 3072)]
    public int Dimensions { get; set; } = 1536;

    /// <summary>Optional API key; empty means managed identity through <c>DefaultAzureCredential</c>.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Inputs per request (the service accepts up to 2,048).</summary>
    [Range(1, 2048)]
    public int BatchSize { get; set; } = 256;

    /// <summary>Seconds one request (one try) may take before it is abandoned and retried; a hung connection ends here.</summary>
    [Range(1, 600)]
    public int TimeoutSeconds { get; set; } = 60;

    /// <summary>Retries after the first try on throttling (429), 5xx, timeouts and transport failures.</summary>
    [Range(0, 20)]
    public int MaxRetries { get; set; } = 5;
}

/// <summary><c>ProductSimilarity:Index</c>.</summary>
public sealed class IndexOptions
{
    /// <summary><c>Local</c> (default) or <c>AzureAISearch</c>.</summary>
    public IndexProvider Provider { get; set; } = IndexProvider.Local;

    /// <summary>Embedded index settings.</summary>
    [ValidateObjectMembers]
    public LocalIndexOptions Local { get; set; } = new();

    /// <summary>Azure AI Search settings.</summary>
    [ValidateObjectMembers]
    public AzureAISearchIndexOptions AzureAISearch { get; set; } = new();
}

/// <summary><c>ProductSimilarity:Index:Local</c>.</summary>
public sealed class LocalIndexOptions
{
    /// <summary>The default index folder, relative to the working directory.</summary>
    public const string DefaultPath = ".psim/index";

    /// <summary>The index folder.</summary>
    public string Path { get; set; } = DefaultPath;

    /// <summary>Keyword boost of an exact model-code match (<c>WH-1000XM4</c> = <c>wh1000xm4</c>); 0 turns the codes field off.</summary>
    [Range(0.0, 10.0)]
    public double ModelCodeBoost { get; set; } = 1.0;

    /// <summary>Keyword boost of a near model-code match (equal up to a colour or region suffix); 0 turns it off.</summary>
    [Range(0.0, 10.0)]
    public double NearCodeBoost { get; set; } = 0.5;

    /// <summary>
    /// How keyword (BM25) candidates are scored: <see cref="KeywordScorerKind.Memory"/> (default), term at a time over
    /// postings held in memory, or <see cref="KeywordScorerKind.Lucene"/>, Lucene's own searcher (the reference). Both give
    /// the same hits with the same scores.
    /// </summary>
    public KeywordScorerKind KeywordScorer { get; set; } = KeywordScorerKind.Memory;

    /// <summary>The HNSW graph used for vector search in large catalogs.</summary>
    [ValidateObjectMembers]
    public LocalHnswOptions Hnsw { get; set; } = new();

    /// <summary>
    /// How often (milliseconds) a background task looks for a commit made by another process (an ingestion beside
    /// <c>psim serve</c>) and, when it finds one, opens and warms the new reader (vectors loaded, HNSW graph brought up to
    /// date) before queries switch to it; queries keep using the previous commit meanwhile, so none waits. 0 instead
    /// brings the reader up to date on the request thread at every read (the behaviour before the background refresh).
    /// This process's own commits are visible at once either way.
    /// </summary>
    [Range(0, 60_000)]
    public int RefreshIntervalMilliseconds { get; set; } = 100;
}

/// <summary><c>ProductSimilarity:Index:Local:Hnsw</c>: when the local index searches vectors through an HNSW graph
/// instead of an exact scan, and the graph's parameters.</summary>
public sealed class LocalHnswOptions
{
    /// <summary>Exact search below this many products with vectors, the graph from it on; 0 always uses the graph.</summary>
    [Range(0, int.MaxValue)]
    public int MinProducts { get; set; } = 50_000;

    /// <summary>Links per node (HNSW <c>M</c>).</summary>
    [Range(4, 128)]
    public int Connectivity { get; set; } = 16;

    /// <summary>Candidate list size while inserting (<c>efConstruction</c>).</summary>
    [Range(8, 4096)]
    public int ExpansionAdd { get; set; } = 64;

    /// <summary>Candidate list size while searching (<c>ef</c>).</summary>
    [Range(8, 4096)]
    public int ExpansionSearch { get; set; } = 128;

    /// <summary>Filters that admit a smaller share of the products than this use exact search.</summary>
    [Range(0.0, 1.0)]
    public double MinFilterFraction { get; set; } = 0.02;

    /// <summary>How the graph stores its copy of the vectors (scores always come from the exact float32 vectors).</summary>
    public HnswScalar Scalar { get; set; } = HnswScalar.F16;
}

/// <summary>How the local index scores keyword (BM25) candidates (<c>ProductSimilarity:Index:Local:KeywordScorer</c>).</summary>
public enum KeywordScorerKind
{
    /// <summary>Term at a time over the queried terms' postings and the length norms held in memory per segment: Lucene's
    /// BM25 scores and order, without Lucene's one-document-at-a-time scoring.</summary>
    Memory,

    /// <summary>Lucene's <c>IndexSearcher</c>: the reference the in-memory scorer is tested against.</summary>
    Lucene,
}

/// <summary>The number format of the HNSW graph's copy of the vectors (<c>ProductSimilarity:Index:Local:Hnsw:Scalar</c>).</summary>
public enum HnswScalar
{
    /// <summary>32-bit floats: 4 bytes per dimension.</summary>
    F32,

    /// <summary>16-bit floats: 2 bytes per dimension, half the memory and disk of <see cref="F32"/>.</summary>
    F16,
}

/// <summary><c>ProductSimilarity:Index:AzureAISearch</c>.</summary>
public sealed class AzureAISearchIndexOptions
{
    /// <summary>The search service endpoint, e.g. <c>https://my-search.search.windows.net</c>.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The index name.</summary>
    [RegularExpression("^[a-z0-9][a-z0-9-]{0,127}$")]
    public string IndexName { get; set; } = "products";

    /// <summary>Analyzer for title, description and brand: <c>en.lucene</c>, <c>zh-Hans.lucene</c>, <c>zh-Hans.microsoft</c>,
    /// <c>psim-cjk-bigram</c> (a custom analyser with CJK bigrams, as the embedded index; the choice for Chinese and mixed
    /// catalogs) or <c>standard.lucene</c>.</summary>
    public string Analyzer { get; set; } = "en.lucene";

    /// <summary>Optional admin key; empty means managed identity (the template disables keys).</summary>
    public string? ApiKey { get; set; }

    /// <summary>Seconds one request (one try) may take before it is abandoned and retried; a hung connection ends here.</summary>
    [Range(1, 600)]
    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>Retries after the first try on 408, 429, 500, 502, 503, 504, timeouts and transport failures.</summary>
    [Range(0, 20)]
    public int MaxRetries { get; set; } = 4;
}

/// <summary><c>ProductSimilarity:Ranking</c>.</summary>
public sealed class RankingOptions
{
    /// <summary>Default ranking mode.</summary>
    public RankingMode Mode { get; set; } = RankingMode.Hybrid;

    /// <summary>Fusion method for hybrid ranking.</summary>
    public FusionMethod Fusion { get; set; } = FusionOptions.Default.Method;

    /// <summary>Cosine weight for weighted fusion.</summary>
    [Range(0.0, 1.0)]
    public double VectorWeight { get; set; } = FusionOptions.Default.VectorWeight;

    /// <summary>RRF k constant.</summary>
    [Range(1, 1000)]
    public int RrfK { get; set; } = FusionOptions.Default.RrfK;

    /// <summary>Candidates per list before fusion.</summary>
    [Range(10, 1000)]
    public int CandidateCount { get; set; } = FusionOptions.Default.CandidateCount;

    /// <summary>
    /// When at least this share of a query text's tokens are unknown to the embedding model (it cannot read the text),
    /// hybrid ranking scales the vector weight by the share it can read, so the keyword side leads for that query.
    /// 1 turns the rule off. Needs a generator that reports its tokenizer's coverage (the local ONNX model does).
    /// </summary>
    [Range(0.0, 1.0)]
    public double UnknownTokenThreshold { get; set; } = 0.2;

    /// <summary>How hard that lean pulls: the vector weight is scaled by <c>(share the model can read)^exponent</c>.</summary>
    [Range(0.0, 10.0)]
    public double UnknownTokenLeanExponent { get; set; } = FusionOptions.Default.UnknownTokenLeanExponent;

    /// <summary>Also lean per candidate: each candidate's vector weight is scaled by the share of its own text the model
    /// can read, raised to <see cref="UnknownTokenLeanExponent"/> (<see cref="FusionOptions.LeanPerCandidate"/>).</summary>
    public bool LeanPerCandidate { get; set; } = FusionOptions.Default.LeanPerCandidate;

    /// <summary>Use the fusion that <c>psim eval --tune</c> learned and stored with the index, when there is one, instead
    /// of <see cref="Fusion"/> and <see cref="VectorWeight"/>.</summary>
    public bool UseTunedFusion { get; set; } = true;

    /// <summary>The fusion of a query that names none: <paramref name="tuned"/> (what <c>psim eval --tune</c> stored with
    /// the index) applied to these options when there is one and <see cref="UseTunedFusion"/> is on, else these options.</summary>
    /// <param name="tuned">The index's learned fusion, or null.</param>
    public FusionOptions ToFusionOptions(TunedFusion? tuned) => UseTunedFusion && tuned is not null ? tuned.ApplyTo(ToFusionOptions()) : ToFusionOptions();

    /// <summary>The fusion settings these options describe.</summary>
    public FusionOptions ToFusionOptions() => new()
    {
        Method = Fusion,
        VectorWeight = VectorWeight,
        RrfK = RrfK,
        CandidateCount = CandidateCount,
        UnknownTokenLeanExponent = UnknownTokenLeanExponent,
        LeanPerCandidate = LeanPerCandidate,
    };
}

/// <summary><c>ProductSimilarity:Recommendations</c>.</summary>
public sealed class RecommendationOptions
{
    /// <summary>Half-life of a history event's weight, in days: an event this old counts half as much as one from now.</summary>
    [Range(0.001, 3650.0)]
    public double HalfLifeDays { get; set; } = 7;

    /// <summary>How the history becomes candidates: <c>MultiInterest</c> (default) or <c>Centroid</c>.</summary>
    [EnumDataType(typeof(Similarity.RecommendationStrategy))]
    public Similarity.RecommendationStrategy Strategy { get; set; } = Similarity.RecommendationStrategy.MultiInterest;

    /// <summary>Most interests (separate retrievals) per request; weaker history items join their nearest interest.</summary>
    [Range(1, 50)]
    public int MaxInterests { get; set; } = 8;

    /// <summary>History items at least this cosine-similar to an interest's first item join that interest instead of starting one.</summary>
    [Range(0.0, 1.0)]
    public double InterestMergeThreshold { get; set; } = 0.8;

    /// <summary>How hard a "not interested" pushes its near neighbours down: a candidate loses this x decay x cosine to the negative item.</summary>
    [Range(0.0, 10.0)]
    public double NegativeWeight { get; set; } = 1.0;

    /// <summary>
    /// Fallbacks tried in order, comma-separated, when the history yields fewer than <c>top</c> results (it is empty, its
    /// ids are unknown, or it holds only negatives): <c>Categories</c>, <c>Popular</c>; <c>None</c> (or empty) turns them off.
    /// A string rather than a list, because the configuration binder appends a bound list to its default.
    /// </summary>
    public string ColdStart { get; set; } = "Categories,Popular";

    /// <summary>The fallbacks <see cref="ColdStart"/> names, in order.</summary>
    /// <exception cref="FormatException">A name is not a fallback.</exception>
    public IReadOnlyList<Similarity.ColdStartFallback> ColdStartFallbacks()
    {
        var result = new List<Similarity.ColdStartFallback>();
        foreach (var name in (ColdStart ?? string.Empty).Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries))
        {
            if (name.Equals("None", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!Enum.TryParse<Similarity.ColdStartFallback>(name, ignoreCase: true, out var fallback) || !Enum.IsDefined(fallback))
            {
                throw new FormatException($"{ProductSimilarityOptions.SectionName}:Recommendations:ColdStart: '{name}' is not a fallback (expected Categories, Popular or None).");
            }

            if (!result.Contains(fallback))
            {
                result.Add(fallback);
            }
        }

        return result;
    }

    /// <summary>How long the popularity ranking read from the index is reused before it is read again, in seconds.</summary>
    [Range(0, 86400)]
    public int PopularityRefreshSeconds { get; set; } = 600;
}

/// <summary>How products missing from a new catalog file are treated.</summary>
public enum IngestionMode
{
    /// <summary>Add and update only; remove products through the <c>deleted</c> column.</summary>
    Upsert,

    /// <summary>The file is the whole catalog: products in the index but not in the file are removed.</summary>
    Snapshot,
}

/// <summary>The CPU scheduling priority of a <c>psim ingest</c> run (<see cref="IngestionOptions.Priority"/>).</summary>
public enum IngestionPriority
{
    /// <summary>Below normal: a server on the same machine comes first.</summary>
    Low,

    /// <summary>The priority the process was started with.</summary>
    Normal,
}

/// <summary><c>ProductSimilarity:Ingestion</c>.</summary>
public sealed class IngestionOptions
{
    /// <summary>Upsert (default) or Snapshot.</summary>
    public IngestionMode Mode { get; set; } = IngestionMode.Upsert;

    /// <summary>Products per embedding and upsert batch.</summary>
    [Range(1, 1000)]
    public int BatchSize { get; set; } = 64;

    /// <summary>Batches between durable commits (checkpoints).</summary>
    [Range(1, 10000)]
    public int CommitEvery { get; set; } = 16;

    /// <summary>
    /// <c>psim ingest</c> only: <c>Low</c> (default) runs the ingestion at a lower CPU scheduling priority (nice 10 on
    /// Linux and macOS, below normal on Windows), so that a <c>psim serve</c> beside it keeps its latency; alone on a
    /// machine it is as fast as <c>Normal</c>. The Functions app, which serves and ingests in one process, ignores it.
    /// </summary>
    [EnumDataType(typeof(IngestionPriority))]
    public IngestionPriority Priority { get; set; } = IngestionPriority.Low;

    /// <summary>
    /// Mask e-mails, phone numbers, card-like numbers and URL query strings in descriptions and reviews before they are
    /// embedded or indexed (see <c>PiiScrubber</c>). On by default.
    /// </summary>
    public bool ScrubPii { get; set; } = true;

    /// <summary>
    /// The catalog's text encoding (<c>gbk</c>, <c>gb18030</c>, <c>big5</c>, <c>windows-1252</c>...), or empty for UTF-8
    /// (a byte order mark always wins; a file that is clearly GBK is refused with one message). <c>psim ingest --encoding</c>.
    /// </summary>
    public string? Encoding { get; set; }

    /// <summary>The most bytes a gzip catalog may decompress to (a gzip-bomb bound); default 4 GiB.</summary>
    [Range(1L, long.MaxValue)]
    public long MaxDecompressedBytes { get; set; } = 4L << 30;

    /// <summary>The largest catalog file or blob accepted, in bytes as delivered (compressed when gzip); default 16 GiB.</summary>
    [Range(1L, long.MaxValue)]
    public long MaxFileBytes { get; set; } = CatalogReadOptions.DefaultMaxFileBytes;

    /// <summary>The most rows one catalog may have; reading stops with an error after this many. Default 50 million.</summary>
    [Range(1L, long.MaxValue)]
    public long MaxRows { get; set; } = CatalogReadOptions.DefaultMaxRows;

    /// <summary>The longest raw field (CSV field or JSON value) accepted, in characters; a longer one rejects its row. Default 1,000,000.</summary>
    [Range(1, 100_000_000)]
    public int MaxFieldLength { get; set; } = CatalogReadOptions.DefaultMaxFieldLength;

    /// <summary>
    /// Functions only: runs of one blob version (ETag) before it is marked failed for good (poison) and no longer
    /// retried until it is uploaded again. Default 5, as the Functions blob trigger's own retry count.
    /// </summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The container the blob trigger watches. Fixed: the trigger's path is compiled into the function.</summary>
    public const string CatalogContainer = "catalogs";

    /// <summary>Container for status documents.</summary>
    public string StatusContainer { get; set; } = "catalog-status";

    /// <summary>Container for rejected-row reports.</summary>
    public string ErrorContainer { get; set; } = "catalog-errors";

    /// <summary>The catalog's platform: Auto (detect from the header), Generic, Shopify, WooCommerce or Gmc.</summary>
    public CatalogPlatform Format { get; set; } = CatalogPlatform.Auto;

    /// <summary>Generic column map: our field name to the catalog's column name (<c>Columns:id=SKU</c>).</summary>
    public Dictionary<string, string> Columns { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>CSV delimiter: <c>,</c> <c>;</c> <c>|</c> or <c>tab</c>; empty detects it.</summary>
    public string? Delimiter { get; set; }

    /// <summary>Culture whose separators prices are read with (for example <c>de-DE</c>); empty infers them per value.</summary>
    public string? PriceCulture { get; set; }

    /// <summary>Keep draft, archived and private products of Shopify and WooCommerce exports (skipped by default).</summary>
    public bool IncludeDrafts { get; set; }

    /// <summary>Worksheet of an <c>.xlsx</c> catalog; empty reads the first.</summary>
    public string? Sheet { get; set; }

    /// <summary>The reader settings these options describe.</summary>
    /// <exception cref="ArgumentException">An unknown delimiter, culture or column-map field.</exception>
    public CatalogReadOptions ToReadOptions()
    {
        CultureInfo? culture = null;
        if (!string.IsNullOrWhiteSpace(PriceCulture))
        {
            try
            {
                culture = CultureInfo.GetCultureInfo(PriceCulture, predefinedOnly: true);
            }
            catch (CultureNotFoundException ex)
            {
                throw new ArgumentException($"unknown price culture '{PriceCulture}'", nameof(PriceCulture), ex);
            }
        }

        foreach (var field in Columns.Keys)
        {
            if (!CatalogFields.TryParse(field, out _))
            {
                throw new ArgumentException($"unknown field '{field}' in Ingestion:Columns; known fields: {string.Join(", ", CatalogFields.Names)}", nameof(Columns));
            }
        }

        return new CatalogReadOptions
        {
            Platform = Format,
            Columns = Columns,
            Delimiter = CatalogReadOptions.ParseDelimiter(Delimiter),
            PriceCulture = culture,
            IncludeDrafts = IncludeDrafts,
            Sheet = string.IsNullOrWhiteSpace(Sheet) ? null : Sheet,
            Encoding = Encoding,
            MaxDecompressedBytes = MaxDecompressedBytes,
            MaxFileBytes = MaxFileBytes,
            MaxRows = MaxRows,
            MaxFieldLength = MaxFieldLength,
        };
    }
}
