using System.Runtime.InteropServices;
using System.Text;
using Google.Protobuf;
using Onnx;

namespace ProductSimilarity.Cli.Tests;

/// <summary>
/// The fastest embedding model <c>psim</c> can load: a BERT-shaped ONNX graph (inputs <c>input_ids</c> and
/// <c>attention_mask</c>) whose <c>last_hidden_state</c> is a lookup in a small random token table, with a WordPiece
/// vocabulary of letters, digits and the words of <see cref="Words"/>. Mean pooling then gives each text its own vector
/// in microseconds, so tests that start many <c>psim</c> processes spend their time on what they test, not on a model.
/// </summary>
internal static class TinyTokenModel
{
    /// <summary>Vector dimensions of the model.</summary>
    public const int Dimensions = 16;

    /// <summary>Whole-word tokens of the vocabulary, beside single letters and digits.</summary>
    public static IReadOnlyList<string> Words { get; } =
    [
        "widget", "gadget", "kettle", "lamp", "backpack", "speaker", "mug", "charger", "blender", "jacket",
        "compact", "deluxe", "portable", "smart", "classic", "ergonomic", "wireless", "stainless", "foldable", "heavy",
        "model", "brand",
    ];

    /// <summary>
    /// Writes <c>tiny.onnx</c> and <c>vocab.txt</c> into <paramref name="folder"/>; returns the model's path.
    /// <paramref name="extraWords"/> become whole-word tokens too: a word of its own in each product's title gives every
    /// product its own vector (mean pooling cannot tell "model 123" from "model 132" by their digit tokens).
    /// </summary>
    public static string Write(string folder, IEnumerable<string> extraWords, int seed = 11)
    {
        string[] special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
        var characters = "abcdefghijklmnopqrstuvwxyz0123456789".Select(c => c.ToString()).ToList();
        List<string> vocab = [.. special, .. characters, .. characters.Select(c => "##" + c), .. Words, "-", ".", ",", .. extraWords];
        File.WriteAllText(Path.Combine(folder, "vocab.txt"), string.Join('\n', vocab) + "\n", Encoding.UTF8);

        var random = new Random(seed);
        var table = new float[vocab.Count * Dimensions];
        for (var i = 0; i < table.Length; i++)
        {
            table[i] = (float)(random.NextDouble() * 2 - 1);
        }

        var weights = new TensorProto { Name = "token_table", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(table.AsSpan())) };
        weights.Dims.AddRange([vocab.Count, Dimensions]);
        var graph = new GraphProto { Name = "tiny-token-table" };
        graph.Input.Add(Info("input_ids", TensorProto.Types.DataType.Int64, "batch", "sequence"));
        graph.Input.Add(Info("attention_mask", TensorProto.Types.DataType.Int64, "batch", "sequence"));
        graph.Output.Add(Info("last_hidden_state", TensorProto.Types.DataType.Float, "batch", "sequence", Dimensions));
        graph.Initializer.Add(weights);
        var gather = new NodeProto { OpType = "Gather", Name = "lookup" };
        gather.Input.AddRange(["token_table", "input_ids"]);
        gather.Output.Add("last_hidden_state");
        graph.Node.Add(gather);
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });

        var path = Path.Combine(folder, "tiny.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    private static ValueInfoProto Info(string name, TensorProto.Types.DataType type, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
        {
            shape.Dim.Add(dim is string param
                ? new TensorShapeProto.Types.Dimension { DimParam = param }
                : new TensorShapeProto.Types.Dimension { DimValue = (int)dim });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
