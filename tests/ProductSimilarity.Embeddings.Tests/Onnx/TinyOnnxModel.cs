using System.Text;
using Google.Protobuf;
using Onnx;

namespace ProductSimilarity.Embeddings.Tests.Onnx;

/// <summary>
/// Writes minimal ONNX graphs (protobuf, by hand) for the error paths a real BERT export never takes.
/// Field numbers follow onnx.proto: ModelProto{ir_version=1, graph=7, opset_import=8},
/// GraphProto{node=1, name=2, initializer=5, input=11, output=12}, NodeProto{input=1, output=2, op_type=4, attribute=5},
/// AttributeProto{name=1, i=3, type=20}, TensorProto{dims=1, data_type=2, int64_data=7, name=8},
/// ValueInfoProto{name=1, type=2}, TypeProto{tensor_type=1}, Tensor{elem_type=1, shape=2}, Dimension{dim_param=2}.
/// The float graphs for the int8 quantiser are built with the OnnxSharp protobuf classes instead, since they carry
/// weight tensors.
/// </summary>
internal static class TinyOnnxModel
{
    private const int Float = 1;
    private const int Int64 = 7;
    private const int AttributeInt = 2;

    /// <summary>A graph with BERT inputs whose only output is input_ids passed through: 2-D int64, no token embeddings.</summary>
    public static byte[] IdentityOverInputIds() => Message(model =>
    {
        Int(model, 1, 8);
        Bytes(model, 7, Message(graph =>
        {
            Bytes(graph, 1, Message(node =>
            {
                String(node, 1, "input_ids");
                String(node, 2, "logits");
                String(node, 4, "Identity");
            }));
            String(graph, 2, "tiny");
            Bytes(graph, 11, ValueInfo("input_ids", Int64));
            Bytes(graph, 11, ValueInfo("attention_mask", Int64));
            Bytes(graph, 12, ValueInfo("logits", Int64));
        }));
        Bytes(model, 8, Message(opset => Int(opset, 2, 13)));
    });

    /// <summary>
    /// A graph with only input_ids and attention_mask whose one output, "output_0", is input_ids cast to float and
    /// unsqueezed to [batch, sequence, 1] with every dimension symbolic, so the hidden size is known only by running it.
    /// </summary>
    public static byte[] SymbolicHiddenSizeTokenOutput() => Message(model =>
    {
        Int(model, 1, 8);
        Bytes(model, 7, Message(graph =>
        {
            Bytes(graph, 1, Message(node =>
            {
                String(node, 1, "input_ids");
                String(node, 2, "ids_float");
                String(node, 4, "Cast");
                Bytes(node, 5, Message(attribute =>
                {
                    String(attribute, 1, "to");
                    Int(attribute, 3, Float);
                    Int(attribute, 20, AttributeInt);
                }));
            }));
            Bytes(graph, 1, Message(node =>
            {
                String(node, 1, "ids_float");
                String(node, 1, "axes");
                String(node, 2, "output_0");
                String(node, 4, "Unsqueeze");
            }));
            String(graph, 2, "tiny");
            Bytes(graph, 5, Message(tensor =>
            {
                Int(tensor, 1, 1);
                Int(tensor, 2, Int64);
                Int(tensor, 7, 2);
                String(tensor, 8, "axes");
            }));
            Bytes(graph, 11, ValueInfo("input_ids", Int64));
            Bytes(graph, 11, ValueInfo("attention_mask", Int64));
            Bytes(graph, 12, ValueInfo("output_0", Float, "hidden"));
        }));
        Bytes(model, 8, Message(opset => Int(opset, 2, 13)));
    });

    /// <summary>
    /// A float graph with every MatMul shape the quantiser meets, inputs X [batch, 8] and Z [batch, 4], output Y [batch, 3]:
    /// <c>B = Add(b1, MatMul(X, W1))</c> (a foldable bias, operand first as in the BERT export);
    /// <c>D = Add(MatMul(X, W1), Z)</c> (the same weight again, its Add is not a bias);
    /// <c>Y = MatMul(Add(B, D), W2)</c> (a MatMul that is itself the graph output);
    /// <c>G = MatMul(X, Xt)</c> with <c>Xt = Transpose(X)</c>, output [batch, batch] (two activations, not quantised).
    /// </summary>
    public static ModelProto LinearLayers(int seed)
    {
        var random = new Random(seed);
        var graph = new GraphProto { Name = "linear" };
        graph.Input.Add(FloatInfo("X", "batch", 8));
        graph.Input.Add(FloatInfo("Z", "batch", 4));
        graph.Output.Add(FloatInfo("Y", "batch", 3));
        graph.Output.Add(FloatInfo("G", "batch", "batch"));
        graph.Initializer.Add(FloatTensor("W1", random, 8, 4));
        graph.Initializer.Add(FloatTensor("b1", random, 4));
        graph.Initializer.Add(FloatTensor("W2", random, 4, 3));
        graph.Node.Add(Node("MatMul", ["X", "W1"], "A"));
        graph.Node.Add(Node("Add", ["b1", "A"], "B"));
        graph.Node.Add(Node("MatMul", ["X", "W1"], "C"));
        graph.Node.Add(Node("Add", ["C", "Z"], "D"));
        graph.Node.Add(Node("Add", ["B", "D"], "E"));
        graph.Node.Add(Node("MatMul", ["E", "W2"], "Y"));
        graph.Node.Add(Node("Transpose", ["X"], "Xt"));
        graph.Node.Add(Node("MatMul", ["X", "Xt"], "G"));
        return Model(graph);
    }

