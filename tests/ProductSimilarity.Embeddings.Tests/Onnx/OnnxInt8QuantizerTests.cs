using Google.Protobuf;
using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Embeddings.Onnx;
using static ProductSimilarity.Embeddings.Tests.Onnx.VectorAssert;

namespace ProductSimilarity.Embeddings.Tests.Onnx;

[Collection(MiniLmCollection.Name)]
public sealed class OnnxInt8QuantizerTests(MiniLmFixture fixture)
{
    // Varied on purpose: short and long, numbers and units, brands, punctuation, several categories.
    private static readonly string[] ProductSentences =
    [
        "Wireless noise cancelling earbuds with charging case",
        "Cast iron frying pan, 12 inch, pre-seasoned",
        "Men's waterproof hiking boots, size 10, brown leather",
        "Organic green tea bags (100 count)",
        "55 inch Ultra HD smart TV with HDR and Dolby Vision",
        "USB-C to HDMI adapter for MacBook Pro",
        "Vitamin C tablets, 1000 mg, pack of 120",
        "adobe photoshop elements 6.0 for windows - upgrade edition",
        "microsoft office 2007 home and student (3 user license)",
        "clickart 950 000 - premier image pack (dvd-rom)",
        "norton antivirus 2008 single user, protects against viruses, spyware and rootkits",
        "Kids building block set: space shuttle, 500 pieces, ages 6 and up",
        "A",
        "Stainless steel electric kettle 1.7 litre with auto shut off and boil-dry protection, "
            + "cordless 360 degree base, blue LED indicator, BPA free, ideal for tea, coffee, instant soups and oatmeal",
        "Queen size memory foam mattress topper, 3 inch, cooling gel infused",
        "Rechargeable AA batteries 2500mAh, 8 pack",
        "Yoga mat non slip, extra thick 1/2 inch, with carrying strap",
        "Dog food, grain free, salmon and sweet potato recipe, 24 lb bag",
        "Canon EOS Rebel T7 DSLR camera with 18-55mm lens",
        "LEGO Star Wars Millennium Falcon 75257 building kit (1,351 pieces)",
    ];

    [Fact]
    public void Quantize_BundledMiniLm_ReplacesEveryConstantWeightMatMulWithDynamicQuantizeMatMul()
    {
        var fp32 = ModelProto.Parser.ParseFrom(BundledMiniLm.ReadModel());

        var int8 = ModelProto.Parser.ParseFrom(OnnxInt8Quantizer.Quantize(fp32.ToByteArray()));

        var initializers = int8.Graph.Initializer.ToDictionary(t => t.Name);
        var quantized = int8.Graph.Node.Where(n => n.OpType == OnnxInt8Quantizer.QuantizedOpType).ToList();
        // all-MiniLM-L6-v2: 6 layers x (query, key, value, attention output, intermediate, output) = 36 weight MatMuls;
        // the other 12 multiply two activations (attention scores and context) and must stay float MatMuls.
        Assert.Equal(36, quantized.Count);
        Assert.All(quantized, n => Assert.Equal(OnnxInt8Quantizer.ContribDomain, n.Domain));
        Assert.All(quantized, n => Assert.Equal(5, n.Input.Count));
        Assert.All(quantized, n => Assert.Equal((int)TensorProto.Types.DataType.Int8, initializers[n.Input[1]].DataType));
        Assert.DoesNotContain(int8.Graph.Node, n => n.OpType == "MatMul" && initializers.ContainsKey(n.Input[1]));
        Assert.Equal(12, int8.Graph.Node.Count(n => n.OpType == "MatMul"));
        // Every weight MatMul in this export is followed by its bias Add, and each is folded into the node.
        Assert.Equal(fp32.Graph.Node.Count(n => n.OpType == "Add") - 36, int8.Graph.Node.Count(n => n.OpType == "Add"));
        Assert.Contains(int8.OpsetImport, o => o.Domain == OnnxInt8Quantizer.ContribDomain && o.Version == 1);

        // The embedding tables stay float and every Gather still reads them.
        var gathers = int8.Graph.Node.Where(n => n.OpType == "Gather" && initializers.ContainsKey(n.Input[0])).ToList();
        Assert.NotEmpty(gathers);
        Assert.All(gathers, n => Assert.Equal((int)TensorProto.Types.DataType.Float, initializers[n.Input[0]].DataType));
        Assert.Contains(gathers, n => n.Input[0] == "embeddings.word_embeddings.weight");
    }

