using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.AI;
using ProductSimilarity.Api.Ingestion;
using ProductSimilarity.Functions.Tests.Infrastructure;

namespace ProductSimilarity.Functions.Tests;

/// <summary>
/// Faults in the blob-triggered ingestion, against a real Azurite: a run that fails half-way and is re-invoked (also by
/// a restarted host over the same index), Event Grid re-deliveries, poison blobs that fail MaxAttempts times, and blob
/// names that try to write outside the status and error containers.
/// </summary>
[Collection(OnnxCollection.Name)]
public sealed class IngestionFaultTests(OnnxGeneratorFixture onnx, AzuriteFixture azurite)
    : IClassFixture<AzuriteFixture>, IAsyncLifetime
{
    private readonly string _prefix = "f" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _indexFolder = Path.Combine(Path.GetTempPath(), "psim-functions-tests", Guid.NewGuid().ToString("N"));
    private BlobContainerClient _catalogs = null!;

    public async Task InitializeAsync()
    {
        _catalogs = azurite.ServiceClient.GetBlobContainerClient("catalogs");
        await _catalogs.CreateIfNotExistsAsync();
    }

    public Task DisposeAsync()
    {
        if (Directory.Exists(_indexFolder))
        {
            Directory.Delete(_indexFolder, recursive: true);
        }

        return Task.CompletedTask;
    }

    [Fact]
    public async Task IngestCatalog_FailsAfterTwoBatchesThenHostRestarts_RerunFinishesWithoutDuplicates()
    {
        var blob = await UploadAsync($"{_prefix}/catalog.csv", await File.ReadAllBytesAsync(TestPaths.TestData("catalog.csv")));
        var faulty = new FaultyEmbeddingGenerator(onnx.Generator) { FailFromCall = 3 };
        await using (var first = Host(faulty))
        {
            var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => first.IngestionFunction.IngestCatalog(blob, blob.Name, default));
            Assert.Contains("injected", ex.Message, StringComparison.Ordinal);
            Assert.Equal(4, await first.Index.CountAsync()); // two committed batches of two survive
            var status = await StatusAsync(blob.Name);
            Assert.Equal("failed", status.GetProperty("status").GetString());
            Assert.Equal(1, status.GetProperty("attempts").GetInt32());
            Assert.False(status.GetProperty("final").GetBoolean());
        }

        // The host restarts (a new process over the same index) and Event Grid re-delivers the event.
        await using var second = Host(new FaultyEmbeddingGenerator(onnx.Generator));
        await second.IngestionFunction.IngestCatalog(blob, blob.Name, default);

        var done = await StatusAsync(blob.Name);
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        Assert.Equal(2, done.GetProperty("attempts").GetInt32());
        Assert.Equal(4, done.GetProperty("summary").GetProperty("unchanged").GetInt64());
        Assert.Equal(4, done.GetProperty("summary").GetProperty("embedded").GetInt64());
        Assert.Equal(8, await second.Index.CountAsync());
        Assert.Equal(4, second.Generator.Inputs);

        // A further re-delivery of the same ETag does no work at all.
        await second.IngestionFunction.IngestCatalog(blob, blob.Name, default);
        Assert.Equal(4, second.Generator.Inputs);
        Assert.Equal(8, await second.Index.CountAsync());
    }

    [Fact]
    public async Task IngestCatalog_FailsMaxAttemptsTimes_FinalFailedStatusAndNoMoreRetriesUntilReuploaded()
    {
        var content = await File.ReadAllBytesAsync(TestPaths.TestData("catalog.csv"));
        var blob = await UploadAsync($"{_prefix}/poison.csv", content);
        var faulty = new FaultyEmbeddingGenerator(onnx.Generator) { FailFromCall = 1 };
        await using var host = Host(faulty, maxAttempts: 3);

        await Assert.ThrowsAsync<InvalidOperationException>(() => host.IngestionFunction.IngestCatalog(blob, blob.Name, default));
        await Assert.ThrowsAsync<InvalidOperationException>(() => host.IngestionFunction.IngestCatalog(blob, blob.Name, default));
        await host.IngestionFunction.IngestCatalog(blob, blob.Name, default); // the last attempt: recorded, not thrown

        var status = await StatusAsync(blob.Name);
        Assert.Equal("failed", status.GetProperty("status").GetString());
        Assert.True(status.GetProperty("final").GetBoolean());
        Assert.Equal(3, status.GetProperty("attempts").GetInt32());
        Assert.Contains("injected failure", status.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains(host.Logs.GetSnapshot(), r => r.Message.Contains("the last one", StringComparison.Ordinal));

        // Re-deliveries of the poisoned version do nothing: the generator is not even called.
        var calls = faulty.Calls;
        await host.IngestionFunction.IngestCatalog(blob, blob.Name, default);
        Assert.Equal(calls, faulty.Calls);
        Assert.Equal(3, (await StatusAsync(blob.Name)).GetProperty("attempts").GetInt32());

        // Uploading it again (a new ETag) starts over.
        faulty.FailFromCall = 0;
        blob = await UploadAsync(blob.Name, content);
        await host.IngestionFunction.IngestCatalog(blob, blob.Name, default);
        var after = await StatusAsync(blob.Name);
        Assert.Equal("succeeded", after.GetProperty("status").GetString());
        Assert.Equal(1, after.GetProperty("attempts").GetInt32());
        Assert.Equal(8, await host.Index.CountAsync());
    }

    [Fact]
    public async Task IngestCatalog_ProcessDiedWhileRunning_CountsAsAnAttempt()
    {
        var blob = await UploadAsync($"{_prefix}/died.csv", await File.ReadAllBytesAsync(TestPaths.TestData("catalog.csv")));
        var properties = (await blob.GetPropertiesAsync()).Value;
        var statusBlob = azurite.ServiceClient.GetBlobContainerClient("catalog-status").GetBlobClient(blob.Name + ".json");
        await azurite.ServiceClient.GetBlobContainerClient("catalog-status").CreateIfNotExistsAsync();
        var running = new CatalogIngestionStatus
        {
            Blob = blob.Name,
            Container = "catalogs",
            ETag = properties.ETag.ToString(),
            Status = IngestionRunState.Running,
            Attempts = 2,
        };
        await statusBlob.UploadAsync(new BinaryData(JsonSerializer.SerializeToUtf8Bytes(running, CatalogIngestionStatus.JsonOptions)), overwrite: true);
        await using var host = Host(new FaultyEmbeddingGenerator(onnx.Generator));

        await host.IngestionFunction.IngestCatalog(blob, blob.Name, default);

        var status = await StatusAsync(blob.Name);
        Assert.Equal("succeeded", status.GetProperty("status").GetString());
        Assert.Equal(3, status.GetProperty("attempts").GetInt32());
    }

    [Theory]
    [InlineData("../catalogs/evil.csv")]
    [InlineData("a/../../catalogs/evil.csv")]
    [InlineData("./x.csv")]
    [InlineData("a\\..\\..\\catalogs\\evil.csv")]
    [InlineData("a//b.csv")]
    [InlineData("ctl\u0001.csv")]
    [InlineData("/rooted.csv")]
    public void SafeBlobName_EscapingNames_HashedUnderUnsafePrefix(string name)
    {
        var safe = BlobCatalogIngestor.SafeBlobName(name, BlobCatalogIngestor.StatusSuffix);

        Assert.StartsWith("_unsafe/", safe, StringComparison.Ordinal);
        Assert.EndsWith(".json", safe, StringComparison.Ordinal);
        var container = azurite.ServiceClient.GetBlobContainerClient("catalog-status");
        Assert.StartsWith(container.Uri.AbsoluteUri + "/_unsafe/", container.GetBlobClient(safe).Uri.AbsoluteUri, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("shop/catalog.csv")]
    [InlineData("2026-11/目录 final (1).csv.gz")]
    [InlineData("a..b/c...csv")]
    public void SafeBlobName_OrdinaryNames_KeptAsTheyAre(string name) =>
        Assert.Equal(name + ".errors.jsonl", BlobCatalogIngestor.SafeBlobName(name, BlobCatalogIngestor.ErrorReportSuffix));

    [Fact]
    public async Task IngestCatalog_VeryLongName_StatusWrittenUnderUnsafePrefixNamingTheBlob()
    {
        var name = $"{_prefix}/" + new string('n', 1010) + ".csv";
        var blob = await UploadAsync(name, await File.ReadAllBytesAsync(TestPaths.TestData("catalog.csv")));
        await using var host = Host(new FaultyEmbeddingGenerator(onnx.Generator));

        await host.IngestionFunction.IngestCatalog(blob, blob.Name, default);

        var statusName = BlobCatalogIngestor.SafeBlobName(name, BlobCatalogIngestor.StatusSuffix);
        Assert.StartsWith("_unsafe/", statusName, StringComparison.Ordinal);
        var status = await ReadJsonAsync("catalog-status", statusName);
        Assert.Equal(name, status.GetProperty("blob").GetString());
        Assert.Equal("succeeded", status.GetProperty("status").GetString());
        Assert.StartsWith("catalog-errors/_unsafe/", status.GetProperty("errorReport").GetString(), StringComparison.Ordinal);
    }

    private FunctionsTestHost Host(FaultyEmbeddingGenerator generator, int maxAttempts = 5) =>
        FunctionsTestHost.Create(generator, new Dictionary<string, string?>
        {
            ["ProductSimilarity:Index:Local:Path"] = _indexFolder,
            ["ProductSimilarity:Ingestion:BatchSize"] = "2",
            ["ProductSimilarity:Ingestion:CommitEvery"] = "1",
            ["ProductSimilarity:Ingestion:MaxAttempts"] = maxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

    private async Task<BlobClient> UploadAsync(string name, byte[] content)
    {
        var blob = _catalogs.GetBlobClient(name);
        await blob.UploadAsync(new BinaryData(content), new BlobUploadOptions());
        return blob;
    }

    private Task<JsonElement> StatusAsync(string blobName) => ReadJsonAsync("catalog-status", blobName + ".json");

    private async Task<JsonElement> ReadJsonAsync(string container, string name)
    {
        var content = await azurite.ServiceClient.GetBlobContainerClient(container).GetBlobClient(name).DownloadContentAsync();
        return JsonDocument.Parse(content.Value.Content.ToString()).RootElement;
    }

    /// <summary>Throws on every call from <see cref="FailFromCall"/> on (1-based; 0 never fails).</summary>
    private sealed class FaultyEmbeddingGenerator(IEmbeddingGenerator<string, Embedding<float>> inner)
        : DelegatingEmbeddingGenerator<string, Embedding<float>>(inner)
    {
        private int _calls;

        public int FailFromCall { get; set; }

        public int Calls => Volatile.Read(ref _calls);

        public override Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
            IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            var call = Interlocked.Increment(ref _calls);
            if (FailFromCall > 0 && call >= FailFromCall)
            {
                throw new InvalidOperationException($"injected failure on embedding call {call}");
            }

            return base.GenerateAsync(values, options, cancellationToken);
        }

        protected override void Dispose(bool disposing)
        {
            // The inner generator belongs to the collection fixture.
        }
    }
}
