using System.Buffers;
using System.ComponentModel.DataAnnotations;
using System.Numerics.Tensors;
using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Tokenizers;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Embeddings;

using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Embeddings.Onnx;

/// <summary>
/// Sentence embeddings from a local BERT-style ONNX model (a bundled model, all-MiniLM-L6-v2 by default, or an
/// operator-supplied one): WordPiece tokenisation, one ONNX Runtime pass, mean or CLS pooling of the per-token output,
/// then L2 normalisation, so cosine similarity is a dot product.
/// </summary>
/// <remarks>
/// <para>
/// Thread-safe: one instance holds one <see cref="InferenceSession"/> and a read-only tokenizer, and any number of
/// <see cref="GenerateAsync"/> calls may run at once (each call rents its own buffers). Register it as a singleton.
/// </para>
/// <para>
/// <see cref="Create"/> only checks the options and that the files exist; the model is read (and quantised, or read
/// from the int8 cache) on first use, once, however many threads ask at once. So commands that never embed, such as
/// similar items by id, never pay for it. <see cref="ModelId"/> is known without loading; <see cref="Dimensions"/> and
/// <see cref="Load"/> load.
/// </para>
/// <para>
/// The work is CPU-bound and runs synchronously on the calling thread; the returned task is already complete.
/// Within one call, texts are sorted by token count and cut into batches of
/// <see cref="OnnxEmbeddingOptions.BatchSize"/>, so each batch pads only to its own longest text; results come
/// back in input order. Texts longer than <see cref="OnnxEmbeddingOptions.MaxTokens"/> are truncated
/// (<c>[CLS]</c> + first tokens + <c>[SEP]</c>), as sentence-transformers does. Calls marked with
/// <see cref="EmbeddingInput.QueryOptions"/> get the query prefix, all others the passage prefix.
/// </para>
/// </remarks>
public sealed class OnnxBertEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>, ITokenCoverage
{
    /// <summary>The provider name reported in <see cref="EmbeddingGeneratorMetadata"/>.</summary>
    public const string ProviderName = "onnx";

    /// <summary>The model id of the default bundled model.</summary>
    public const string BundledModelId = BundledMiniLm.ModelId;

    private readonly OnnxEmbeddingOptions _options;
    private readonly ModelSource _source;
    private readonly Lazy<LoadedModel> _model;

    // The tokenizer loads on its own (a vocabulary, milliseconds), so that asking how much of a text the model can read
    // (UnknownTokenShare, which hybrid similar-items ranking does) does not load the ONNX session.
    private readonly Lazy<BertInputEncoder> _encoder;
    private int _disposed;

