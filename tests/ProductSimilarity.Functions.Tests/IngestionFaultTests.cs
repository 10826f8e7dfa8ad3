using System.Numerics.Tensors;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.AI;
using ProductSimilarity.Api.Ingestion;
using ProductSimilarity.Core.Indexing;
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

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, true)]
    public async Task IngestCatalog_FailsAfterNBatchesThenReinvoked_IndexHoldsExactlyWhatAnUninterruptedRunWrites(int batches, bool restartHost)
    {
        // The reference: the same catalog, uninterrupted, into its own index.
        var content = await File.ReadAllBytesAsync(TestPaths.TestData("catalog.csv"));
        var referenceBlob = await UploadAsync($"{_prefix}/reference.csv", content);
        var referenceFolder = _indexFolder + "-reference";
        Dictionary<string, (string Title, string Hash, float[] Vector)> expected;
        await using (var reference = Host(new FaultyEmbeddingGenerator(onnx.Generator), indexFolder: referenceFolder))
        {
            await reference.IngestionFunction.IngestCatalog(referenceBlob, referenceBlob.Name, default);
            expected = await SnapshotAsync(reference.Index);
        }

        Directory.Delete(referenceFolder, recursive: true);
        Assert.Equal(8, expected.Count);

        // Batches of 2, a commit every 3 batches: the failure after N batches leaves committed and uncommitted writes.
        var blob = await UploadAsync($"{_prefix}/faulty.csv", content);
        var faulty = new FaultyEmbeddingGenerator(onnx.Generator) { FailFromCall = batches + 1 };
        var host = Host(faulty, commitEvery: 3);
        try
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => host.IngestionFunction.IngestCatalog(blob, blob.Name, default));
            Assert.Equal(batches >= 3 ? 6 : 0, await host.Index.CountAsync());
            if (restartHost)
            {
                await host.DisposeAsync();
                host = Host(new FaultyEmbeddingGenerator(onnx.Generator), commitEvery: 3);
            }
            else
            {
                faulty.FailFromCall = 0;
            }

            await host.IngestionFunction.IngestCatalog(blob, blob.Name, default);

            var status = await StatusAsync(blob.Name);
            Assert.Equal("succeeded", status.GetProperty("status").GetString());
            var actual = await SnapshotAsync(host.Index);
            Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
            foreach (var (id, want) in expected)
            {
                var got = actual[id];
                Assert.Equal((want.Title, want.Hash), (got.Title, got.Hash));
                Assert.Equal(want.Vector.Length, got.Vector.Length);
                Assert.True(TensorPrimitives.CosineSimilarity(want.Vector, got.Vector) > 0.9999f, $"{id}: the stored vector is not the product's");
            }
        }
        finally
        {
            await host.DisposeAsync();
        }
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

    private FunctionsTestHost Host(FaultyEmbeddingGenerator generator, int maxAttempts = 5, int commitEvery = 1, string? indexFolder = null) =>
        FunctionsTestHost.Create(generator, new Dictionary<string, string?>
        {
            ["ProductSimilarity:Index:Local:Path"] = indexFolder ?? _indexFolder,
            ["ProductSimilarity:Ingestion:BatchSize"] = "2",
            ["ProductSimilarity:Ingestion:CommitEvery"] = commitEvery.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ProductSimilarity:Ingestion:MaxAttempts"] = maxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

    private async Task<BlobClient> UploadAsync(string name, byte[] content)
    {
        var blob = _catalogs.GetBlobClient(name);
        await blob.UploadAsync(new BinaryData(content), new BlobUploadOptions());
        return blob;
    }

    /// <summary>Every product of the index by id, read back whole; a repeated id fails the test.</summary>
    private static async Task<Dictionary<string, (string Title, string Hash, float[] Vector)>> SnapshotAsync(IProductIndex index)
    {
        var products = new Dictionary<string, (string Title, string Hash, float[] Vector)>(StringComparer.Ordinal);
        await foreach (var id in index.GetAllIdsAsync())
        {
            var product = await index.GetAsync(id) ?? throw new InvalidOperationException($"{id} is listed but cannot be read");
            Assert.True(products.TryAdd(id, (product.Product.Title, product.ContentHash, product.Vector.ToArray())), $"{id} is stored twice");
        }

        Assert.Equal(products.Count, await index.CountAsync());
        return products;
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
