using System.Buffers;
using System.ComponentModel.DataAnnotations;
using System.Numerics.Tensors;
using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Tokenizers;
using ProductSimilarity.Core.Configuration;

using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Embeddings.Onnx;

/// <summary>
/// Sentence embeddings from a local BERT-style ONNX model (the bundled all-MiniLM-L6-v2 by default): WordPiece
/// tokenisation, one ONNX Runtime pass, mean pooling of <c>last_hidden_state</c> over the attention mask, then
/// L2 normalisation, so cosine similarity is a dot product.
/// </summary>
/// <remarks>
/// <para>
/// Thread-safe: one instance holds one <see cref="InferenceSession"/> and a read-only tokenizer, and any number of
/// <see cref="GenerateAsync"/> calls may run at once (each call rents its own buffers). Register it as a singleton;
/// loading the model is the expensive part. Disposing it while calls are in flight is not supported.
/// </para>
/// <para>
/// The work is CPU-bound and runs synchronously on the calling thread; the returned task is already complete.
/// Within one call, texts are sorted by token count and cut into batches of
/// <see cref="OnnxEmbeddingOptions.BatchSize"/>, so each batch pads only to its own longest text; results come
/// back in input order. Texts longer than <see cref="OnnxEmbeddingOptions.MaxTokens"/> are truncated
/// (<c>[CLS]</c> + first tokens + <c>[SEP]</c>), as sentence-transformers does.
/// </para>
/// </remarks>
public sealed class OnnxBertEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>, ITokenCoverage
{
    /// <summary>The provider name reported in <see cref="EmbeddingGeneratorMetadata"/>.</summary>
    public const string ProviderName = "onnx";

    /// <summary>The model id of the bundled model.</summary>
    public const string BundledModelId = BundledMiniLm.ModelId;

    private readonly InferenceSession _session;
    private readonly BertInputEncoder _encoder;
    private readonly BertOnnxSchema _schema;
    private readonly string[] _outputNames;
    private readonly int _batchSize;
    private readonly bool _hasTokenTypes;
    private readonly EmbeddingGeneratorMetadata _metadata;
    private int _disposed;

    private OnnxBertEmbeddingGenerator(
        InferenceSession session, BertInputEncoder encoder, BertOnnxSchema schema, string modelId, OnnxEmbeddingOptions options)
    {
        _session = session;
        _encoder = encoder;
        _schema = schema;
        _outputNames = [schema.OutputName];
        _batchSize = options.BatchSize;
        _hasTokenTypes = schema.InputKinds.Contains(BertInputKind.TokenTypeIds);
        ModelId = modelId;
        Dimensions = schema.HiddenSize > 0 ? schema.HiddenSize : ProbeDimensions();
        _metadata = new EmbeddingGeneratorMetadata(ProviderName, providerUri: null, modelId, Dimensions);
    }

    /// <summary>The suffix <see cref="ModelId"/> gets when the model runs quantised to int8.</summary>
    public const string Int8ModelIdSuffix = "-int8";

    /// <summary>
    /// The model id: <see cref="BundledModelId"/> for the bundled model, otherwise the file name of
    /// <see cref="OnnxEmbeddingOptions.ModelPath"/>; followed by <see cref="Int8ModelIdSuffix"/> with
    /// <see cref="OnnxQuantization.Int8"/>, so vectors of the two variants never pass for each other.
    /// </summary>
    public string ModelId { get; }

    /// <summary>The length of every vector this generator returns (384 for all-MiniLM-L6-v2).</summary>
    public int Dimensions { get; }

