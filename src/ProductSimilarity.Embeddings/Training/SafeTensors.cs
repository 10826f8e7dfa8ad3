using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ProductSimilarity.Embeddings.Training;

/// <summary>A named fp32 tensor: its shape and its values in row-major order.</summary>
/// <param name="Shape">The dimensions.</param>
/// <param name="Values">The values, row-major; the length is the product of <paramref name="Shape"/>.</param>
public sealed record FloatTensor(int[] Shape, float[] Values)
{
    /// <summary>The number of values the shape holds.</summary>
    public static long Count(IReadOnlyList<int> shape) => shape.Aggregate(1L, (a, d) => a * d);
}

/// <summary>
/// Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a> layout (F32 tensors only):
/// an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and byte range, then the raw
/// little-endian data. It is how <c>psim train</c> hands weights to the PyTorch trainer and reads them back.
/// </summary>
/// <remarks>Stateless; thread-safe.</remarks>
public static class SafeTensors
{
    /// <summary>Writes <paramref name="tensors"/> to <paramref name="path"/>.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, FloatTensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var header = new JsonObject();
        long offset = 0;
        foreach (var (name, tensor) in tensors)
        {
            if (FloatTensor.Count(tensor.Shape) != tensor.Values.Length)
            {
                throw new ArgumentException($"Tensor '{name}' has {tensor.Values.Length} values for shape [{string.Join(",", tensor.Shape)}].", nameof(tensors));
            }

            long bytes = tensor.Values.LongLength * sizeof(float);
            header[name] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray([.. tensor.Shape.Select(d => (JsonNode)d)]),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }

        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;
        using var stream = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        stream.Write(length);
        stream.Write(json);
        for (int i = json.Length; i < padded; i++)
        {
            stream.WriteByte((byte)' ');
        }

        foreach (var tensor in tensors.Values)
        {
            stream.Write(MemoryMarshal.AsBytes(tensor.Values.AsSpan()));
        }
    }

    /// <summary>Reads every tensor of a safetensors file.</summary>
    /// <exception cref="InvalidDataException">The file is not safetensors or holds a tensor that is not F32; the message names the file.</exception>
    public static Dictionary<string, FloatTensor> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8)
        {
            throw new InvalidDataException($"'{path}' is not a safetensors file: it is {bytes.Length} bytes long.");
        }

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8))
        {
            throw new InvalidDataException($"'{path}' is not a safetensors file: its header length {headerLength} exceeds the file.");
        }

        var dataStart = 8 + (int)headerLength;
        JsonObject header;
        try
        {
            header = JsonNode.Parse(bytes.AsSpan(8, (int)headerLength))?.AsObject()
                ?? throw new InvalidDataException($"'{path}': the safetensors header is empty.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"'{path}': the safetensors header is not JSON: {ex.Message}", ex);
        }

        var tensors = new Dictionary<string, FloatTensor>(StringComparer.Ordinal);
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__" || node is null)
            {
                continue;
            }

            var dtype = (string?)node["dtype"];
            if (dtype != "F32")
            {
                throw new InvalidDataException($"'{path}': tensor '{name}' is {dtype}; only F32 is supported.");
            }

            var shape = node["shape"]!.AsArray().Select(d => (int)d!).ToArray();
            var range = node["data_offsets"]!.AsArray();
            long start = (long)range[0]!, end = (long)range[1]!;
            if (end - start != FloatTensor.Count(shape) * sizeof(float) || dataStart + end > bytes.Length)
            {
                throw new InvalidDataException($"'{path}': tensor '{name}' has byte range {start}..{end}, which does not fit shape [{string.Join(",", shape)}] or the file.");
            }

            var values = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(dataStart + (int)start, (int)(end - start))).ToArray();
            tensors[name] = new FloatTensor(shape, values);
        }

        return tensors;
    }
}