    private OnnxBertEmbeddingGenerator(OnnxEmbeddingOptions options, ModelSource source, Int8SchemeChoice? scheme)
    {
        _options = options;
        _source = source;
        Int8Scheme = scheme;
        ModelId = scheme is null ? source.ModelId : source.ModelId + Int8SchemeSelector.ModelIdSuffix(scheme.Scheme);
        Pooling = options.Pooling != OnnxPooling.Auto ? options.Pooling : source.Bundled?.Pooling ?? OnnxPooling.Mean;
        QueryPrefix = options.QueryPrefix ?? source.Bundled?.QueryPrefix;
        PassagePrefix = options.PassagePrefix;
        _model = new Lazy<LoadedModel>(LoadModel, LazyThreadSafetyMode.ExecutionAndPublication);
        _encoder = new Lazy<BertInputEncoder>(CreateEncoder, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>
    /// The model id: the bundled model's id (<c>all-MiniLM-L6-v2</c>, <c>snowflake-arctic-embed-xs</c>), otherwise the
    /// file name of <see cref="OnnxEmbeddingOptions.ModelPath"/> and its content hash (<c>model.onnx@1a2b3c4d5e6f</c>,
    /// see <see cref="ModelFileHash"/>); with <see cref="OnnxQuantization.Int8"/> followed by
    /// the scheme (<c>-int8-s8</c>, <c>-int8-s7</c>, <c>-int8-u8</c>), so vectors of two variants, or of two machines
    /// that chose different schemes, never pass for each other.
    /// </summary>
    public string ModelId { get; }

    /// <summary>The int8 scheme in force and why, or null when the model runs unquantised.</summary>
    public Int8SchemeChoice? Int8Scheme { get; }

    /// <summary>How token states are pooled.</summary>
    public OnnxPooling Pooling { get; }

    /// <summary>The text put before search queries, or null.</summary>
    public string? QueryPrefix { get; }

    /// <summary>The text put before product texts, or null.</summary>
    public string? PassagePrefix { get; }

    /// <summary>Where the model comes from: <c>all-MiniLM-L6-v2 (bundled)</c> or the full path of the model file.</summary>
    public string ModelName => _source.Name;

    /// <summary>Whether the model has been loaded (by a call, <see cref="Load"/> or <see cref="Dimensions"/>).</summary>
    public bool IsLoaded => _model.IsValueCreated;

    /// <summary>The int8 model file in use (from the cache or just written), or null (fp32, or kept in memory). Loads the model.</summary>
    public string? QuantizedModelPath => _model.Value.QuantizedPath;

    /// <summary>The length of every vector this generator returns (384 for the bundled models), read from the model's output shape. Loads the model.</summary>
    public int Dimensions => _model.Value.Dimensions;

    /// <summary>Loads the model now, if not yet loaded; safe to call from any number of threads.</summary>
    /// <exception cref="InvalidOperationException">The model cannot be loaded, quantised, or is not a BERT-style encoder.</exception>
    /// <exception cref="InvalidDataException">The tokenizer file cannot be read.</exception>
    public void Load() => _ = _model.Value;

    /// <summary>Checks the options and model files; the model itself loads on first use.</summary>
    /// <param name="options">
    /// With <see cref="OnnxEmbeddingOptions.ModelPath"/> unset, the bundled model named by
    /// <see cref="OnnxEmbeddingOptions.Model"/>. With it set, that ONNX file and
    /// <see cref="OnnxEmbeddingOptions.VocabPath"/> (default: <c>vocab.txt</c>, else <c>tokenizer.json</c>, beside the
    /// model). With <see cref="OnnxEmbeddingOptions.Quantization"/> set to <see cref="OnnxQuantization.Int8"/>, the model
    /// is quantised by <see cref="OnnxInt8Quantizer"/> with the scheme <see cref="Int8SchemeSelector"/> picks, or read
    /// from <see cref="QuantizedModelCache"/>.
    /// </param>
    /// <param name="cpu">The CPU the scheme is chosen for; default <see cref="CpuInt8Features.Current"/>.</param>
    /// <exception cref="ValidationException">An option is out of its documented range.</exception>
    /// <exception cref="ArgumentException"><see cref="OnnxEmbeddingOptions.VocabPath"/> is set without a model path.</exception>
    /// <exception cref="FileNotFoundException">The model or vocabulary file does not exist; the message names the path.</exception>
    public static OnnxBertEmbeddingGenerator Create(OnnxEmbeddingOptions options, CpuInt8Features? cpu = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true);

        ModelSource source;
        if (string.IsNullOrWhiteSpace(options.ModelPath))
        {
            if (!string.IsNullOrWhiteSpace(options.VocabPath))
            {
                throw new ArgumentException(
                    $"VocabPath '{options.VocabPath}' is set but ModelPath is not; a vocabulary only makes sense with the model it was trained for.",
                    nameof(options));
            }

            var bundled = BundledModel.Get(options.Model);
            source = new ModelSource(bundled.ModelId, $"{bundled.ModelId} (bundled)", null, null, bundled);
        }
        else
        {
            var modelPath = Path.GetFullPath(options.ModelPath);
            if (!File.Exists(modelPath))
            {
                throw new FileNotFoundException($"The ONNX embedding model '{modelPath}' (ProductSimilarity:Embeddings:Onnx:ModelPath) does not exist.", modelPath);
            }

            var folder = Path.GetDirectoryName(modelPath) ?? ".";
            var vocabPath = !string.IsNullOrWhiteSpace(options.VocabPath) ? Path.GetFullPath(options.VocabPath) : DefaultTokenizerPath(folder);
            if (!File.Exists(vocabPath))
            {
                throw new FileNotFoundException(
                    $"The tokenizer file '{vocabPath}' (ProductSimilarity:Embeddings:Onnx:VocabPath) for model '{modelPath}' does not exist. "
                    + "Put the model's vocab.txt, tokenizer.json or SentencePiece model (sentencepiece.bpe.model, spiece.model) beside it, or set VocabPath.", vocabPath);
            }

            // The id carries the file's content hash, so two different files named model.onnx never share an index.
            var modelId = $"{Path.GetFileName(modelPath)}@{ModelFileHash.Of(modelPath, options.CacheDirectory)}";
            source = new ModelSource(modelId, modelPath, modelPath, vocabPath, null);
        }

        var scheme = options.Quantization switch
        {
            OnnxQuantization.None => null,
            OnnxQuantization.Int8 => Int8SchemeSelector.Choose(options.Int8Scheme, cpu ?? CpuInt8Features.Current),
            _ => throw new ArgumentException($"Quantization '{options.Quantization}' is not supported; use None or Int8.", nameof(options)),
        };
        return new OnnxBertEmbeddingGenerator(options, source, scheme);
    }

    /// <summary>
    /// The tokenizer file beside a model when <see cref="OnnxEmbeddingOptions.VocabPath"/> is unset: the first of
    /// <c>vocab.txt</c>, <c>sentencepiece.bpe.model</c>, <c>spiece.model</c> and <c>tokenizer.json</c> that exists (else
    /// <c>vocab.txt</c>, which then is reported missing). A SentencePiece model comes before <c>tokenizer.json</c>, because
    /// an XLM-R export has both and its <c>tokenizer.json</c> is a Unigram one, which is read through the model file.
    /// </summary>
    internal static string DefaultTokenizerPath(string folder) =>
        new[] { "vocab.txt", "sentencepiece.bpe.model", "spiece.model", "tokenizer.json" }
            .Select(name => Path.Combine(folder, name))
            .FirstOrDefault(File.Exists) ?? Path.Combine(folder, "vocab.txt");

    private LoadedModel LoadModel()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var encoder = _encoder.Value;
        var modelName = _source.Name;
        // An unquantised model file is loaded as it is; everything else goes through the cache, which hands back a file
        // (extracted or quantised once), so the process holds no managed copy of the model beside ONNX Runtime's.
        var prepared = Int8Scheme is null && _source.ModelPath is { } modelPath
            ? new PreparedModel(modelPath, null, null)
            : QuantizedModelCache.Prepare(
                _source.Bundled is { } bundled ? OnnxModelOrigin.ForBundled(bundled) : OnnxModelOrigin.ForFile(_source.ModelPath!, _options.CacheDirectory),
                Int8Scheme?.Scheme,
                _options.CacheDirectory,
                modelName);
        if (Int8Scheme is { } scheme)
        {
            modelName += $" (int8, {scheme.Scheme})";
        }

        InferenceSession session;
        using (var sessionOptions = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL })
        {
            if (_options.Threads > 0)
            {
                sessionOptions.IntraOpNumThreads = _options.Threads;
            }

            try
            {
                session = prepared.Path is { } path
                    ? new InferenceSession(path, sessionOptions)
                    : new InferenceSession(prepared.Bytes!, sessionOptions);
            }
            catch (OnnxRuntimeException ex)
            {
                throw new InvalidOperationException($"ONNX Runtime could not load the embedding model '{modelName}': {ex.Message}", ex);
            }
        }

