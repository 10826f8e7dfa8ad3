using Microsoft.ML.Tokenizers;

namespace ProductSimilarity.Embeddings.Onnx;

/// <summary>Turns text into the token ids a BERT encoder sees: <c>[CLS]</c>, at most MaxTokens - 2 WordPieces, <c>[SEP]</c>.</summary>
/// <remarks>Immutable; thread-safe (the tokenizer only reads its vocabulary).</remarks>
internal sealed class BertInputEncoder
{
    private readonly BertTokenizer _tokenizer;

    public BertInputEncoder(BertTokenizer tokenizer, int maxTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 2);
        _tokenizer = tokenizer;
        MaxTokens = maxTokens;
    }

    /// <summary>The most ids <see cref="Encode"/> returns, special tokens included.</summary>
    public int MaxTokens { get; }

    /// <summary>The <c>[CLS]</c> id.</summary>
    public int ClsId => _tokenizer.ClassificationTokenId;

    /// <summary>The <c>[SEP]</c> id.</summary>
    public int SepId => _tokenizer.SeparatorTokenId;

    /// <summary>The <c>[PAD]</c> id.</summary>
    public int PadId => _tokenizer.PaddingTokenId;

    /// <summary>
    /// Reads an uncased WordPiece vocabulary (one token a line) with Hugging Face <c>BertTokenizer</c> defaults:
    /// basic tokenisation, lower-casing, accent stripping and one token per CJK character.
    /// </summary>
    public static BertTokenizer CreateUncasedTokenizer(Stream vocab) =>
        BertTokenizer.Create(vocab, new BertOptions
        {
            LowerCaseBeforeTokenization = true,
            ApplyBasicTokenization = true,
            IndividuallyTokenizeCjk = true,

            // Uncased BERT strips accents along with lower-casing ("café" -> "cafe"); the library's default keeps them.
            RemoveNonSpacingMarks = true,
        });

    /// <summary>The share of <paramref name="text"/>'s WordPieces (within the length budget) that are <c>[UNK]</c>.</summary>
    public double UnknownShare(string text)
    {
        int budget = MaxTokens - 2;
        var pieces = _tokenizer.EncodeToIds(
            text, budget + _tokenizer.MaxInputCharsPerWord, addSpecialTokens: false, out _, out _,
            considerPreTokenization: true, considerNormalization: true);
        int count = Math.Min(pieces.Count, budget);
        if (count == 0)
        {
            return 0;
        }

        int unknown = 0;
        for (int i = 0; i < count; i++)
        {
            if (pieces[i] == _tokenizer.UnknownTokenId)
            {
                unknown++;
            }
        }

        return (double)unknown / count;
    }

    /// <summary>Encodes <paramref name="text"/>; empty or whitespace text gives <c>[CLS] [SEP]</c>.</summary>
    public int[] Encode(string text)
    {
        int budget = MaxTokens - 2;

        // Cap the tokenizer's work on long texts. With a limit it stops before a word that would cross it, so allow
        // one more word's worth (a word yields at most MaxInputCharsPerWord pieces) and cut mid-word here, exactly as
        // Hugging Face truncation does.
        var pieces = _tokenizer.EncodeToIds(
            text, budget + _tokenizer.MaxInputCharsPerWord, addSpecialTokens: false, out _, out _,
            considerPreTokenization: true, considerNormalization: true);
        int count = Math.Min(pieces.Count, budget);
        var ids = new int[count + 2];
        ids[0] = ClsId;
        for (int i = 0; i < count; i++)
        {
            ids[i + 1] = pieces[i];
        }

        ids[^1] = SepId;
        return ids;
    }
}
