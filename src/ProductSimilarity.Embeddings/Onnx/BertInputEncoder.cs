using Microsoft.ML.Tokenizers;

namespace ProductSimilarity.Embeddings.Onnx;

/// <summary>
/// Turns text into the token ids a BERT-family encoder sees: the start id (<c>[CLS]</c>, or <c>&lt;s&gt;</c> for XLM-R),
/// at most MaxTokens - 2 pieces, and the end id (<c>[SEP]</c> or <c>&lt;/s&gt;</c>). The pieces come from a WordPiece
/// vocabulary or from a SentencePiece model (<see cref="ForSentencePiece"/>).
/// </summary>
/// <remarks>Immutable; thread-safe (the tokenizer only reads its vocabulary).</remarks>
internal sealed class BertInputEncoder
{
    /// <summary>Ids of the fairseq dictionary XLM-R models (multilingual-e5, bge-m3) put before the SentencePiece pieces.</summary>
    private const int FairseqStart = 0, FairseqPad = 1, FairseqEnd = 2, FairseqUnknown = 3, FairseqOffset = 1;

    private readonly Func<string, int, IReadOnlyList<int>> _pieces;
    private readonly Func<int, int> _toModelId;
    private readonly int _overshoot;

    /// <summary>Encodes with a WordPiece tokenizer; the special ids are its own.</summary>
    public BertInputEncoder(BertTokenizer tokenizer, int maxTokens)
        : this(
            maxTokens,
            (text, limit) => tokenizer.EncodeToIds(text, limit, addSpecialTokens: false, out _, out _, considerPreTokenization: true, considerNormalization: true),
            id => id,
            tokenizer.ClassificationTokenId,
            tokenizer.SeparatorTokenId,
            tokenizer.PaddingTokenId,
            tokenizer.UnknownTokenId,
            overshoot: tokenizer.MaxInputCharsPerWord)
    {
    }