        try
        {
            var schema = BertOnnxSchema.Read(session, modelName);
            var dimensions = schema.HiddenSize > 0 ? schema.HiddenSize : ProbeDimensions(session, schema, encoder);
            return new LoadedModel(session, encoder, schema, dimensions, prepared.QuantizedPath);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private BertInputEncoder CreateEncoder()
    {
        var maxTokens = _options.MaxTokens;
        if (_source.Bundled is { } bundled)
        {
            using var vocab = bundled.OpenVocab();
            return new BertInputEncoder(BertInputEncoder.CreateTokenizer(vocab, _options.LowerCase ?? true), maxTokens);
        }

        var path = _source.VocabPath!;
        using var file = File.OpenRead(path);
        if (path.EndsWith(".model", StringComparison.OrdinalIgnoreCase))
        {
            return BertInputEncoder.ForSentencePiece(file, path, maxTokens);
        }

        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            var (vocab, lowerCase) = BertInputEncoder.ReadTokenizerJson(file, path);
            using (vocab)
            {
                return new BertInputEncoder(BertInputEncoder.CreateTokenizer(vocab, _options.LowerCase ?? lowerCase ?? true), maxTokens);
            }
        }

        return new BertInputEncoder(BertInputEncoder.CreateTokenizer(file, _options.LowerCase ?? true), maxTokens);
    }

    /// <inheritdoc/>
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var model = _model.Value;
        if (options?.Dimensions is int requested && requested != model.Dimensions)
        {
            throw new NotSupportedException(
                $"Model '{ModelId}' produces {model.Dimensions}-dimensional embeddings; {requested} dimensions were requested.");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<GeneratedEmbeddings<Embedding<float>>>(cancellationToken);
        }