    [Fact]
    public async Task GenerateAsync_Int8ProductSentences_StayAbove099CosineToFp32()
    {
        var fp32 = await fixture.Generator.GenerateAsync(ProductSentences);
        var int8 = await fixture.Int8Generator.GenerateAsync(ProductSentences);

        Assert.Equal(ProductSentences.Length, int8.Count);
        for (int i = 0; i < ProductSentences.Length; i++)
        {
            UnitLength(int8[i].Vector.Span, 384);
            float cosine = Cosine(fp32[i].Vector.Span, int8[i].Vector.Span);
            Assert.True(cosine > 0.99f, $"'{ProductSentences[i]}': int8 vs fp32 cosine {cosine}");
        }
    }

    [Fact]
    public async Task Create_Int8_ModelIdHasInt8Suffix()
    {
        var generator = fixture.Int8Generator;

        var embedding = (await generator.GenerateAsync(["usb flash drive 32gb"]))[0];

        Assert.Equal("all-MiniLM-L6-v2-int8", generator.ModelId);
        Assert.Equal(OnnxBertEmbeddingGenerator.BundledModelId + OnnxBertEmbeddingGenerator.Int8ModelIdSuffix, generator.ModelId);
        Assert.Equal("all-MiniLM-L6-v2-int8", embedding.ModelId);
        Assert.Equal("all-MiniLM-L6-v2-int8", generator.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelId);
        Assert.Equal(OnnxBertEmbeddingGenerator.BundledModelId, fixture.Generator.ModelId);
    }

    [Fact]
    public void Quantize_LinearLayers_RewritesWeightMatMulsFoldsOnlyTheBiasAndKeepsOutputsClose()
    {
        var fp32 = TinyOnnxModel.LinearLayers(seed: 3);

        var bytes = OnnxInt8Quantizer.Quantize(fp32.ToByteArray());

        var int8 = ModelProto.Parser.ParseFrom(bytes);
        var nodes = int8.Graph.Node;
        var initializers = int8.Graph.Initializer.Select(t => t.Name).ToHashSet();
        var first = Assert.Single(nodes, n => n.Output[0] == "B");
        Assert.Equal(OnnxInt8Quantizer.QuantizedOpType, first.OpType);
        Assert.Equal(["X", "W1_quantized", "W1_scale", "W1_zero_point", "b1"], first.Input);
        var shared = Assert.Single(nodes, n => n.Output[0] == "C");
        Assert.Equal(OnnxInt8Quantizer.QuantizedOpType, shared.OpType);
        Assert.Equal(first.Input.Take(4), shared.Input);
        Assert.Contains(nodes, n => n.OpType == "Add" && n.Input.SequenceEqual(["C", "Z"]));
        Assert.Equal(OnnxInt8Quantizer.QuantizedOpType, Assert.Single(nodes, n => n.Output[0] == "Y").OpType);
        Assert.Equal(4, Assert.Single(nodes, n => n.Output[0] == "Y").Input.Count);
        Assert.Equal("MatMul", Assert.Single(nodes, n => n.Output[0] == "G").OpType);
        Assert.DoesNotContain(nodes, n => n.Output.Contains("A"));
        Assert.DoesNotContain("W1", initializers);
        Assert.DoesNotContain("W2", initializers);

        var random = new Random(11);
        var x = Enumerable.Range(0, 5 * 8).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        var z = Enumerable.Range(0, 5 * 4).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        var expected = RunLinear(fp32.ToByteArray(), x, z);
        var actual = RunLinear(bytes, x, z);

        float scale = expected.Y.Max(Math.Abs);
        for (int i = 0; i < expected.Y.Length; i++)
        {
            Assert.True(Math.Abs(expected.Y[i] - actual.Y[i]) < 0.03f * scale, $"Y[{i}]: fp32 {expected.Y[i]}, int8 {actual.Y[i]}");
        }

        // The activation-by-activation MatMul is untouched, so it is exact.
        Assert.Equal(expected.G, actual.G);
    }