    private BertInputEncoder(int maxTokens, Func<string, int, IReadOnlyList<int>> pieces, Func<int, int> toModelId, int clsId, int sepId, int padId, int unknownId, int overshoot)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 2);
        MaxTokens = maxTokens;
        _pieces = pieces;
        _toModelId = toModelId;
        ClsId = clsId;
        SepId = sepId;
        PadId = padId;
        UnknownId = unknownId;
        _overshoot = overshoot;
    }

    /// <summary>The most ids <see cref="Encode"/> returns, special tokens included.</summary>
    public int MaxTokens { get; }

    /// <summary>The start id: <c>[CLS]</c>, or <c>&lt;s&gt;</c> for an XLM-R SentencePiece model.</summary>
    public int ClsId { get; }

    /// <summary>The end id: <c>[SEP]</c>, or <c>&lt;/s&gt;</c> for an XLM-R SentencePiece model.</summary>
    public int SepId { get; }

    /// <summary>The padding id.</summary>
    public int PadId { get; }

    /// <summary>The id of an unknown piece, as the model sees it.</summary>
    public int UnknownId { get; }

    /// <summary>
    /// Encodes with a SentencePiece model (<c>sentencepiece.bpe.model</c>, <c>spiece.model</c>; Unigram or BPE, read by
    /// <c>Microsoft.ML.Tokenizers</c>). A model whose pieces include <c>[CLS]</c> and <c>[SEP]</c> (ALBERT style) uses
    /// its own ids. Any other is taken to be an XLM-R model (multilingual-e5, bge-m3), whose ids are those of the fairseq
    /// dictionary, exactly as Hugging Face's <c>XLMRobertaTokenizer</c> maps them: <c>&lt;s&gt;</c> 0, <c>&lt;pad&gt;</c>
    /// 1, <c>&lt;/s&gt;</c> 2, <c>&lt;unk&gt;</c> 3, and every other piece its SentencePiece id + 1.
    /// </summary>
    /// <exception cref="InvalidDataException">The stream is not a SentencePiece model; the message names <paramref name="path"/>.</exception>
    public static BertInputEncoder ForSentencePiece(Stream model, string path, int maxTokens)
    {
        SentencePieceTokenizer tokenizer;
        try
        {
            tokenizer = SentencePieceTokenizer.Create(model, addBeginningOfSentence: false, addEndOfSentence: false);
        }
        catch (Exception ex) when (ex is not (OutOfMemoryException or OperationCanceledException))
        {
            throw new InvalidDataException($"The tokenizer file '{path}' is not a SentencePiece model this version can read: {ex.Message}", ex);
        }

        IReadOnlyList<int> Pieces(string text, int limit) =>
            tokenizer.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false, limit, out _, out _, considerPreTokenization: true, considerNormalization: true);

        var vocabulary = tokenizer.Vocabulary;
        if (vocabulary.TryGetValue("[CLS]", out var cls) && vocabulary.TryGetValue("[SEP]", out var sep))
        {
            var pad = vocabulary.TryGetValue("<pad>", out var p) ? p : vocabulary.TryGetValue("[PAD]", out p) ? p : 0;
            return new BertInputEncoder(maxTokens, Pieces, id => id, cls, sep, pad, tokenizer.UnknownId, overshoot: 0);
        }

        var unknown = tokenizer.UnknownId;
        return new BertInputEncoder(
            maxTokens, Pieces, id => id == unknown ? FairseqUnknown : id + FairseqOffset, FairseqStart, FairseqEnd, FairseqPad, FairseqUnknown, overshoot: 0);
    }

    /// <summary>
    /// Reads an uncased WordPiece vocabulary (one token a line) with Hugging Face <c>BertTokenizer</c> defaults:
    /// basic tokenisation, lower-casing, accent stripping and one token per CJK character.
    /// </summary>
    public static BertTokenizer CreateUncasedTokenizer(Stream vocab) => CreateTokenizer(vocab, lowerCase: true);

    /// <summary>
    /// Reads a WordPiece vocabulary (one token a line) with Hugging Face <c>BertTokenizer</c> defaults; a cased
    /// vocabulary (<paramref name="lowerCase"/> false) keeps case and accents, as Hugging Face does.
    /// </summary>
    public static BertTokenizer CreateTokenizer(Stream vocab, bool lowerCase) =>
        BertTokenizer.Create(vocab, new BertOptions
        {
            LowerCaseBeforeTokenization = lowerCase,
            ApplyBasicTokenization = true,
            IndividuallyTokenizeCjk = true,

            // Uncased BERT strips accents along with lower-casing ("café" -> "cafe"); the library's default keeps them.
            RemoveNonSpacingMarks = lowerCase,
        });

    /// <summary>The share of <paramref name="text"/>'s pieces (within the length budget) that are unknown to the model.</summary>
    public double UnknownShare(string text)
    {
        int budget = MaxTokens - 2;
        var pieces = _pieces(text, budget + _overshoot);
        int count = Math.Min(pieces.Count, budget);
        if (count == 0)
        {
            return 0;
        }

        int unknown = 0;
        for (int i = 0; i < count; i++)
        {
            if (_toModelId(pieces[i]) == UnknownId)
            {
                unknown++;
            }
        }

        return (double)unknown / count;
    }

    /// <summary>
    /// Reads the WordPiece vocabulary out of a Hugging Face <c>tokenizer.json</c> (<c>model.type</c> <c>WordPiece</c>,
    /// <c>model.vocab</c> token to id) as <c>vocab.txt</c> lines in id order, and its <c>BertNormalizer</c> lowercase flag.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not JSON, or its model is not WordPiece; the message names <paramref name="path"/>.</exception>
    public static (MemoryStream Vocab, bool? LowerCase) ReadTokenizerJson(Stream json, string path)
    {
        System.Text.Json.JsonDocument document;
        try
        {
            document = System.Text.Json.JsonDocument.Parse(json);
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new InvalidDataException($"The tokenizer file '{path}' is not valid JSON: {ex.Message}", ex);
        }

        using (document)
        {
            var root = document.RootElement;
            if (!root.TryGetProperty("model", out var model)
                || !model.TryGetProperty("type", out var type)
                || type.GetString() != "WordPiece"
                || !model.TryGetProperty("vocab", out var vocab)
                || vocab.ValueKind != System.Text.Json.JsonValueKind.Object)
            {
                var kind = root.TryGetProperty("model", out var m) && m.TryGetProperty("type", out var t) ? t.ToString() : "none";
                throw new InvalidDataException(
                    $"The tokenizer file '{path}' has model type '{kind}'; only WordPiece (BERT-family) tokenizer.json files are read. " +
                    "Point VocabPath at the model's vocab.txt, or at its SentencePiece model (sentencepiece.bpe.model, spiece.model) for a Unigram or BPE tokenizer.");
            }

            var tokens = new SortedDictionary<int, string>();
            foreach (var entry in vocab.EnumerateObject())
            {
                tokens[entry.Value.GetInt32()] = entry.Name;
            }

            bool? lowerCase = root.TryGetProperty("normalizer", out var normalizer)
                && normalizer.ValueKind == System.Text.Json.JsonValueKind.Object
                && normalizer.TryGetProperty("lowercase", out var lower)
                && lower.ValueKind is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False
                ? lower.GetBoolean()
                : null;

            var stream = new MemoryStream();
            using (var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), leaveOpen: true) { NewLine = "\n" })
            {
                int expected = 0;
                foreach (var (id, token) in tokens)
                {
                    if (id != expected++)
                    {
                        throw new InvalidDataException($"The tokenizer file '{path}' has no token with id {expected - 1}; WordPiece ids must be 0..N-1.");
                    }

                    writer.WriteLine(token);
                }
            }

            stream.Position = 0;
            return (stream, lowerCase);
        }
    }

    /// <summary>Encodes <paramref name="text"/>; empty or whitespace text gives just the start and end ids.</summary>
    public int[] Encode(string text)
    {
        int budget = MaxTokens - 2;

        // Cap the tokenizer's work on long texts. WordPiece stops before a word that would cross the limit, so allow one
        // more word's worth (a word yields at most MaxInputCharsPerWord pieces) and cut mid-word here, exactly as Hugging
        // Face truncation does. SentencePiece stops at the piece itself.
        var pieces = _pieces(text, budget + _overshoot);
        int count = Math.Min(pieces.Count, budget);
        var ids = new int[count + 2];
        ids[0] = ClsId;
        for (int i = 0; i < count; i++)
        {
            ids[i + 1] = _toModelId(pieces[i]);
        }

        ids[^1] = SepId;
        return ids;
    }
}
