using Google.Protobuf;
using ProductSimilarity.Embeddings.Onnx;
using ProductSimilarity.Embeddings.Tests.Onnx;
using ProductSimilarity.Embeddings.Training;

namespace ProductSimilarity.Embeddings.Tests.Training;

public sealed class OnnxBertWeightsTests
{
    private static readonly Lazy<byte[]> MiniLm = new(BundledMiniLm.ReadModel);

    [Fact]
    public void Map_MiniLm_NamesEveryMatrixAfterTheBiasItsMatMulAdds()
    {
        var model = OnnxBertWeights.Parse(MiniLm.Value);

        var map = OnnxBertWeights.Map(model);

        var transposed = map.Where(m => m.Value.Transposed).ToList();
        Assert.Equal(6 * 6, transposed.Count); // q, k, v, attention output, intermediate, output in 6 layers
        Assert.All(transposed, m => Assert.DoesNotContain('.', m.Value.Initializer));
        var query = map["encoder.layer.0.attention.self.query.weight"].Initializer;
        var matMul = model.Graph.Node.Single(n => n.OpType == "MatMul" && n.Input[1] == query);
        var add = model.Graph.Node.Single(n => n.Input.Contains(matMul.Output[0]));
        Assert.Contains("encoder.layer.0.attention.self.query.bias", add.Input);
    }

    [Fact]
    public void Extract_MiniLm_GivesNnLinearLayoutAndShape()
    {
        var model = OnnxBertWeights.Parse(MiniLm.Value);

        var weights = OnnxBertWeights.Extract(model);
        var shape = OnnxBertWeights.ReadShape(model, weights);

        Assert.Equal(new BertShape(30522, 512, 2, 384, 1536, 6, 12), shape);
        Assert.Equal([1536, 384], weights["encoder.layer.2.intermediate.dense.weight"].Shape); // nn.Linear(384, 1536): [out, in]
        Assert.Equal([384, 1536], weights["encoder.layer.2.output.dense.weight"].Shape);
        var stored = model.Graph.Initializer.Single(t => t.Name == OnnxBertWeights.Map(model)["encoder.layer.2.intermediate.dense.weight"].Initializer);
        Assert.Equal([384L, 1536L], stored.Dims);
        var raw = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(stored.RawData.Span);
        var linear = weights["encoder.layer.2.intermediate.dense.weight"].Values;
        Assert.Equal(raw[(5 * 1536) + 7], linear[(7 * 384) + 5]); // graph [in=5, out=7] is nn.Linear [out=7, in=5]
    }

    [Fact]
    public void Apply_ExtractedWeights_RoundTripsTheGraphByteForByte()
    {
        var model = OnnxBertWeights.Parse(MiniLm.Value);
        var before = model.ToByteArray();

        OnnxBertWeights.Apply(model, OnnxBertWeights.Extract(model));

        Assert.Equal(before, model.ToByteArray());
    }

    [Fact]
    public void Apply_ChangedLinearWeight_LandsTransposedInTheAnonymousInitializer()
    {
        var model = OnnxBertWeights.Parse(MiniLm.Value);
        var weights = OnnxBertWeights.Extract(model);
        var changed = weights["encoder.layer.5.output.dense.weight"];
        changed.Values[(3 * 1536) + 11] = 42f; // nn.Linear [out=3, in=11]

        var count = OnnxBertWeights.Apply(model, new Dictionary<string, FloatTensor> { ["encoder.layer.5.output.dense.weight"] = changed });

        Assert.Equal(1, count);
        var stored = model.Graph.Initializer.Single(t => t.Name == OnnxBertWeights.Map(model)["encoder.layer.5.output.dense.weight"].Initializer);
        var raw = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(stored.RawData.Span);
        Assert.Equal(42f, raw[(11 * 384) + 3]); // graph [in=11, out=3]
    }

    [Fact]
    public void Apply_WrongShapeOrUnknownName_ThrowsAndLeavesTheGraphAlone()
    {
        var model = OnnxBertWeights.Parse(MiniLm.Value);
        var before = model.ToByteArray();

        var shape = Assert.Throws<InvalidDataException>(() => OnnxBertWeights.Apply(model, new Dictionary<string, FloatTensor>
        {
            ["embeddings.LayerNorm.bias"] = new([384], new float[384]),
            ["encoder.layer.0.attention.self.query.weight"] = new([384, 383], new float[384 * 383]),
        }));
        var unknown = Assert.Throws<InvalidDataException>(() => OnnxBertWeights.Apply(model, new Dictionary<string, FloatTensor> { ["classifier.weight"] = new([1], [1f]) }));

        Assert.Contains("[384,383]", shape.Message, StringComparison.Ordinal);
        Assert.Contains("classifier.weight", unknown.Message, StringComparison.Ordinal);
        Assert.Equal(before, model.ToByteArray());
    }

    [Fact]
    public void SafeTensors_WriteThenRead_KeepsNamesShapesAndValues()
    {
        using var folder = new TempDirectory();
        var tensors = new Dictionary<string, FloatTensor>
        {
            ["a.weight"] = new([2, 3], [1, 2, 3, 4, 5, 6]),
            ["a.bias"] = new([3], [-1, 0.5f, float.Epsilon]),
        };

        SafeTensors.Write(folder.File("w.safetensors"), tensors);
        var read = SafeTensors.Read(folder.File("w.safetensors"));

        Assert.Equal(tensors.Keys.Order(), read.Keys.Order());
        Assert.Equal([2, 3], read["a.weight"].Shape);
        Assert.Equal(tensors["a.weight"].Values, read["a.weight"].Values);
        Assert.Equal(tensors["a.bias"].Values, read["a.bias"].Values);
        Assert.Equal(0, BitConverter.ToInt64(File.ReadAllBytes(folder.File("w.safetensors")), 0) % 8); // data stays 8-byte aligned
    }
}
