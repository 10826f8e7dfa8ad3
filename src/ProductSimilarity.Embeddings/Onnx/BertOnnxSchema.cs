using Microsoft.ML.OnnxRuntime;

namespace ProductSimilarity.Embeddings.Onnx;

/// <summary>The role of one model input.</summary>
internal enum BertInputKind
{
    InputIds,
    AttentionMask,
    TokenTypeIds,
}

/// <summary>
/// The inputs and token-embedding output of a BERT-style ONNX graph, read from the session metadata so an
/// operator-supplied export works as long as it follows the Hugging Face naming.
/// </summary>
/// <remarks>Immutable; thread-safe.</remarks>
internal sealed class BertOnnxSchema
{
    private static readonly string[] TokenOutputNames = ["last_hidden_state", "token_embeddings"];

    private BertOnnxSchema(string[] inputNames, BertInputKind[] inputKinds, string outputName, int hiddenSize)
    {
        InputNames = inputNames;
        InputKinds = inputKinds;
        OutputName = outputName;
        HiddenSize = hiddenSize;
    }

    /// <summary>The input names in the order <see cref="InputKinds"/> describes them.</summary>
    public string[] InputNames { get; }

    /// <summary>What each input carries.</summary>
    public BertInputKind[] InputKinds { get; }

    /// <summary>The per-token hidden-state output, shaped [batch, sequence, hidden].</summary>
    public string OutputName { get; }

    /// <summary>The hidden size from the output shape, or 0 when the graph leaves it symbolic.</summary>
    public int HiddenSize { get; }

    /// <summary>Reads the schema, failing with a message that names <paramref name="modelName"/> when the graph does not fit.</summary>
    public static BertOnnxSchema Read(InferenceSession session, string modelName)
    {
        var names = new List<string>();
        var kinds = new List<BertInputKind>();
        foreach (var (name, meta) in session.InputMetadata)
        {
            BertInputKind kind = name switch
            {
                "input_ids" => BertInputKind.InputIds,
                "attention_mask" => BertInputKind.AttentionMask,
                "token_type_ids" => BertInputKind.TokenTypeIds,
                _ => throw new InvalidOperationException(
                    $"The ONNX model '{modelName}' has an input '{name}' that is not a BERT input; " +
                    "expected input_ids, attention_mask and optionally token_type_ids."),
            };
            if (meta.ElementType != typeof(long) || meta.Dimensions.Length != 2)
            {
                throw new InvalidOperationException(
                    $"The ONNX model '{modelName}' input '{name}' must be a 2-D int64 tensor [batch, sequence], " +
                    $"but it is {meta.ElementType.Name} with {meta.Dimensions.Length} dimensions.");
            }

            names.Add(name);
            kinds.Add(kind);
        }

        if (!kinds.Contains(BertInputKind.InputIds))
        {
            throw new InvalidOperationException($"The ONNX model '{modelName}' has no 'input_ids' input.");
        }

        var (outputName, output) = FindTokenOutput(session, modelName);
        int hidden = output.Dimensions[2] > 0 ? output.Dimensions[2] : 0;
        return new BertOnnxSchema([.. names], [.. kinds], outputName, hidden);
    }

    private static (string Name, NodeMetadata Meta) FindTokenOutput(InferenceSession session, string modelName)
    {
        static bool IsTokenTensor(NodeMetadata meta) =>
            meta.IsTensor && meta.ElementType == typeof(float) && meta.Dimensions.Length == 3;

        foreach (var preferred in TokenOutputNames)
        {
            if (session.OutputMetadata.TryGetValue(preferred, out var meta) && IsTokenTensor(meta))
            {
                return (preferred, meta);
            }
        }

        // Exports that name the output after a graph node still work if exactly one output is per-token.
        var candidates = session.OutputMetadata.Where(o => IsTokenTensor(o.Value)).ToList();
        if (candidates.Count == 1)
        {
            return (candidates[0].Key, candidates[0].Value);
        }

        var described = string.Join(", ", session.OutputMetadata.Select(o => o.Value.IsTensor
            ? $"{o.Key} ({o.Value.ElementType.Name}[{string.Join(",", o.Value.Dimensions)}])"
            : $"{o.Key} ({o.Value.OnnxValueType})"));
        throw new InvalidOperationException(
            $"The ONNX model '{modelName}' has no per-token output (last_hidden_state or token_embeddings, " +
            $"a float tensor [batch, sequence, hidden]) to mean-pool; its outputs are: {described}.");
    }
}
