using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Identity;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;

namespace ProductSimilarity.Functions;

/// <summary>
/// Serves an embedding model kept in blob storage: at start-up, when
/// <c>ProductSimilarity:Embeddings:Onnx:ModelBlobUrl</c> names a folder such as
/// <c>https://ACCOUNT.blob.core.windows.net/models/shoes-2026-11/</c>, the app downloads <c>model.onnx</c>, its
/// vocabulary (<c>vocab.txt</c> or <c>tokenizer.json</c>) and <c>model-card.json</c> into a local cache and points
/// <c>ProductSimilarity:Embeddings:Onnx:ModelPath</c> at the local copy. Without the setting nothing happens, and the
/// model comes from <c>ModelPath</c> (for instance a file in the deployment package) or is the bundled one.
/// </summary>
/// <remarks>
/// Each file is downloaded to a temporary name and renamed, and its ETag is kept beside it, so an instance that
/// restarts reuses its copy while the blob is unchanged and a half-written file is never taken for a model. Not
/// thread-safe for two calls into the same cache folder at once (the host calls it once, before it starts).
/// </remarks>
internal static class BlobModelSource
{
    /// <summary>The setting that names the model folder in blob storage.</summary>
    public const string BlobUrlKey = "ProductSimilarity:Embeddings:Onnx:ModelBlobUrl";

    /// <summary>The setting the local copy is written to.</summary>
    public const string ModelPathKey = "ProductSimilarity:Embeddings:Onnx:ModelPath";

    private const string CacheDirectoryKey = "ProductSimilarity:Embeddings:Onnx:CacheDirectory";
    private const string ModelFile = "model.onnx";
    private static readonly string[] VocabularyFiles = ["vocab.txt", "tokenizer.json"];
    private const string CardFile = "model-card.json";

    /// <summary>
    /// Downloads the model that <see cref="BlobUrlKey"/> names, if any, and sets <see cref="ModelPathKey"/> to it.
    /// </summary>
    /// <param name="configuration">The host configuration; read, and written when a model is downloaded.</param>
    /// <param name="containerFor">The client for a container URL; default: the app's managed identity (<c>DefaultAzureCredential</c>, which reads <c>AZURE_CLIENT_ID</c>).</param>
    /// <param name="cancellationToken">Stops the download.</param>
    /// <returns>The local model path, or null when no blob is configured.</returns>
    /// <exception cref="InvalidOperationException">The URL is not a blob folder URL, or the folder lacks the model or its vocabulary.</exception>
    public static async Task<string?> ApplyAsync(IConfiguration configuration, Func<Uri, BlobContainerClient>? containerFor = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var setting = configuration[BlobUrlKey];
        if (string.IsNullOrWhiteSpace(setting))
        {
            return null;
        }

        if (!Uri.TryCreate(setting.Trim(), UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http"))
        {
            throw new InvalidOperationException($"{BlobUrlKey} '{setting}' is not a blob folder URL such as https://ACCOUNT.blob.core.windows.net/models/my-model/.");
        }

        var parts = new BlobUriBuilder(url);
        if (string.IsNullOrEmpty(parts.BlobContainerName))
        {
            throw new InvalidOperationException($"{BlobUrlKey} '{setting}' names no container; expected https://ACCOUNT.blob.core.windows.net/models/my-model/.");
        }

        var prefix = parts.BlobName ?? string.Empty;
        parts.BlobName = string.Empty;
        var containerUrl = parts.ToUri();
        var container = containerFor is not null ? containerFor(containerUrl) : new BlobContainerClient(containerUrl, new DefaultAzureCredential());
        var cacheRoot = configuration[CacheDirectoryKey] is { Length: > 0 } configured
            ? Path.Combine(Path.GetFullPath(configured), "blob-models")
            : Path.Combine(Path.GetTempPath(), "psim", "blob-models");
        var local = await DownloadAsync(container, prefix, cacheRoot, cancellationToken).ConfigureAwait(false);
        configuration[ModelPathKey] = local;
        return local;
    }

    /// <summary>
    /// Copies the model folder <paramref name="prefix"/> of <paramref name="container"/> into a folder of
    /// <paramref name="cacheRoot"/> (one per container and prefix), skipping files whose blob is unchanged.
    /// </summary>
    /// <returns>The local <c>model.onnx</c>.</returns>
    /// <exception cref="InvalidOperationException">The folder lacks <c>model.onnx</c>, or has neither <c>vocab.txt</c> nor <c>tokenizer.json</c>.</exception>
    public static async Task<string> DownloadAsync(BlobContainerClient container, string prefix, string cacheRoot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.Length > 0 && !prefix.EndsWith('/'))
        {
            prefix += "/";
        }

        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{container.Uri.AbsoluteUri}|{prefix}")))[..16];
        var folder = Path.Combine(cacheRoot, key);
        Directory.CreateDirectory(folder);

        var where = $"{container.Uri.AbsoluteUri.TrimEnd('/')}/{prefix}";
        if (!await TryDownloadAsync(container, prefix, ModelFile, folder, cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException($"{BlobUrlKey}: there is no {ModelFile} at {where} (or the app's identity may not read it: it needs Storage Blob Data Reader on the container).");
        }

        bool vocabulary = false;
        foreach (var file in VocabularyFiles)
        {
            vocabulary |= await TryDownloadAsync(container, prefix, file, folder, cancellationToken).ConfigureAwait(false);
        }

        if (!vocabulary)
        {
            throw new InvalidOperationException($"{BlobUrlKey}: {where} has {ModelFile} but neither vocab.txt nor tokenizer.json beside it.");
        }

        await TryDownloadAsync(container, prefix, CardFile, folder, cancellationToken).ConfigureAwait(false);
        return Path.Combine(folder, ModelFile);
    }

    /// <summary>Downloads one file unless the local copy has the blob's ETag; false (and no local file) when the blob does not exist.</summary>
    private static async Task<bool> TryDownloadAsync(BlobContainerClient container, string prefix, string file, string folder, CancellationToken cancellationToken)
    {
        var blob = container.GetBlobClient(prefix + file);
        var local = Path.Combine(folder, file);
        var etagPath = local + ".etag";
        ETag etag;
        try
        {
            etag = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value.ETag;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            File.Delete(local);
            File.Delete(etagPath);
            return false;
        }

        if (File.Exists(local) && File.Exists(etagPath) && await File.ReadAllTextAsync(etagPath, cancellationToken).ConfigureAwait(false) == etag.ToString())
        {
            return true;
        }

        var temporary = $"{local}.{Guid.NewGuid():N}.tmp";
        try
        {
            // Download the version whose ETag was read, so the file and the ETag kept beside it always agree.
            await blob.DownloadToAsync(temporary, new Azure.Storage.Blobs.Models.BlobDownloadToOptions { Conditions = new() { IfMatch = etag } }, cancellationToken).ConfigureAwait(false);
            File.Delete(etagPath);
            File.Move(temporary, local, overwrite: true);
            await File.WriteAllTextAsync(etagPath, etag.ToString(), cancellationToken).ConfigureAwait(false);
            return true;
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
