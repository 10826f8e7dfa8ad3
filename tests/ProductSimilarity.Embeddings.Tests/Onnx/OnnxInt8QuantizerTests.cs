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
    public void Quantize_BundledMiniLm_ReplacesEveryConstantWeightMatMulButTheFeedForwardOutputsWithDynamicQuantizeMatMul()
    {
        var fp32 = ModelProto.Parser.ParseFrom(BundledMiniLm.ReadModel());

        var int8 = ModelProto.Parser.ParseFrom(OnnxInt8Quantizer.Quantize(fp32.ToByteArray()));

        var initializers = int8.Graph.Initializer.ToDictionary(t => t.Name);
        var quantized = int8.Graph.Node.Where(n => n.OpType == OnnxInt8Quantizer.QuantizedOpType).ToList();
        // all-MiniLM-L6-v2: 6 layers x (query, key, value, attention output, intermediate, output) = 36 weight MatMuls, of
        // which the 6 feed-forward outputs (1536x384) stay fp32; the other 12 MatMuls multiply two activations
        // (attention scores and context) and must stay float MatMuls.
        Assert.Equal(30, quantized.Count);
        Assert.All(quantized, n => Assert.Equal(OnnxInt8Quantizer.ContribDomain, n.Domain));
        Assert.All(quantized, n => Assert.Equal(5, n.Input.Count));
        Assert.All(quantized, n => Assert.Equal((int)TensorProto.Types.DataType.Int8, initializers[n.Input[1]].DataType));
        var kept = int8.Graph.Node.Where(n => n.OpType == "MatMul" && initializers.ContainsKey(n.Input[1])).ToList();
        Assert.Equal(6, kept.Count);
        Assert.All(kept, n => Assert.Equal([1536L, 384L], initializers[n.Input[1]].Dims));
        Assert.Equal(18, int8.Graph.Node.Count(n => n.OpType == "MatMul"));
        // Every weight MatMul in this export is followed by its bias Add, and each quantised one is folded into the node.
        Assert.Equal(fp32.Graph.Node.Count(n => n.OpType == "Add") - 30, int8.Graph.Node.Count(n => n.OpType == "Add"));
        Assert.Contains(int8.OpsetImport, o => o.Domain == OnnxInt8Quantizer.ContribDomain && o.Version == 1);

        // The embedding tables stay float and every Gather still reads them.
        var gathers = int8.Graph.Node.Where(n => n.OpType == "Gather" && initializers.ContainsKey(n.Input[0])).ToList();
        Assert.NotEmpty(gathers);
        Assert.All(gathers, n => Assert.Equal((int)TensorProto.Types.DataType.Float, initializers[n.Input[0]].DataType));
        Assert.Contains(gathers, n => n.Input[0] == "embeddings.word_embeddings.weight");
    }

    /// <summary>
    /// Auto is what this CPU runs by default (S8 with VNNI, the saturation-free scheme without). ReduceRange and U8U8
    /// compute the same integers on every x86-64 CPU, so running them here also proves the quality a CPU without VNNI gets.
    /// </summary>
    public static TheoryData<OnnxInt8Scheme> PortableSchemes => [OnnxInt8Scheme.Auto, OnnxInt8Scheme.ReduceRange, OnnxInt8Scheme.U8U8];

    [Theory]
    [MemberData(nameof(PortableSchemes))]
    public async Task GenerateAsync_Int8ProductSentences_StayAbove099CosineToFp32(OnnxInt8Scheme scheme)
    {
        var fp32 = await fixture.Generator.GenerateAsync(ProductSentences);
        var int8 = await fixture.Int8(scheme).GenerateAsync(ProductSentences);

        Assert.Equal(ProductSentences.Length, int8.Count);
        for (int i = 0; i < ProductSentences.Length; i++)
        {
            UnitLength(int8[i].Vector.Span, 384);
            float cosine = Cosine(fp32[i].Vector.Span, int8[i].Vector.Span);
            Assert.True(cosine > 0.99f, $"{fixture.Int8(scheme).ModelId}: '{ProductSentences[i]}': int8 vs fp32 cosine {cosine}");
        }
    }

    [Theory]
    [InlineData(OnnxInt8Scheme.ReduceRange, (int)TensorProto.Types.DataType.Int8)]
    [InlineData(OnnxInt8Scheme.U8U8, (int)TensorProto.Types.DataType.Uint8)]
    public void Quantize_SaturationFreeSchemes_AlsoKeepFeedForwardOutputsInFp32(OnnxInt8Scheme scheme, int weightType)
    {
        var int8 = ModelProto.Parser.ParseFrom(OnnxInt8Quantizer.Quantize(BundledMiniLm.ReadModel(), scheme));

        var initializers = int8.Graph.Initializer.ToDictionary(t => t.Name);
        var quantized = int8.Graph.Node.Where(n => n.OpType == OnnxInt8Quantizer.QuantizedOpType).ToList();
        Assert.Equal(30, quantized.Count);
        Assert.All(quantized, n => Assert.Equal(weightType, initializers[n.Input[1]].DataType));
        var kept = int8.Graph.Node.Where(n => n.OpType == "MatMul" && initializers.ContainsKey(n.Input[1])).ToList();
        Assert.Equal(6, kept.Count);
        Assert.All(kept, n => Assert.Equal([1536L, 384L], initializers[n.Input[1]].Dims));
    }

    [Fact]
    public async Task Create_Int8_ModelIdNamesTheScheme()
    {
        var generator = fixture.Int8Generator;

        var embedding = (await generator.GenerateAsync(["usb flash drive 32gb"]))[0];

        var expected = "all-MiniLM-L6-v2" + Int8SchemeSelector.ModelIdSuffix(generator.Int8Scheme!.Scheme);
        Assert.Equal(expected, generator.ModelId);
        Assert.Equal(expected, embedding.ModelId);
        Assert.Equal(expected, generator.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelId);
        Assert.Equal("all-MiniLM-L6-v2-int8-s7", fixture.Int8(OnnxInt8Scheme.ReduceRange).ModelId);
        Assert.Equal("all-MiniLM-L6-v2-int8-u8", fixture.Int8(OnnxInt8Scheme.U8U8).ModelId);
        Assert.Equal(OnnxBertEmbeddingGenerator.BundledModelId, fixture.Generator.ModelId);
    }

    [Theory]
    [InlineData(OnnxInt8Scheme.S8, -127, 127)]
    [InlineData(OnnxInt8Scheme.ReduceRange, -63, 63)]
    public void Quantize_SignedSchemes_WeightsUseTheirRangeAndZeroPointZero(OnnxInt8Scheme scheme, int min, int max)
    {
        var int8 = ModelProto.Parser.ParseFrom(OnnxInt8Quantizer.Quantize(TinyOnnxModel.LinearLayers(seed: 3).ToByteArray(), scheme));

        var weights = int8.Graph.Initializer.Single(t => t.Name == "W1_quantized");
        var values = weights.RawData.Span.ToArray().Select(b => (int)(sbyte)b).ToList();
        Assert.Equal((int)TensorProto.Types.DataType.Int8, weights.DataType);
        Assert.Equal(max, values.Select(Math.Abs).Max());
        Assert.True(values.Min() >= min);
        Assert.All(int8.Graph.Initializer.Single(t => t.Name == "W1_zero_point").RawData.Span.ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Quantize_U8U8_WeightsAreUint8WithPerColumnZeroPoints()
    {
        var int8 = ModelProto.Parser.ParseFrom(OnnxInt8Quantizer.Quantize(TinyOnnxModel.LinearLayers(seed: 3).ToByteArray(), OnnxInt8Scheme.U8U8));

        var weights = int8.Graph.Initializer.Single(t => t.Name == "W1_quantized");
        var zeroPoints = int8.Graph.Initializer.Single(t => t.Name == "W1_zero_point");
        Assert.Equal((int)TensorProto.Types.DataType.Uint8, weights.DataType);
        Assert.Equal((int)TensorProto.Types.DataType.Uint8, zeroPoints.DataType);
        Assert.Equal(weights.Dims[1], zeroPoints.Dims[0]);
        // Each column spans 0..255 at one end at least, and its zero point sits strictly inside when it has both signs.
        Assert.Contains(weights.RawData.Span.ToArray(), b => b == 255);
        Assert.Contains(zeroPoints.RawData.Span.ToArray(), b => b is > 0 and < 255);
    }

    [Fact]
    public void Quantize_Auto_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => OnnxInt8Quantizer.Quantize(TinyOnnxModel.LinearLayers(seed: 3).ToByteArray(), OnnxInt8Scheme.Auto));
    }

    [Theory]
    [MemberData(nameof(PortableSchemes))]
    public void Quantize_LinearLayers_RewritesWeightMatMulsFoldsOnlyTheBiasAndKeepsOutputsClose(OnnxInt8Scheme requested)
    {
        var fp32 = TinyOnnxModel.LinearLayers(seed: 3);
        var scheme = Int8SchemeSelector.Choose(requested, CpuInt8Features.Current).Scheme;

        var bytes = OnnxInt8Quantizer.Quantize(fp32.ToByteArray(), scheme);

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
            Assert.True(Math.Abs(expected.Y[i] - actual.Y[i]) < 0.03f * scale, $"{scheme}: Y[{i}]: fp32 {expected.Y[i]}, int8 {actual.Y[i]}");
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

        using var fp32 = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { Quantization = OnnxQuantization.None, ModelPath = modelPath });
        using var int8 = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { ModelPath = modelPath, Quantization = OnnxQuantization.Int8 });
        var expected = await fp32.GenerateAsync(texts);
        var actual = await int8.GenerateAsync(texts);

        Assert.Equal("projection.onnx", fp32.ModelId);
        Assert.StartsWith("projection.onnx-int8-", int8.ModelId, StringComparison.Ordinal);
        Assert.Equal(4, int8.Dimensions);
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(int8.ModelId, actual[i].ModelId);
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

        using var generator = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { ModelPath = modelPath, Quantization = OnnxQuantization.Int8 });
        var ex = Assert.Throws<InvalidOperationException>(generator.Load);

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
