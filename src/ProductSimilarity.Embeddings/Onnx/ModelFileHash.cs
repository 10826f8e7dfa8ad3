using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ProductSimilarity.Embeddings.Onnx;

/// <summary>
/// The short content hash that names a model file in its model id (<c>model.onnx@1a2b3c4d5e6f</c>), so two different
/// files with the same name, such as two fine-tuned <c>model.onnx</c>, never pass for each other in an index.
/// </summary>
/// <remarks>
/// <para>
/// The hash is the first 12 hex digits of the file's SHA-256. Hashing a 90 MB model costs a fraction of a second, so
/// it is done once per file version: the result is kept in memory and in a small stamp file in the model cache folder,
/// both keyed by the full path, length and last-write time; a changed file is hashed again.
/// </para>
/// <para>Thread-safe.</para>
/// </remarks>
public static class ModelFileHash
{
    /// <summary>Hex digits of the SHA-256 kept in the model id.</summary>
    public const int Length = 12;

    private static readonly ConcurrentDictionary<(string Path, long Length, long Ticks), string> Known = new();

    /// <summary>The short hash of the file at <paramref name="modelPath"/>.</summary>
    /// <param name="modelPath">The model file.</param>
    /// <param name="cacheDirectory">The configured cache folder, or null for <see cref="QuantizedModelCache.DefaultDirectory"/>.</param>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static string Of(string modelPath, string? cacheDirectory = null)
    {
        var file = new FileInfo(Path.GetFullPath(modelPath));
        var key = (file.FullName, file.Length, file.LastWriteTimeUtc.Ticks);
        return Known.GetOrAdd(key, k =>
        {
            var stampPath = StampPath(k.Path, cacheDirectory);
            var stamp = string.Create(CultureInfo.InvariantCulture, $"{k.Length} {k.Ticks} ");
            if (TryReadStamp(stampPath) is { } line && line.StartsWith(stamp, StringComparison.Ordinal) && line.Length == stamp.Length + Length)
            {
                return line[stamp.Length..];
            }

            string hash;
            using (var stream = new FileStream(k.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
            {
                hash = Convert.ToHexStringLower(SHA256.HashData(stream))[..Length];
            }

            TryWriteStamp(stampPath, stamp + hash);
            return hash;
        });
    }

    private static string StampPath(string modelPath, string? cacheDirectory)
    {
        var name = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(modelPath)))[..16];
        var folder = string.IsNullOrWhiteSpace(cacheDirectory) ? QuantizedModelCache.DefaultDirectory : Path.GetFullPath(cacheDirectory);
        return Path.Combine(folder, "hashes", name + ".txt");
    }

    private static string? TryReadStamp(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void TryWriteStamp(string path, string line)
    {
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(temporary, line);
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: without a stamp the next process hashes the file again.
            try
            {
                File.Delete(temporary);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // The folder refused the write, so it may refuse the delete too.
            }
        }
    }
}
