using System.Security.Cryptography;
using ProductSimilarity.Core.Configuration;

namespace ProductSimilarity.Embeddings.Onnx;

/// <summary>
/// Int8 models on disk, keyed by the hash of the fp32 model and the scheme, so a model is quantised once per machine
/// kind and a changed or fine-tuned model never reuses a stale file.
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

    /// <summary>The cache key of <paramref name="fp32Model"/> under <paramref name="scheme"/>: 16 hex digits of its SHA-256 and the quantiser version.</summary>
    public static string Key(ReadOnlySpan<byte> fp32Model, OnnxInt8Scheme scheme)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(fp32Model, hash);
        return $"{Int8SchemeSelector.ModelIdSuffix(scheme)[1..]}.v{QuantizerVersion}.{Convert.ToHexStringLower(hash[..8])}";
    }

    /// <summary>
    /// Returns the int8 form of <paramref name="fp32Model"/>: read from the cache when present, else quantised and stored.
    /// </summary>
    /// <param name="fp32Model">The fp32 model bytes.</param>
    /// <param name="scheme">A concrete scheme.</param>
    /// <param name="modelPath">The model file, or null for a bundled model.</param>
    /// <param name="baseName">The file name stem for the cached file (e.g. the model id).</param>
    /// <param name="cacheDirectory">The configured cache folder, or null for <see cref="DefaultDirectory"/>.</param>
    /// <param name="modelName">The model as named in error messages.</param>
    /// <returns>The int8 model and the file it is cached in (null when no folder could be written: it then lives in memory only).</returns>
    /// <exception cref="InvalidOperationException">The model cannot be quantised (not ONNX, or no MatMul with constant weights).</exception>
    public static (byte[] Model, string? CachedPath) GetOrCreate(
        byte[] fp32Model, OnnxInt8Scheme scheme, string? modelPath, string baseName, string? cacheDirectory, string modelName)
    {
        ArgumentNullException.ThrowIfNull(fp32Model);
        var fileName = $"{Sanitize(baseName)}.{Key(fp32Model, scheme)}.onnx";
        var candidates = new List<string>(2);
        if (modelPath is not null && Path.GetDirectoryName(Path.GetFullPath(modelPath)) is { } modelDirectory)
        {
            candidates.Add(Path.Combine(modelDirectory, fileName));
        }

        candidates.Add(Path.Combine(string.IsNullOrWhiteSpace(cacheDirectory) ? DefaultDirectory : Path.GetFullPath(cacheDirectory), fileName));
        foreach (var candidate in candidates)
        {
            if (TryRead(candidate) is { } cached)
            {
                return (cached, candidate);
            }
        }

        var quantised = Quantize(fp32Model, scheme, modelName);
        foreach (var candidate in candidates)
        {
            if (TryWrite(candidate, quantised))
            {
                return (quantised, candidate);
            }
        }

        return (quantised, null);
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

    private static byte[]? TryRead(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllBytes(path) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool TryWrite(string path, byte[] bytes)
    {
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(temporary, bytes);
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
