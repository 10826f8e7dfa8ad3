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
                    $"The tokenizer file '{path}' has model type '{kind}'; only WordPiece (BERT-family) tokenizer.json files are supported. " +
                    "Export the model's vocab.txt instead, or use a BERT-family model.");
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