        try
        {
            var prefix = EmbeddingInput.IsQuery(options) ? QueryPrefix : PassagePrefix;
            return Task.FromResult(Generate(model, values, prefix, cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<GeneratedEmbeddings<Embedding<float>>>(cancellationToken);
        }
        catch (Exception ex)
        {
            return Task.FromException<GeneratedEmbeddings<Embedding<float>>>(ex);
        }
    }

    /// <inheritdoc/>
    public double UnknownTokenShare(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _encoder.Value.UnknownShare(text);
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? Metadata()
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && _model.IsValueCreated)
        {
            _model.Value.Session.Dispose();
        }
    }

    /// <summary>
    /// The metadata; its dimensions come from the loaded model, or for a bundled model before loading, so a health check
    /// does not force a load of a bundled model. An operator-supplied model is loaded to read them.
    /// </summary>
    private EmbeddingGeneratorMetadata Metadata()
    {
        int dimensions = _model.IsValueCreated || _source.Bundled is null ? Dimensions : _source.Bundled.Dimensions;
        return new EmbeddingGeneratorMetadata(ProviderName, providerUri: null, ModelId, dimensions);
    }

    private GeneratedEmbeddings<Embedding<float>> Generate(
        LoadedModel model, IEnumerable<string> values, string? prefix, CancellationToken cancellationToken)
    {
        var texts = values as IReadOnlyList<string> ?? [.. values];
        var tokens = new int[texts.Count][];
        long totalTokens = 0;
        for (int i = 0; i < tokens.Length; i++)
        {
            var text = texts[i] ?? throw new ArgumentException($"Text {i} is null.", nameof(values));
            tokens[i] = model.Encoder.Encode(string.IsNullOrEmpty(prefix) ? text : prefix + text);
            totalTokens += tokens[i].Length;
        }

        // Length bucketing: sorting by token count keeps texts of similar length in one batch, so little of each
        // batch is padding. Ties keep input order, which makes batch composition deterministic.
        var order = new int[tokens.Length];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, (a, b) => tokens[a].Length != tokens[b].Length ? tokens[a].Length.CompareTo(tokens[b].Length) : a.CompareTo(b));

