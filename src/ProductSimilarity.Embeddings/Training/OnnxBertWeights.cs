using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace ProductSimilarity.Embeddings.Training;

/// <summary>The shape of a BERT encoder, as the trainer needs it to rebuild the network.</summary>
/// <param name="Vocab">Word-embedding rows.</param>
/// <param name="Positions">Position-embedding rows (the longest input).</param>
/// <param name="TokenTypes">Token-type-embedding rows.</param>
/// <param name="Hidden">Hidden size.</param>
/// <param name="Intermediate">Feed-forward size.</param>
/// <param name="Layers">Transformer layers.</param>
/// <param name="Heads">Attention heads.</param>
public sealed record BertShape(int Vocab, int Positions, int TokenTypes, int Hidden, int Intermediate, int Layers, int Heads);

/// <summary>
/// Moves the trainable weights of a Hugging Face BERT ONNX export in and out of the graph, under their PyTorch names.
/// </summary>
/// <remarks>
/// <para>
/// The export names the embeddings, biases and LayerNorm parameters after the PyTorch module
/// (<c>encoder.layer.0.attention.self.query.bias</c>), but the weight matrices are anonymous initialisers (<c>927</c>)
/// feeding a <c>MatMul</c>. Each such <c>MatMul</c> output goes into an <c>Add</c> whose other input is a named bias;
/// the matrix takes the bias name with <c>.bias</c> replaced by <c>.weight</c>. The graph multiplies <c>x · W</c> with
/// <c>W</c> stored <c>[in, out]</c>, while <c>nn.Linear</c> stores <c>[out, in]</c>, so matrices are transposed both ways.
/// </para>
/// <para>
/// <see cref="Apply"/> overwrites initialiser values in place and keeps every node, name and shape, so a fine-tuned
/// model loads and quantises exactly like the graph it came from. Stateless; thread-safe.
/// </para>
/// </remarks>
public static class OnnxBertWeights
{
    private const int FloatType = (int)TensorProto.Types.DataType.Float;
    private const int Int64Type = (int)TensorProto.Types.DataType.Int64;

    /// <summary>Parses a serialised ONNX model.</summary>
    /// <exception cref="InvalidDataException">The bytes are not an ONNX model with a graph.</exception>
    public static ModelProto Parse(ReadOnlySpan<byte> model)
    {
        try
        {
            var proto = ModelProto.Parser.ParseFrom(model);
            return proto.Graph is null ? throw new InvalidDataException("The ONNX model has no graph.") : proto;
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException($"The ONNX model could not be parsed: {ex.Message}", ex);
        }
    }

    /// <summary>Maps each trainable PyTorch name to the initialiser that holds it and whether it is stored transposed.</summary>
    /// <exception cref="InvalidDataException">A weight matrix cannot be tied to a named bias, or two map to one name.</exception>
    public static IReadOnlyDictionary<string, (string Initializer, bool Transposed)> Map(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph;
        var initializers = graph.Initializer.Where(t => t.DataType == FloatType).ToDictionary(t => t.Name, StringComparer.Ordinal);
        var consumers = graph.Node.SelectMany(n => n.Input.Select(i => (Input: i, Node: n)))
            .ToLookup(x => x.Input, x => x.Node, StringComparer.Ordinal);
        var map = new Dictionary<string, (string, bool)>(StringComparer.Ordinal);
        foreach (var tensor in initializers.Values.Where(t => IsNamed(t.Name)))
        {
            map[tensor.Name] = (tensor.Name, false);
        }

        foreach (var node in graph.Node.Where(n => n.OpType == "MatMul" && n.Input.Count == 2 && initializers.ContainsKey(n.Input[1])))
        {
            var weight = node.Input[1];
            if (IsNamed(weight))
            {
                continue;
            }

            var add = consumers[node.Output[0]].SingleOrDefault(n => n.OpType == "Add")
                ?? throw new InvalidDataException($"The weight matrix '{weight}' (node {node.Name}) feeds no Add with a bias, so it cannot be named.");
            var bias = add.Input.FirstOrDefault(i => i != node.Output[0] && initializers.ContainsKey(i) && i.EndsWith(".bias", StringComparison.Ordinal))
                ?? throw new InvalidDataException($"The weight matrix '{weight}' (node {node.Name}) feeds {add.Name}, which adds no named bias.");
            var name = bias[..^".bias".Length] + ".weight";
            if (!map.TryAdd(name, (weight, true)))
            {
                throw new InvalidDataException($"Two weight matrices map to '{name}' ('{map[name].Item1}' and '{weight}').");
            }
        }

        return map;
    }

