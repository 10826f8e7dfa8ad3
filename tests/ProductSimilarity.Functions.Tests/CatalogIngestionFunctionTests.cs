using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ProductSimilarity.Api.Ingestion;
using ProductSimilarity.Functions.Tests.Infrastructure;

namespace ProductSimilarity.Functions.Tests;

/// <summary>The blob-triggered function against a real Azurite, ingesting into a LocalProductIndex in a temporary folder.</summary>
[Collection(OnnxCollection.Name)]
public sealed class CatalogIngestionFunctionTests(OnnxGeneratorFixture onnx, AzuriteFixture azurite)
    : IClassFixture<AzuriteFixture>, IAsyncLifetime
{
    private readonly string _prefix = "t" + Guid.NewGuid().ToString("N")[..8];
    private FunctionsTestHost _host = null!;
    private BlobContainerClient _catalogs = null!;

    public async Task InitializeAsync()
    {
        _host = FunctionsTestHost.Create(onnx.Generator);
        _catalogs = azurite.ServiceClient.GetBlobContainerClient("catalogs");
        await _catalogs.CreateIfNotExistsAsync();
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task IngestCatalog_NewBlob_IndexesGoodRowsAndWritesStatusAndErrorReport()
    {
        var blob = await UploadAsync($"{_prefix}/catalog.csv", await File.ReadAllBytesAsync(TestPaths.TestData("catalog.csv")));

        await _host.IngestionFunction.IngestCatalog(blob, blob.Name, default);

        Assert.Equal(8, await _host.Index.CountAsync());
        Assert.NotNull(await _host.Index.GetAsync("K003"));
        Assert.Equal(8, _host.Generator.Inputs);

        var status = await ReadJsonAsync("catalog-status", blob.Name + ".json");
        var properties = (await blob.GetPropertiesAsync()).Value;
        Assert.Equal("succeeded", status.GetProperty("status").GetString());
        Assert.Equal(properties.ETag.ToString(), status.GetProperty("etag").GetString());
        Assert.Equal(blob.Name, status.GetProperty("blob").GetString());
        Assert.Equal("upsert", status.GetProperty("mode").GetString());
        var summary = status.GetProperty("summary");
        Assert.Equal(blob.Name, summary.GetProperty("file").GetString());
        Assert.Equal(10, summary.GetProperty("rowsRead").GetInt64());
        Assert.Equal(8, summary.GetProperty("embedded").GetInt64());
        Assert.Equal(0, summary.GetProperty("unchanged").GetInt64());
        Assert.Equal(2, summary.GetProperty("rejected").GetInt64());
        Assert.Equal(0, summary.GetProperty("deleted").GetInt64());
        Assert.Equal("upsert", summary.GetProperty("mode").GetString());
        Assert.False(string.IsNullOrEmpty(status.GetProperty("model").GetString()));
        Assert.Equal(status.GetProperty("model").GetString(), summary.GetProperty("model").GetString());
        Assert.True(TimeSpan.Parse(summary.GetProperty("duration").GetString()!, System.Globalization.CultureInfo.InvariantCulture) > TimeSpan.Zero);
        Assert.True(status.GetProperty("finishedAt").GetDateTimeOffset() >= status.GetProperty("startedAt").GetDateTimeOffset());
        Assert.False(status.TryGetProperty("error", out _));
        Assert.Equal($"catalog-errors/{blob.Name}.errors.jsonl", status.GetProperty("errorReport").GetString());

        var report = await ReadLinesAsync("catalog-errors", blob.Name + ".errors.jsonl");
        Assert.Equal(2, report.Count);
        Assert.Equal([7L, 9L], report.Select(r => r.GetProperty("line").GetInt64()).Order());
        Assert.All(report, r => Assert.Equal(blob.Name, r.GetProperty("file").GetString()));
        Assert.Contains(report, r => r.GetProperty("field").GetString() == "price" && r.GetProperty("id").GetString() == "K002");
    }

    [Fact]
    public async Task IngestCatalog_MerchantCenterXmlAndXlsxWorkbook_AreIngestedLikeCsv()
    {
        const string feed = """
            <?xml version="1.0" encoding="UTF-8"?>
            <rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel>
              <item><g:id>X1</g:id><title>Electric Kettle 1.7 l</title><g:price>20.00 EUR</g:price><g:gtin>4006381333931</g:gtin></item>
              <item><g:id>X2</g:id><title>Two-Slice Toaster</title><g:price>30,00 EUR</g:price></item>
            </channel></rss>
            """;
        var xml = await UploadAsync($"{_prefix}/feed.xml", Encoding.UTF8.GetBytes(feed));
        using var workbook = new MemoryStream();
        await MiniExcelLibs.MiniExcel.SaveAsAsync(workbook, new[] { new Dictionary<string, object> { ["id"] = "W1", ["title"] = "Countertop Blender" } });
        var xlsx = await UploadAsync($"{_prefix}/catalog.xlsx", workbook.ToArray());

        await _host.IngestionFunction.IngestCatalog(xml, xml.Name, default);
        await _host.IngestionFunction.IngestCatalog(xlsx, xlsx.Name, default);

        Assert.Equal(3, await _host.Index.CountAsync());
        Assert.Equal("04006381333931", (await _host.Index.GetAsync("X1"))!.Product.Gtin);
        Assert.Equal(30.00m, (await _host.Index.GetAsync("X2"))!.Product.Price);
        Assert.Equal("Countertop Blender", (await _host.Index.GetAsync("W1"))!.Product.Title);
        Assert.Equal("succeeded", (await ReadJsonAsync("catalog-status", xlsx.Name + ".json")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task IngestCatalog_SameBlobRedelivered_SkipsWithoutReadingAndSaysSo()
    {
        var blob = await UploadAsync($"{_prefix}/catalog.csv", await File.ReadAllBytesAsync(TestPaths.TestData("catalog.csv")));
        await _host.IngestionFunction.IngestCatalog(blob, blob.Name, default);
        var first = await ReadTextAsync("catalog-status", blob.Name + ".json");
        var embedded = _host.Generator.Inputs;
        _host.Logs.Clear();

        await _host.IngestionFunction.IngestCatalog(blob, blob.Name, default);

        Assert.Equal(first, await ReadTextAsync("catalog-status", blob.Name + ".json"));
        Assert.Equal(embedded, _host.Generator.Inputs);
        Assert.Equal(8, await _host.Index.CountAsync());
        Assert.Contains(_host.Logs.GetSnapshot(), r => r.Message.Contains("already ingested", StringComparison.Ordinal)
            && r.Message.Contains(blob.Name, StringComparison.Ordinal));
    }

    [Fact]
    public async Task IngestCatalog_SameContentUploadedAgain_ReembedsAndDuplicatesNothing()
    {
        var bytes = await File.ReadAllBytesAsync(TestPaths.TestData("catalog.csv"));
        var blob = await UploadAsync($"{_prefix}/catalog.csv", bytes);
        await _host.IngestionFunction.IngestCatalog(blob, blob.Name, default);
        var embedded = _host.Generator.Inputs;

        blob = await UploadAsync($"{_prefix}/catalog.csv", bytes); // a new ETag: a real new upload, not a re-delivery
        await _host.IngestionFunction.IngestCatalog(blob, blob.Name, default);

        Assert.Equal(embedded, _host.Generator.Inputs);
        Assert.Equal(8, await _host.Index.CountAsync());
        var ids = new List<string>();
        await foreach (var id in _host.Index.GetAllIdsAsync())
        {
            ids.Add(id);
        }

        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        var status = await ReadJsonAsync("catalog-status", blob.Name + ".json");
        Assert.Equal("succeeded", status.GetProperty("status").GetString());
        Assert.Equal(0, status.GetProperty("summary").GetProperty("embedded").GetInt64());
        Assert.Equal(8, status.GetProperty("summary").GetProperty("unchanged").GetInt64());
        Assert.Equal((await blob.GetPropertiesAsync()).Value.ETag.ToString(), status.GetProperty("etag").GetString());
    }

    [Fact]
    public async Task IngestCatalog_SnapshotMetadata_RemovesProductsMissingFromTheFile()
    {
        var blob = await UploadAsync($"{_prefix}/catalog.csv", await File.ReadAllBytesAsync(TestPaths.TestData("catalog.csv")));
        await _host.IngestionFunction.IngestCatalog(blob, blob.Name, default);

        var snapshot = """
            id,title,brand,category,price,currency,in_stock
            K003,Cast Iron Skillet 12 inch,Lodge,Home & Kitchen > Cookware,34.90,USD,true
            K004,Silicone Spatula Set of 3,OXO,Home & Kitchen > Cookware,12.99,USD,true
            """;
        var next = await UploadAsync($"{_prefix}/snapshot.csv", Encoding.UTF8.GetBytes(snapshot), new Dictionary<string, string> { ["mode"] = "snapshot" });
        await _host.IngestionFunction.IngestCatalog(next, next.Name, default);

        Assert.Equal(2, await _host.Index.CountAsync());
        Assert.NotNull(await _host.Index.GetAsync("K003"));
        Assert.Null(await _host.Index.GetAsync("E001"));
        var status = await ReadJsonAsync("catalog-status", next.Name + ".json");
        Assert.Equal("snapshot", status.GetProperty("mode").GetString());
        Assert.Equal(6, status.GetProperty("summary").GetProperty("deleted").GetInt64());
        Assert.False(status.TryGetProperty("errorReport", out _));
        Assert.False(await azurite.ServiceClient.GetBlobContainerClient("catalog-errors").GetBlobClient(next.Name + ".errors.jsonl").ExistsAsync());
    }

    [Fact]
    public async Task IngestCatalog_SnapshotModeConfigured_RemovesProductsMissingFromTheFile()
    {
        await using var snapshotHost = FunctionsTestHost.Create(onnx.Generator, new Dictionary<string, string?> { ["ProductSimilarity:Ingestion:Mode"] = "Snapshot" });
        var blob = await UploadAsync($"{_prefix}/catalog.csv", await File.ReadAllBytesAsync(TestPaths.TestData("catalog.csv")));
        await snapshotHost.IngestionFunction.IngestCatalog(blob, blob.Name, default);
        var smaller = await UploadAsync($"{_prefix}/smaller.csv", Encoding.UTF8.GetBytes("id,title\nE001,Sony WF-1000XM5 Wireless Noise Cancelling Earbuds\n"));

        await snapshotHost.IngestionFunction.IngestCatalog(smaller, smaller.Name, default);

        Assert.Equal(1, await snapshotHost.Index.CountAsync());
        Assert.Equal("snapshot", (await ReadJsonAsync("catalog-status", smaller.Name + ".json")).GetProperty("mode").GetString());
    }

    [Fact]
    public async Task IngestCatalog_DeletedColumn_RemovesThatProductOnly()
    {
        var blob = await UploadAsync($"{_prefix}/catalog.csv", await File.ReadAllBytesAsync(TestPaths.TestData("catalog.csv")));
        await _host.IngestionFunction.IngestCatalog(blob, blob.Name, default);

        var update = await UploadAsync($"{_prefix}/update.csv", Encoding.UTF8.GetBytes("id,title,deleted\nK001,Stainless Steel Balloon Whisk 12 inch,true\n"));
        await _host.IngestionFunction.IngestCatalog(update, update.Name, default);

        Assert.Equal(7, await _host.Index.CountAsync());
        Assert.Null(await _host.Index.GetAsync("K001"));
        Assert.Equal(1, (await ReadJsonAsync("catalog-status", update.Name + ".json")).GetProperty("summary").GetProperty("deleted").GetInt64());
    }

    [Fact]
    public async Task IngestCatalog_UnreadableFile_RecordsFailureWithoutThrowing()
    {
        var blob = await UploadAsync($"{_prefix}/empty.csv", []);

        await _host.IngestionFunction.IngestCatalog(blob, blob.Name, default);

        var status = await ReadJsonAsync("catalog-status", blob.Name + ".json");
        Assert.Equal("failed", status.GetProperty("status").GetString());
        Assert.Contains("empty.csv", status.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await _host.Index.CountAsync());
    }

    private async Task<BlobClient> UploadAsync(string name, byte[] content, IDictionary<string, string>? metadata = null)
    {
        var blob = _catalogs.GetBlobClient(name);
        await blob.UploadAsync(new BinaryData(content), new BlobUploadOptions { Metadata = metadata });
        return blob;
    }

    private async Task<string> ReadTextAsync(string container, string name)
    {
        var content = await azurite.ServiceClient.GetBlobContainerClient(container).GetBlobClient(name).DownloadContentAsync();
        return content.Value.Content.ToString();
    }

    private async Task<JsonElement> ReadJsonAsync(string container, string name) =>
        JsonDocument.Parse(await ReadTextAsync(container, name)).RootElement;

    private async Task<List<JsonElement>> ReadLinesAsync(string container, string name) =>
        [.. (await ReadTextAsync(container, name)).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)];
}
