using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Search.Documents;
using Azure.Search.Documents.Indexes;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Search.AzureAISearch;

namespace ProductSimilarity.Search.Tests.AzureAISearch;

/// <summary>One request as it reached the wire.</summary>
internal sealed record RecordedRequest(HttpMethod Method, Uri Uri, string? Body, IReadOnlyDictionary<string, string> Headers)
{
    public string Path => Uri.AbsolutePath;

    public JsonNode Json => JsonNode.Parse(Body ?? throw new InvalidOperationException("The request had no body."))!;

    public string? Query(string name) => System.Web.HttpUtility.ParseQueryString(Uri.Query)[name];
}

/// <summary>
/// A hand-written Azure AI Search stand-in at the HTTP level: records every request the SDK sends and answers with
/// whatever the test's responder returns (documented REST response shapes).
/// </summary>
internal sealed class FakeSearchHandler(Func<RecordedRequest, int, HttpResponseMessage> respond) : HttpMessageHandler
{
    private readonly Lock _gate = new();
    private readonly List<RecordedRequest> _requests = [];

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // Answer asynchronously, as a network does, so that a caller can have several requests in flight.
        await Task.Yield();
        string? body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var h in request.Headers)
        {
            headers[h.Key] = string.Join(",", h.Value);
        }

        var recorded = new RecordedRequest(request.Method, request.RequestUri!, body, headers);
        int index;
        lock (_gate)
        {
            _requests.Add(recorded);
            index = _requests.Count - 1;
        }

        HttpResponseMessage response = respond(recorded, index);
        response.RequestMessage = request;
        return response;
    }

    // The SDK's synchronous methods (used by the Dimensions property) call HttpClient.Send.
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        => SendAsync(request, cancellationToken).GetAwaiter().GetResult();
}

internal static class FakeSearch
{
    public static readonly Uri Endpoint = new("https://fake-search.search.windows.net");

    public static HttpResponseMessage Json(int status, string json) => new((HttpStatusCode)status)
    {
        Content = new StringContent(json, Encoding.UTF8, "application/json"),
    };

    public static HttpResponseMessage Json(int status, JsonNode json) => Json(status, json.ToJsonString());

    public static HttpResponseMessage Error(int status, string code, string message)
        => Json(status, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } });

    /// <summary>A search.index answer where every key in the request succeeded.</summary>
    public static HttpResponseMessage AllSucceeded(RecordedRequest request)
    {
        var results = new JsonArray();
        foreach (JsonNode? action in request.Json["value"]!.AsArray())
        {
            results.Add(new JsonObject
            {
                ["key"] = action!["id"]!.GetValue<string>(),
                ["status"] = true,
                ["errorMessage"] = null,
                ["statusCode"] = 200,
            });
        }

        return Json(200, new JsonObject { ["value"] = results });
    }

    public static SearchClientOptions ClientOptions(HttpMessageHandler handler)
    {
        SearchClientOptions options = AzureAISearchProductIndex.CreateClientOptions();
        options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(5);
        options.Transport = new HttpClientTransport(new HttpClient(handler));
        return options;
    }

    public static AzureAISearchProductIndex CreateIndex(FakeSearchHandler handler, string analyzer = "en.lucene")
    {
        var client = new SearchIndexClient(Endpoint, new AzureKeyCredential("test-admin-key"), ClientOptions(handler));
        return new AzureAISearchProductIndex(client, "products", analyzer)
        {
            DocumentRetryDelay = TimeSpan.FromMilliseconds(1),
            DocumentRetryMaxDelay = TimeSpan.FromMilliseconds(4),
        };
    }

    public static IndexedProduct Product(string id, float[]? vector = null, string? description = null) => new()
    {
        Product = new Product
        {
            Id = id,
            Title = "Title " + id,
            Description = description,
            Brand = "Acme",
            Category = "Audio",
            Price = 19.99m,
            Currency = "EUR",
            InStock = true,
            GroupId = "g-" + id,
            ImageUrl = "https://img.example/" + id + ".jpg",
            Source = "shop-a",
            Attributes = new Dictionary<string, string> { ["color"] = "black" },
        },
        ContentHash = "hash-" + id,
        Vector = vector ?? [0.5f, 0.5f, 0.5f, 0.5f],
    };

    public static List<string> ActionIds(RecordedRequest request)
        => [.. request.Json["value"]!.AsArray().Select(a => a!["id"]!.GetValue<string>())];
}

/// <summary>A token credential that hands out a fixed bearer token.</summary>
internal sealed class FakeTokenCredential : TokenCredential
{
    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        => new("fake-token", DateTimeOffset.UtcNow.AddHours(1));

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        => ValueTask.FromResult(GetToken(requestContext, cancellationToken));
}
