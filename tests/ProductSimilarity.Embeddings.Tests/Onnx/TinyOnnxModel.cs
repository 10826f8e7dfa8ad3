using System.Text;

namespace ProductSimilarity.Embeddings.Tests.Onnx;

/// <summary>
/// Writes minimal ONNX graphs (protobuf, by hand) for the error paths a real BERT export never takes.
/// Field numbers follow onnx.proto: ModelProto{ir_version=1, graph=7, opset_import=8},
/// GraphProto{node=1, name=2, initializer=5, input=11, output=12}, NodeProto{input=1, output=2, op_type=4, attribute=5},
/// AttributeProto{name=1, i=3, type=20}, TensorProto{dims=1, data_type=2, int64_data=7, name=8},
/// ValueInfoProto{name=1, type=2}, TypeProto{tensor_type=1}, Tensor{elem_type=1, shape=2}, Dimension{dim_param=2}.
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
