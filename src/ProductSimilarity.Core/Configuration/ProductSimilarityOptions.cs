using System.ComponentModel.DataAnnotations;
using ProductSimilarity.Core.Indexing;

namespace ProductSimilarity.Core.Configuration;

/// <summary>The root options tree, bound from the configuration section <c>ProductSimilarity</c>.</summary>
/// <remarks>The same keys work in local.settings.json, Azure app settings (<c>ProductSimilarity__Index__Provider</c>) and CLI flags.</remarks>
public sealed class ProductSimilarityOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "ProductSimilarity";

    /// <summary>Embedding provider settings.</summary>
    public EmbeddingOptions Embeddings { get; set; } = new();

    /// <summary>Index provider settings.</summary>
    public IndexOptions Index { get; set; } = new();

    /// <summary>Ranking defaults.</summary>
    public RankingOptions Ranking { get; set; } = new();

    /// <summary>Ingestion settings.</summary>
    public IngestionOptions Ingestion { get; set; } = new();
}

/// <summary>Which embedding generator to use.</summary>
public enum EmbeddingProvider
{
    /// <summary>A local ONNX BERT model (the bundled all-MiniLM-L6-v2 unless <see cref="OnnxEmbeddingOptions.ModelPath"/> is set).</summary>
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
    public OnnxEmbeddingOptions Onnx { get; set; } = new();

    /// <summary>Azure OpenAI settings.</summary>
    public AzureOpenAIEmbeddingOptions AzureOpenAI { get; set; } = new();
}

/// <summary><c>ProductSimilarity:Embeddings:Onnx</c>.</summary>
public sealed class OnnxEmbeddingOptions
{
    /// <summary>Path of an operator-supplied ONNX model; empty means the bundled all-MiniLM-L6-v2.</summary>
    public string? ModelPath { get; set; }

    /// <summary>Path of the model's WordPiece <c>vocab.txt</c>; default: <c>vocab.txt</c> next to <see cref="ModelPath"/>.</summary>
    public string? VocabPath { get; set; }

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
    /// <c>None</c> (default) runs the model as it is; <c>Int8</c> quantises its weight matrices to int8 in memory at
    /// start-up for faster CPU inference. The model id gets the suffix <c>-int8</c>, so switching re-embeds the catalog.
    /// </summary>
    [EnumDataType(typeof(OnnxQuantization))]
    public OnnxQuantization Quantization { get; set; } = OnnxQuantization.None;
}

/// <summary>How the local ONNX embedding model is run.</summary>
public enum OnnxQuantization
{
    /// <summary>The model as it is (fp32 for the bundled all-MiniLM-L6-v2).</summary>
    None,

    /// <summary>
    /// Dynamic int8 quantisation: the weights of every MatMul with constant weights become int8 (symmetric, per
    /// output column) and the activations are quantised at run time. About twice as fast on CPU; embeddings stay
    /// above 0.99 cosine to fp32.
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
    public LocalIndexOptions Local { get; set; } = new();

    /// <summary>Azure AI Search settings.</summary>
    public AzureAISearchIndexOptions AzureAISearch { get; set; } = new();
}

/// <summary><c>ProductSimilarity:Index:Local</c>.</summary>
public sealed class LocalIndexOptions
{
    /// <summary>The default index folder, relative to the working directory.</summary>
    public const string DefaultPath = ".psim/index";

    /// <summary>The index folder.</summary>
    public string Path { get; set; } = DefaultPath;
}

/// <summary><c>ProductSimilarity:Index:AzureAISearch</c>.</summary>
public sealed class AzureAISearchIndexOptions
{
    /// <summary>The search service endpoint, e.g. <c>https://my-search.search.windows.net</c>.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The index name.</summary>
    [RegularExpression("^[a-z0-9][a-z0-9-]{0,127}$")]
    public string IndexName { get; set; } = "products";

    /// <summary>Analyzer for title, description and brand: <c>en.lucene</c>, <c>zh-Hans.lucene</c> or <c>standard.lucene</c>.</summary>
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

    /// <summary>The fusion settings these options describe.</summary>
    public FusionOptions ToFusionOptions() => new()
    {
        Method = Fusion, VectorWeight = VectorWeight, RrfK = RrfK, CandidateCount = CandidateCount,
    };
}

/// <summary>How products missing from a new catalog file are treated.</summary>
public enum IngestionMode
{
    /// <summary>Add and update only; remove products through the <c>deleted</c> column.</summary>
    Upsert,

    /// <summary>The file is the whole catalog: products in the index but not in the file are removed.</summary>
    Snapshot,
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
}