    /// <summary>Loads the model and vocabulary that <paramref name="options"/> name.</summary>
    /// <param name="options">
    /// With <see cref="OnnxEmbeddingOptions.ModelPath"/> unset, the bundled all-MiniLM-L6-v2. With it set, that
    /// ONNX file and <see cref="OnnxEmbeddingOptions.VocabPath"/> (default: <c>vocab.txt</c> beside the model); the
    /// vocabulary is read as an uncased BERT WordPiece vocabulary. With <see cref="OnnxEmbeddingOptions.Quantization"/>
    /// set to <see cref="OnnxQuantization.Int8"/>, the model is quantised in memory by <see cref="OnnxInt8Quantizer"/>
    /// before it is loaded (about 0.2 s for all-MiniLM-L6-v2, so nothing is cached on disk).
    /// </param>
    /// <exception cref="ValidationException">An option is out of its documented range.</exception>
    /// <exception cref="ArgumentException"><see cref="OnnxEmbeddingOptions.VocabPath"/> is set without a model path.</exception>
    /// <exception cref="FileNotFoundException">The model or vocabulary file does not exist; the message names the path.</exception>
    /// <exception cref="InvalidOperationException">
    /// The model is not a BERT-style encoder with a per-token output, or int8 quantisation was asked for and the model
    /// has no MatMul with constant float weights to quantise.
    /// </exception>
    public static OnnxBertEmbeddingGenerator Create(OnnxEmbeddingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true);

        string modelId;
        string modelName;
        byte[]? modelBytes = null;
        string? modelPath = null;
        BertTokenizer tokenizer;
        if (string.IsNullOrWhiteSpace(options.ModelPath))
        {
            if (!string.IsNullOrWhiteSpace(options.VocabPath))
            {
                throw new ArgumentException(
                    $"VocabPath '{options.VocabPath}' is set but ModelPath is not; a vocabulary only makes sense with the model it was trained for.",
                    nameof(options));
            }

            modelId = BundledMiniLm.ModelId;
            modelName = $"{BundledMiniLm.ModelId} (bundled)";
            using (var vocab = BundledMiniLm.OpenVocab())
            {
                tokenizer = BertInputEncoder.CreateUncasedTokenizer(vocab);
            }

            modelBytes = BundledMiniLm.ReadModel();
        }
        else
        {
            modelPath = Path.GetFullPath(options.ModelPath);
            var vocabPath = string.IsNullOrWhiteSpace(options.VocabPath)
                ? Path.Combine(Path.GetDirectoryName(modelPath) ?? ".", "vocab.txt")
                : Path.GetFullPath(options.VocabPath);
            if (!File.Exists(modelPath))
            {
                throw new FileNotFoundException($"The ONNX embedding model '{modelPath}' (ProductSimilarity:Embeddings:Onnx:ModelPath) does not exist.", modelPath);
            }

            if (!File.Exists(vocabPath))
            {
                throw new FileNotFoundException(
                    $"The WordPiece vocabulary '{vocabPath}' (ProductSimilarity:Embeddings:Onnx:VocabPath) for model '{modelPath}' does not exist.", vocabPath);
            }

            modelId = Path.GetFileName(modelPath);
            modelName = modelPath;
            using var vocab = File.OpenRead(vocabPath);
            tokenizer = BertInputEncoder.CreateUncasedTokenizer(vocab);
        }

        if (options.Quantization == OnnxQuantization.Int8)
        {
            modelBytes = QuantizeInt8(modelBytes ?? File.ReadAllBytes(modelPath!), modelName);
            modelId += Int8ModelIdSuffix;
            modelName += " (int8)";
        }
        else if (options.Quantization != OnnxQuantization.None)
        {
            throw new ArgumentException($"Quantization '{options.Quantization}' is not supported; use None or Int8.", nameof(options));
        }

