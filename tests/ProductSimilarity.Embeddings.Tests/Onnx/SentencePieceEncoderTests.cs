using System.Text.Json;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Embeddings.Onnx;

namespace ProductSimilarity.Embeddings.Tests.Onnx;

/// <summary>
/// SentencePiece tokenizers for operator-supplied models (XLM-R: multilingual-e5, bge-m3), against ids from the
/// reference implementation. <c>TestData/sentencepiece</c> holds a small Unigram model trained on the project's own
/// samples and the ids Python's <c>sentencepiece</c> gives for some texts (<c>make_fixture.py</c> writes both).
/// </summary>
public sealed class SentencePieceEncoderTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Onnx", "TestData", "sentencepiece");
    private static readonly string ModelFile = Path.Combine(Folder, "tiny-unigram.model");

    public static TheoryData<string> ReferenceTexts()
    {
        var data = new TheoryData<string>();
        foreach (var (text, _) in Reference().Texts)
        {
            data.Add(text);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ReferenceTexts))]
    public void Encode_XlmRStyleModel_MatchesReferenceIdsInFairseqNumbering(string text)
    {
        var reference = Reference();
        var encoder = Open(512);

        var ids = encoder.Encode(text);

        // XLMRobertaTokenizer: <s> 0, </s> 2, <unk> 3, every other piece its SentencePiece id + 1.
        int[] expected = [0, .. reference.Texts.Single(t => t.Text == text).Ids.Select(id => id == reference.UnknownId ? 3 : id + 1), 2];
        Assert.Equal(expected, ids);
    }

    [Fact]
    public void Encode_LongText_KeepsTheFirstMaxTokensMinusTwoPieces()
    {
        var (text, pieces) = Reference().Texts.MaxBy(t => t.Ids.Length);
        var encoder = Open(6);

        var ids = encoder.Encode(text);

        Assert.Equal([0, .. pieces.Take(4).Select(id => id + 1), 2], ids);
        Assert.Equal(6, encoder.MaxTokens);
    }

    [Fact]
    public void SpecialIds_XlmRStyleModel_AreTheFairseqOnes()
    {
        var encoder = Open(512);

        Assert.Equal((0, 2, 1, 3), (encoder.ClsId, encoder.SepId, encoder.PadId, encoder.UnknownId));
    }

    [Fact]
    public void UnknownShare_TextWithUnseenSymbol_CountsOnlyUnknownPieces()
    {
        var reference = Reference();
        var (text, pieces) = reference.Texts.First(t => t.Ids.Contains(reference.UnknownId));
        var encoder = Open(512);

        Assert.Equal((double)pieces.Count(id => id == reference.UnknownId) / pieces.Length, encoder.UnknownShare(text), 10);
        Assert.Equal(0, encoder.UnknownShare("a"));
    }

    [Fact]
    public void ForSentencePiece_NotAModel_ThrowsNamingTheFile()
    {
        using var stream = new MemoryStream("this is not a protobuf"u8.ToArray());

        var ex = Assert.Throws<InvalidDataException>(() => BertInputEncoder.ForSentencePiece(stream, "/models/x/spiece.model", 512));

        Assert.Contains("/models/x/spiece.model", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_XlmRExportFolder_ReadsTheSentencePieceModelNotTheUnigramTokenizerJson()
    {
        using var folder = new TempDirectory();
        var modelPath = folder.File("model.onnx");
        File.WriteAllBytes(modelPath, TinyOnnxModel.SymbolicHiddenSizeTokenOutput());
        File.Copy(ModelFile, folder.File("sentencepiece.bpe.model"));
        File.WriteAllText(folder.File("tokenizer.json"), """{"model":{"type":"Unigram","vocab":[["<s>",0.0]]}}""");
        var reference = Reference();
        var (text, pieces) = reference.Texts.First(t => t.Ids.Contains(reference.UnknownId));

        using var generator = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { Quantization = OnnxQuantization.None, ModelPath = modelPath });
        var embeddings = await generator.GenerateAsync([text, "a"]);

        Assert.Equal(folder.File("sentencepiece.bpe.model"), OnnxBertEmbeddingGenerator.DefaultTokenizerPath(folder.Path));
        Assert.Equal((double)pieces.Count(id => id == reference.UnknownId) / pieces.Length, generator.UnknownTokenShare(text), 10);
        Assert.All(embeddings, e => Assert.Equal([1f], e.Vector.ToArray()));
    }

    private static BertInputEncoder Open(int maxTokens)
    {
        using var stream = File.OpenRead(ModelFile);
        return BertInputEncoder.ForSentencePiece(stream, ModelFile, maxTokens);
    }

    private static (int UnknownId, List<(string Text, int[] Ids)> Texts) Reference()
    {
        var lines = File.ReadAllLines(Path.Combine(Folder, "reference-ids.jsonl"));
        using var header = JsonDocument.Parse(lines[0]);
        var texts = new List<(string, int[])>();
        foreach (var line in lines.Skip(1))
        {
            using var doc = JsonDocument.Parse(line);
            texts.Add((doc.RootElement.GetProperty("text").GetString()!, [.. doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())]));
        }

        return (header.RootElement.GetProperty("unk_id").GetInt32(), texts);
    }
}