    /// <summary>Reads the trainable weights under their PyTorch names, <c>nn.Linear</c> matrices as <c>[out, in]</c>.</summary>
    public static Dictionary<string, FloatTensor> Extract(ModelProto model)
    {
        var initializers = model.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var weights = new Dictionary<string, FloatTensor>(StringComparer.Ordinal);
        foreach (var (name, (initializer, transposed)) in Map(model))
        {
            var tensor = initializers[initializer];
            var shape = tensor.Dims.Select(d => checked((int)d)).ToArray();
            var values = ReadFloats(tensor);
            weights[name] = transposed ? new FloatTensor([shape[1], shape[0]], Transpose(values, shape[0], shape[1])) : new FloatTensor(shape, values);
        }

        return weights;
    }

    /// <summary>Writes <paramref name="weights"/> (PyTorch names and layout) into <paramref name="model"/>, in place.</summary>
    /// <returns>How many initialisers were overwritten.</returns>
    /// <exception cref="InvalidDataException">A weight is unknown to the graph or has the wrong shape; the graph is then left untouched.</exception>
    public static int Apply(ModelProto model, IReadOnlyDictionary<string, FloatTensor> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var map = Map(model);
        var initializers = model.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var updates = new List<(TensorProto Tensor, float[] Values)>();
        foreach (var (name, weight) in weights)
        {
            if (!map.TryGetValue(name, out var target))
            {
                throw new InvalidDataException($"The trained weight '{name}' has no place in the ONNX graph.");
            }

            var tensor = initializers[target.Initializer];
            var shape = tensor.Dims.Select(d => checked((int)d)).ToArray();
            var expected = target.Transposed ? new[] { shape[1], shape[0] } : shape;
            if (!expected.SequenceEqual(weight.Shape))
            {
                throw new InvalidDataException(
                    $"The trained weight '{name}' is [{string.Join(",", weight.Shape)}]; the graph expects [{string.Join(",", expected)}].");
            }

            updates.Add((tensor, target.Transposed ? Transpose(weight.Values, shape[1], shape[0]) : weight.Values));
        }

        foreach (var (tensor, values) in updates)
        {
            tensor.FloatData.Clear();
            tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        }

        return updates.Count;
    }

    /// <summary>Reads the encoder's shape from the weights, and the head count from the graph's attention reshapes.</summary>
    /// <exception cref="InvalidDataException">The graph is not a BERT encoder this trainer can rebuild.</exception>
    public static BertShape ReadShape(ModelProto model, IReadOnlyDictionary<string, FloatTensor> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        FloatTensor Need(string name) => weights.TryGetValue(name, out var t) ? t
            : throw new InvalidDataException($"The ONNX model is not a BERT encoder psim train can rebuild: it has no '{name}'.");
        var word = Need("embeddings.word_embeddings.weight");
        var positions = Need("embeddings.position_embeddings.weight");
        var types = Need("embeddings.token_type_embeddings.weight");
        var intermediate = Need("encoder.layer.0.intermediate.dense.weight");
        int layers = 0;
        while (weights.ContainsKey($"encoder.layer.{layers}.attention.self.query.weight"))
        {
            layers++;
        }

        int hidden = word.Shape[1];

        // The export splits heads with Reshape(x, Concat(batch, seq, heads, headSize)); the two constants are int64 scalars.
        var constants = model.Graph.Initializer.Where(t => t.DataType == Int64Type && t.Dims.Count == 1 && t.Dims[0] == 1)
            .ToDictionary(t => t.Name, t => ReadInt64(t), StringComparer.Ordinal);
        int heads = model.Graph.Node.Where(n => n.OpType == "Concat" && n.Input.Count == 4)
            .Select(n => (constants.GetValueOrDefault(n.Input[2]), constants.GetValueOrDefault(n.Input[3])))
            .Where(c => c.Item1 > 0 && c.Item1 * c.Item2 == hidden)
            .Select(c => (int)c.Item1).FirstOrDefault();
        if (heads == 0)
        {
            throw new InvalidDataException("The ONNX model's attention head count could not be read from its Reshape constants.");
        }

        return new BertShape(word.Shape[0], positions.Shape[0], types.Shape[0], hidden, intermediate.Shape[0], layers, heads);
    }

    private static bool IsNamed(string name) => name.Contains('.', StringComparison.Ordinal) && !name.StartsWith("onnx::", StringComparison.Ordinal);

    private static float[] ReadFloats(TensorProto tensor)
    {
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
        {
            throw new InvalidDataException($"The initialiser '{tensor.Name}' is stored as external data, which psim train does not read.");
        }

        return tensor.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray() : [.. tensor.FloatData];
    }

    private static long ReadInt64(TensorProto tensor) =>
        tensor.RawData.Length >= 8 ? MemoryMarshal.Read<long>(tensor.RawData.Span) : tensor.Int64Data.FirstOrDefault();

    private static float[] Transpose(float[] values, int rows, int columns)
    {
        var result = new float[values.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                result[c * rows + r] = values[r * columns + c];
            }
        }

        return result;
    }
}
