using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using ProductSimilarity.Core.Diagnostics;
using ProductSimilarity.Functions.Tests.Infrastructure;

namespace ProductSimilarity.Functions.Tests;

/// <summary>
/// What a request carries reaches the logs only through Microsoft.Extensions.Compliance.Redaction, as every host composes
/// it (AddProductSimilarity): search text is erased, and product ids are replaced by a short stable hash.
/// </summary>
[Collection(OnnxCollection.Name)]
public sealed class LogRedactionTests(OnnxGeneratorFixture onnx) : IAsyncLifetime
{
    private FunctionsTestHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = FunctionsTestHost.Create(onnx.Generator);
        await _host.IngestFileAsync(TestPaths.TestData("catalog.csv"));
        _host.Logs.Clear();
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Search_TextWithEmail_IsErasedFromEveryLogRecord()
    {
        var context = _host.NewHttpContext("GET", "/api/search", "?q=alice.smith%40example.com+earbuds");

        var response = await FunctionsTestHost.ExecuteAsync(await _host.HttpFunctions.Search(context.Request, default), context);

        Assert.Equal(StatusCodes.Status200OK, response.StatusCode);
        var records = _host.Logs.GetSnapshot();
        Assert.Contains(records, r => r.Message.StartsWith("Search text", StringComparison.Ordinal));
        Assert.DoesNotContain(records, r => r.Message.Contains("alice", StringComparison.OrdinalIgnoreCase)
            || r.StructuredState?.Any(kv => kv.Value?.Contains("alice", StringComparison.OrdinalIgnoreCase) == true) == true);
    }

    [Fact]
    public async Task Similar_ProductId_IsLoggedAsAStableShortHash()
    {
        var tokens = new List<string>();
        foreach (var id in new[] { "E001", "E001", "E002" })
        {
            _host.Logs.Clear();
            var context = _host.NewHttpContext("GET", $"/api/products/{id}/similar", null);
            var response = await FunctionsTestHost.ExecuteAsync(await _host.HttpFunctions.SimilarProducts(context.Request, id, default), context);
            Assert.Equal(StatusCodes.Status200OK, response.StatusCode);
            var record = Assert.Single(_host.Logs.GetSnapshot(), r => r.Message.StartsWith("Similar items for product", StringComparison.Ordinal));
            Assert.DoesNotContain(id, record.Message, StringComparison.Ordinal);
            var token = System.Text.RegularExpressions.Regex.Match(record.Message, "#[0-9a-f]{12}").Value;
            Assert.NotEmpty(token);
            tokens.Add(token);
        }

        Assert.Equal(tokens[0], tokens[1]);
        Assert.NotEqual(tokens[0], tokens[2]);
    }

    [Fact]
    public void ShortHashRedactor_SameInput_GivesTheSameToken()
    {
        var redactor = new ShortHashRedactor();

        Assert.Equal(redactor.Redact("P-1"), redactor.Redact("P-1"));
        Assert.NotEqual(redactor.Redact("P-1"), redactor.Redact("P-2"));
        Assert.Equal(13, redactor.Redact("P-1").Length);
        Assert.Equal("#" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("E001")))[..12], redactor.Redact("E001"));
    }
}
