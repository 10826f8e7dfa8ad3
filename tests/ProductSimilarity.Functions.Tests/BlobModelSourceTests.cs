using System.Text;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Embeddings.Onnx;
using ProductSimilarity.Functions.Tests.Infrastructure;

namespace ProductSimilarity.Functions.Tests;

/// <summary>The Functions app reading its model from the <c>models</c> container, against a real Azurite.</summary>
public sealed class BlobModelSourceTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>, IAsyncLifetime
{
    private readonly string _prefix = "m" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _cache = Path.Combine(Path.GetTempPath(), "psim-functions-tests", Guid.NewGuid().ToString("N"));
    private BlobContainerClient _models = null!;

    public async Task InitializeAsync()
    {
        _models = azurite.ServiceClient.GetBlobContainerClient("models");
        await _models.CreateIfNotExistsAsync();
    }

    public Task DisposeAsync()
    {
        if (Directory.Exists(_cache))
        {
            Directory.Delete(_cache, recursive: true);
        }

        return Task.CompletedTask;
    }

    [Fact]
    public async Task ApplyAsync_ModelBlobUrl_DownloadsTheFolderAndPointsModelPathAtTheLocalCopy()
    {
        var model = BundledModel.MiniLm.ReadModel();
        string vocab;
        using (var reader = new StreamReader(BundledModel.MiniLm.OpenVocab()))
        {
            vocab = await reader.ReadToEndAsync();
        }

        await Upload("model.onnx", model);
        await Upload("vocab.txt", Encoding.UTF8.GetBytes(vocab));
        await Upload("model-card.json", Encoding.UTF8.GetBytes("{\"kind\":\"fine-tuned\"}"));
        var configuration = new ConfigurationManager();
        configuration[BlobModelSource.BlobUrlKey] = $"https://example.blob.core.windows.net/models/{_prefix}/";
        configuration["ProductSimilarity:Embeddings:Onnx:CacheDirectory"] = _cache;
        var asked = new List<Uri>();

        var local = await BlobModelSource.ApplyAsync(configuration, uri =>
        {
            asked.Add(uri);
            return _models;
        });

        Assert.Equal([new Uri("https://example.blob.core.windows.net/models")], asked.Select(u => new Uri(u.AbsoluteUri.TrimEnd('/'))));
        Assert.Equal(local, configuration[BlobModelSource.ModelPathKey]);
        Assert.StartsWith(Path.Combine(_cache, "blob-models"), local, StringComparison.Ordinal);
        Assert.Equal(model, await File.ReadAllBytesAsync(local!));
        var folder = Path.GetDirectoryName(local)!;
        Assert.Equal(vocab, await File.ReadAllTextAsync(Path.Combine(folder, "vocab.txt")));
        Assert.True(File.Exists(Path.Combine(folder, "model-card.json")));
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));

        // The copy serves like any ModelPath model: named by its content.
        using var generator = OnnxBertEmbeddingGenerator.Create(new OnnxEmbeddingOptions { ModelPath = configuration[BlobModelSource.ModelPathKey], Quantization = OnnxQuantization.None, CacheDirectory = _cache });
        Assert.Equal($"model.onnx@{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(model))[..12]}", generator.ModelId);
    }

    [Fact]
    public async Task DownloadAsync_UnchangedBlob_KeepsTheLocalCopyAndAChangedBlobReplacesIt()
    {
        await Upload("model.onnx", [1, 2, 3]);
        await Upload("tokenizer.json", Encoding.UTF8.GetBytes("{}"));
        var local = await BlobModelSource.DownloadAsync(_models, _prefix, _cache);
        var firstWrite = File.GetLastWriteTimeUtc(local);
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(local)!, "model-card.json")));

        // A restarted instance with the blob unchanged downloads nothing (a marker written into the copy survives).
        await File.WriteAllBytesAsync(local, [1, 2, 3]);
        File.SetLastWriteTimeUtc(local, firstWrite.AddHours(-1));
        Assert.Equal(local, await BlobModelSource.DownloadAsync(_models, _prefix, _cache));
        Assert.Equal(firstWrite.AddHours(-1), File.GetLastWriteTimeUtc(local));

        // A new model uploaded under the same name is fetched again.
        await Upload("model.onnx", [4, 5, 6, 7]);
        Assert.Equal(local, await BlobModelSource.DownloadAsync(_models, _prefix + "/", _cache));
        Assert.Equal([4, 5, 6, 7], await File.ReadAllBytesAsync(local));
    }

    [Fact]
    public async Task DownloadAsync_NoModelOrNoVocabulary_ThrowsNamingTheFolder()
    {
        var missing = await Assert.ThrowsAsync<InvalidOperationException>(() => BlobModelSource.DownloadAsync(_models, _prefix, _cache));
        Assert.Contains($"no model.onnx at {_models.Uri.AbsoluteUri}/{_prefix}/", missing.Message, StringComparison.Ordinal);
        Assert.Contains("Storage Blob Data Reader", missing.Message, StringComparison.Ordinal);

        await Upload("model.onnx", [1]);
        var noVocab = await Assert.ThrowsAsync<InvalidOperationException>(() => BlobModelSource.DownloadAsync(_models, _prefix, _cache));
        Assert.Contains("neither vocab.txt nor tokenizer.json", noVocab.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyAsync_NoSettingOrABadUrl_DoesNothingOrSaysWhatIsExpected()
    {
        var configuration = new ConfigurationManager();
        Assert.Null(await BlobModelSource.ApplyAsync(configuration, _ => throw new InvalidOperationException("must not connect")));
        Assert.Null(configuration[BlobModelSource.ModelPathKey]);

        configuration[BlobModelSource.BlobUrlKey] = "models/my-model";
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => BlobModelSource.ApplyAsync(configuration, _ => _models));
        Assert.Contains("is not a blob folder URL", ex.Message, StringComparison.Ordinal);
    }

    private Task Upload(string file, byte[] bytes) => _models.GetBlobClient($"{_prefix}/{file}").UploadAsync(new BinaryData(bytes), overwrite: true);
}