        InferenceSession session;
        using (var sessionOptions = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL })
        {
            if (options.Threads > 0)
            {
                sessionOptions.IntraOpNumThreads = options.Threads;
            }

            try
            {
                session = modelBytes is not null
                    ? new InferenceSession(modelBytes, sessionOptions)
                    : new InferenceSession(modelPath!, sessionOptions);
            }
            catch (OnnxRuntimeException ex)
            {
                throw new InvalidOperationException($"ONNX Runtime could not load the embedding model '{modelName}': {ex.Message}", ex);
            }
        }

        try
        {
            var schema = BertOnnxSchema.Read(session, modelName);
            return new OnnxBertEmbeddingGenerator(session, new BertInputEncoder(tokenizer, options.MaxTokens), schema, modelId, options);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static byte[] QuantizeInt8(byte[] model, string modelName)
    {
        byte[] quantized;
        int nodes;
        try
        {
            quantized = OnnxInt8Quantizer.Quantize(model, out nodes);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidOperationException($"The embedding model '{modelName}' could not be quantised to int8: {ex.Message}", ex);
        }

        return nodes > 0
            ? quantized
            : throw new InvalidOperationException(
                $"The embedding model '{modelName}' has no MatMul with constant float weights to quantise to int8; " +
                "set ProductSimilarity:Embeddings:Onnx:Quantization to None.");
    }

    /// <inheritdoc/>
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (options?.Dimensions is int requested && requested != Dimensions)
        {
            throw new NotSupportedException(
                $"Model '{ModelId}' produces {Dimensions}-dimensional embeddings; {requested} dimensions were requested.");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<GeneratedEmbeddings<Embedding<float>>>(cancellationToken);
        }

        try
        {
            return Task.FromResult(Generate(values, cancellationToken));
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
        return _encoder.UnknownShare(text);
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _session.Dispose();
        }
    }

    private GeneratedEmbeddings<Embedding<float>> Generate(IEnumerable<string> values, CancellationToken cancellationToken)
    {
        var texts = values as IReadOnlyList<string> ?? [.. values];
        var tokens = new int[texts.Count][];
        long totalTokens = 0;
        for (int i = 0; i < tokens.Length; i++)
        {
            var text = texts[i] ?? throw new ArgumentException($"Text {i} is null.", nameof(values));
            tokens[i] = _encoder.Encode(text);
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
            for (int start = 0; start < order.Length; start += _batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var batch = order.AsSpan(start, Math.Min(_batchSize, order.Length - start));
                try
                {
                    RunBatch(tokens, batch, vectors, runOptions);
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
    private void RunBatch(int[][] tokens, ReadOnlySpan<int> batch, float[][] vectors, RunOptions runOptions)
    {
        int rows = batch.Length;
        int sequence = 0;
        foreach (int index in batch)
        {
            sequence = Math.Max(sequence, tokens[index].Length);
        }

        int cells = rows * sequence;
        int dimensions = Dimensions;
        var ids = ArrayPool<long>.Shared.Rent(cells);
        var mask = ArrayPool<long>.Shared.Rent(cells);
        var types = _hasTokenTypes ? ArrayPool<long>.Shared.Rent(cells) : null;
        var hidden = ArrayPool<float>.Shared.Rent(cells * dimensions);
        var inputs = new OrtValue[_schema.InputNames.Length];
        OrtValue? output = null;
        try
        {
            long pad = _encoder.PadId;
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
                var buffer = _schema.InputKinds[i] switch
                {
                    BertInputKind.InputIds => ids,
                    BertInputKind.AttentionMask => mask,
                    _ => types!,
                };
                inputs[i] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffer.AsMemory(0, cells), shape);
            }

            output = OrtValue.CreateTensorValueFromMemory(
                OrtMemoryInfo.DefaultInstance, hidden.AsMemory(0, cells * dimensions), [rows, sequence, dimensions]);
            _session.Run(runOptions, _schema.InputNames, inputs, _outputNames, [output]);

            // Mean pooling over the attention mask: the mask is 1 exactly on each row's first rowTokens.Length
            // positions, so the masked mean is the mean of those hidden states.
            for (int row = 0; row < rows; row++)
            {
                int length = tokens[batch[row]].Length;
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
    private int ProbeDimensions()
    {
        int[] empty = [_encoder.ClsId, _encoder.SepId];
        var inputs = new OrtValue[_schema.InputNames.Length];
        try
        {
            for (int i = 0; i < inputs.Length; i++)
            {
                long[] data = _schema.InputKinds[i] switch
                {
                    BertInputKind.InputIds => [empty[0], empty[1]],
                    BertInputKind.AttentionMask => [1, 1],
                    _ => [0, 0],
                };
                inputs[i] = OrtValue.CreateTensorValueFromMemory(data, [1, empty.Length]);
            }

            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, _schema.InputNames, inputs, _outputNames);
            var shape = outputs[0].GetTensorTypeAndShape().Shape;
            return shape.Length == 3 && shape[2] > 0
                ? checked((int)shape[2])
                : throw new InvalidOperationException(
                    $"The ONNX model output '{_schema.OutputName}' has shape [{string.Join(",", shape)}], not [batch, sequence, hidden].");
        }
        finally
        {
            foreach (var input in inputs)
            {
                input?.Dispose();
            }
        }
    }
}