    /// <summary>
    /// A BERT-shaped graph (inputs input_ids and attention_mask) whose last_hidden_state [batch, sequence, 4] is
    /// <c>Add(MatMul(Unsqueeze(Cast(input_ids)), W[1, 4]), bias)</c>: the smallest custom model the quantiser can rewrite.
    /// </summary>
    public static ModelProto TokenProjection()
    {
        var random = new Random(7);
        var graph = new GraphProto { Name = "projection" };
        graph.Input.Add(Int64Info("input_ids"));
        graph.Input.Add(Int64Info("attention_mask"));
        graph.Output.Add(FloatInfo("last_hidden_state", "batch", "sequence", 4));
        graph.Initializer.Add(FloatTensor("W", random, 1, 4));
        graph.Initializer.Add(FloatTensor("bias", random, 4));
        var axes = new TensorProto { Name = "axes", DataType = (int)TensorProto.Types.DataType.Int64 };
        axes.Dims.Add(1);
        axes.Int64Data.Add(2);
        graph.Initializer.Add(axes);
        var cast = Node("Cast", ["input_ids"], "ids_float");
        cast.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = Float });
        graph.Node.Add(cast);
        graph.Node.Add(Node("Unsqueeze", ["ids_float", "axes"], "ids_3d"));
        graph.Node.Add(Node("MatMul", ["ids_3d", "W"], "projected"));
        graph.Node.Add(Node("Add", ["projected", "bias"], "last_hidden_state"));
        return Model(graph);
    }

    private static ModelProto Model(GraphProto graph)
    {
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model;
    }

    private static NodeProto Node(string opType, string[] inputs, string output)
    {
        var node = new NodeProto { OpType = opType, Name = output + "_" + opType };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        return node;
    }

    /// <summary>A float tensor of shape <paramref name="dims"/> with values in [-1, 1), stored as raw little-endian bytes.</summary>
    private static TensorProto FloatTensor(string name, Random random, params int[] dims)
    {
        var values = new float[dims.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1);
        }

        var bytes = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        var tensor = new TensorProto { Name = name, DataType = Float, RawData = ByteString.CopyFrom(bytes) };
        tensor.Dims.AddRange(dims.Select(d => (long)d));
        return tensor;
    }

    private static ValueInfoProto FloatInfo(string name, params object[] dims) => TensorInfo(name, Float, dims);

    private static ValueInfoProto Int64Info(string name) => TensorInfo(name, Int64, ["batch", "sequence"]);

    private static ValueInfoProto TensorInfo(string name, int elementType, object[] dims)
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
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } },
        };
    }

    private static byte[] ValueInfo(string name, int elementType, params string[] extraDimensions) => Message(info =>
    {
        String(info, 1, name);
        Bytes(info, 2, Message(type => Bytes(type, 1, Message(tensor =>
        {
            Int(tensor, 1, elementType);
            Bytes(tensor, 2, Message(shape =>
            {
                foreach (var dimension in (string[])["batch", "sequence", .. extraDimensions])
                {
                    Bytes(shape, 1, Message(dim => String(dim, 2, dimension)));
                }
            }));
        }))));
    });

    private static byte[] Message(Action<Stream> write)
    {
        using var stream = new MemoryStream();
        write(stream);
        return stream.ToArray();
    }

    private static void Int(Stream s, int field, long value)
    {
        Varint(s, (ulong)(field << 3));
        Varint(s, (ulong)value);
    }

    private static void Bytes(Stream s, int field, byte[] value)
    {
        Varint(s, (ulong)((field << 3) | 2));
        Varint(s, (ulong)value.Length);
        s.Write(value);
    }

    private static void String(Stream s, int field, string value) => Bytes(s, field, Encoding.UTF8.GetBytes(value));

    private static void Varint(Stream s, ulong value)
    {
        while (value >= 0x80)
        {
            s.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        s.WriteByte((byte)value);
    }
}