        var vectors = new float[tokens.Length][];
        using (var runOptions = new RunOptions())
        using (cancellationToken.Register(static state => ((RunOptions)state!).Terminate = true, runOptions))
        {
            int batchSize = _options.BatchSize;
            for (int start = 0; start < order.Length; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var batch = order.AsSpan(start, Math.Min(batchSize, order.Length - start));
                try
                {
                    RunBatch(model, tokens, batch, vectors, runOptions);
                }
                catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException(cancellationToken);
                }
            }
        }

        var result = new GeneratedEmbeddings<Embedding<float>>(vectors.Length)
        {
            Usage = new UsageDetails { InputTokenCount = totalTokens, TotalTokenCount = totalTokens },
        };
        foreach (var vector in vectors)
        {
            result.Add(new Embedding<float>(vector) { ModelId = ModelId });
        }

        return result;
    }

    /// <summary>Embeds the texts at <paramref name="batch"/> (indices into <paramref name="tokens"/>) into <paramref name="vectors"/>.</summary>
    private void RunBatch(LoadedModel model, int[][] tokens, ReadOnlySpan<int> batch, float[][] vectors, RunOptions runOptions)
    {
        int rows = batch.Length;
        int sequence = 0;
        foreach (int index in batch)
        {
            sequence = Math.Max(sequence, tokens[index].Length);
        }

        int cells = rows * sequence;
        int dimensions = model.Dimensions;
        var schema = model.Schema;
        var ids = ArrayPool<long>.Shared.Rent(cells);
        var mask = ArrayPool<long>.Shared.Rent(cells);
        var types = model.HasTokenTypes ? ArrayPool<long>.Shared.Rent(cells) : null;
        var hidden = ArrayPool<float>.Shared.Rent(cells * dimensions);
        var inputs = new OrtValue[schema.InputNames.Length];
        OrtValue? output = null;
        try
        {
            long pad = model.Encoder.PadId;
            for (int row = 0; row < rows; row++)
            {
                var rowTokens = tokens[batch[row]];
                var rowIds = ids.AsSpan(row * sequence, sequence);
                var rowMask = mask.AsSpan(row * sequence, sequence);
                for (int t = 0; t < rowTokens.Length; t++)
                {
                    rowIds[t] = rowTokens[t];
                }

                rowIds[rowTokens.Length..].Fill(pad);
                rowMask[..rowTokens.Length].Fill(1);
                rowMask[rowTokens.Length..].Clear();
            }

            types?.AsSpan(0, cells).Clear();

            long[] shape = [rows, sequence];
            for (int i = 0; i < inputs.Length; i++)
            {
                var buffer = schema.InputKinds[i] switch
                {
                    BertInputKind.InputIds => ids,
                    BertInputKind.AttentionMask => mask,
                    _ => types!,
                };
                inputs[i] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffer.AsMemory(0, cells), shape);
            }

            output = OrtValue.CreateTensorValueFromMemory(
                OrtMemoryInfo.DefaultInstance, hidden.AsMemory(0, cells * dimensions), [rows, sequence, dimensions]);
            model.Session.Run(runOptions, schema.InputNames, inputs, model.OutputNames, [output]);

            // Mean pooling over the attention mask: the mask is 1 exactly on each row's first rowTokens.Length
            // positions, so the masked mean is the mean of those hidden states (the division is left to the
            // normalisation). CLS pooling takes the first position's state.
            bool cls = Pooling == OnnxPooling.Cls;
            for (int row = 0; row < rows; row++)
            {
                int length = cls ? 1 : tokens[batch[row]].Length;
                var vector = new float[dimensions];
                var states = hidden.AsSpan(row * sequence * dimensions, length * dimensions);
                for (int t = 0; t < length; t++)
                {
                    TensorPrimitives.Add(vector, states.Slice(t * dimensions, dimensions), vector);
                }

                float norm = TensorPrimitives.Norm(vector);
                if (norm > 0f)
                {
                    TensorPrimitives.Divide(vector, norm, vector);
                }

                vectors[batch[row]] = vector;
            }
        }
        finally
        {
            output?.Dispose();
            foreach (var input in inputs)
            {
                input?.Dispose();
            }

            ArrayPool<long>.Shared.Return(ids);
            ArrayPool<long>.Shared.Return(mask);
            if (types is not null)
            {
                ArrayPool<long>.Shared.Return(types);
            }

            ArrayPool<float>.Shared.Return(hidden);
        }
    }

    /// <summary>Finds the hidden size of a graph that leaves it symbolic by embedding the empty sequence once.</summary>
    private static int ProbeDimensions(InferenceSession session, BertOnnxSchema schema, BertInputEncoder encoder)
    {
        int[] empty = [encoder.ClsId, encoder.SepId];
        var inputs = new OrtValue[schema.InputNames.Length];
        try
        {
            for (int i = 0; i < inputs.Length; i++)
            {
                long[] data = schema.InputKinds[i] switch
                {
                    BertInputKind.InputIds => [empty[0], empty[1]],
                    BertInputKind.AttentionMask => [1, 1],
                    _ => [0, 0],
                };
                inputs[i] = OrtValue.CreateTensorValueFromMemory(data, [1, empty.Length]);
            }

            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, schema.InputNames, inputs, [schema.OutputName]);
            var shape = outputs[0].GetTensorTypeAndShape().Shape;
            return shape.Length == 3 && shape[2] > 0
                ? checked((int)shape[2])
                : throw new InvalidOperationException(
                    $"The ONNX model output '{schema.OutputName}' has shape [{string.Join(",", shape)}], not [batch, sequence, hidden].");
        }
        finally
        {
            foreach (var input in inputs)
            {
                input?.Dispose();
            }
        }
    }

    /// <summary>Where the model and its vocabulary come from.</summary>
    private sealed record ModelSource(string ModelId, string Name, string? ModelPath, string? VocabPath, BundledModel? Bundled);

    /// <summary>The loaded session and everything read from the model.</summary>
    private sealed class LoadedModel(
        InferenceSession session, BertInputEncoder encoder, BertOnnxSchema schema, int dimensions, string? quantizedPath)
    {
        public InferenceSession Session { get; } = session;

        public BertInputEncoder Encoder { get; } = encoder;

        public BertOnnxSchema Schema { get; } = schema;

        public string[] OutputNames { get; } = [schema.OutputName];

        public bool HasTokenTypes { get; } = schema.InputKinds.Contains(BertInputKind.TokenTypeIds);

        public int Dimensions { get; } = dimensions;

        public string? QuantizedPath { get; } = quantizedPath;
    }
}