    [Fact]
    public void Quantize_Stream_GivesSameBytesAsSpan()
    {
        var model = TinyOnnxModel.LinearLayers(seed: 5).ToByteArray();
        using var stream = new MemoryStream(model);

        Assert.Equal(OnnxInt8Quantizer.Quantize(model), OnnxInt8Quantizer.Quantize(stream));
    }

    [Fact]
    public void Quantize_NotAnOnnxModel_ThrowsInvalidData()
    {
        Assert.Throws<InvalidDataException>(() => OnnxInt8Quantizer.Quantize([0xFF, 0xFF, 0xFF, 0x01]));
    }

    [Fact]
    public async Task Create_Int8OperatorSuppliedModel_SuffixesFileNameAndEmbedsLikeFp32()
    {
        using var folder = new TempDirectory();
        var modelPath = folder.File("projection.onnx");
        await File.WriteAllBytesAsync(modelPath, TinyOnnxModel.TokenProjection().ToByteArray());
        CopyBundledVocab(folder.File("vocab.txt"));
        string[] texts = ["hello world", "stainless steel water bottle", "z"];

        using var fp32 = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { ModelPath = modelPath });
        using var int8 = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { ModelPath = modelPath, Quantization = OnnxQuantization.Int8 });
        var expected = await fp32.GenerateAsync(texts);
        var actual = await int8.GenerateAsync(texts);

        Assert.Equal("projection.onnx", fp32.ModelId);
        Assert.Equal("projection.onnx-int8", int8.ModelId);
        Assert.Equal(4, int8.Dimensions);
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal("projection.onnx-int8", actual[i].ModelId);
            Assert.True(Cosine(expected[i].Vector.Span, actual[i].Vector.Span) > 0.999f, $"'{texts[i]}'");
        }
    }

    [Fact]
    public void Create_Int8ModelWithoutWeightMatMul_ThrowsInvalidOperationNamingSetting()
    {
        using var folder = new TempDirectory();
        var modelPath = folder.File("tiny.onnx");
        File.WriteAllBytes(modelPath, TinyOnnxModel.SymbolicHiddenSizeTokenOutput());
        CopyBundledVocab(folder.File("vocab.txt"));

        var ex = Assert.Throws<InvalidOperationException>(
            () => OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { ModelPath = modelPath, Quantization = OnnxQuantization.Int8 }));

        Assert.Contains(modelPath, ex.Message, StringComparison.Ordinal);
        Assert.Contains("Quantization", ex.Message, StringComparison.Ordinal);
    }

    private static (float[] Y, float[] G) RunLinear(byte[] model, float[] x, float[] z)
    {
        using var session = new InferenceSession(model);
        using var xValue = OrtValue.CreateTensorValueFromMemory(x, [5, 8]);
        using var zValue = OrtValue.CreateTensorValueFromMemory(z, [5, 4]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, ["X", "Z"], [xValue, zValue], ["Y", "G"]);
        return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[1].GetTensorDataAsSpan<float>().ToArray());
    }

    private static void CopyBundledVocab(string path)
    {
        using var vocab = BundledMiniLm.OpenVocab();
        using var file = File.Create(path);
        vocab.CopyTo(file);
    }
}
