using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ProductSimilarity.Embeddings.Tests.AzureOpenAI;

/// <summary>One request as it reached the wire.</summary>
internal sealed record RecordedRequest(HttpMethod Method, Uri Uri, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();

    public string[] Inputs => [.. Json.GetProperty("input").EnumerateArray().Select(e => e.GetString()!)];

    public string? Header(string name) => Headers.TryGetValue(name, out string? value) ? value : null;
}

/// <summary>
/// Stands in for the Azure OpenAI embeddings endpoint behind the SDK's HTTP transport. It records every request and,
/// unless a scripted response is queued, answers with the documented response shape, honouring the request's
/// <c>encoding_format</c> (base64 float32 or a JSON float array) and <c>dimensions</c>.
/// </summary>
internal sealed class FakeAzureOpenAIHandler : HttpMessageHandler
{
    private static readonly JsonSerializerOptions WireFormat = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly ConcurrentQueue<Func<RecordedRequest, HttpResponseMessage>> _scripted = new();
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    /// <summary>When set, answers every request not answered by a queued response.</summary>
    public Func<RecordedRequest, HttpResponseMessage>? Fallback { get; set; }

    public FakeAzureOpenAIHandler Then(Func<RecordedRequest, HttpResponseMessage> respond)
    {
        _scripted.Enqueue(respond);
        return this;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>()))
        {
            headers[header.Key] = string.Join(",", header.Value);
        }

        var recorded = new RecordedRequest(request.Method, request.RequestUri!, headers, body);
        _requests.Enqueue(recorded);
        var respond = _scripted.TryDequeue(out var scripted) ? scripted : Fallback ?? (r => Embeddings(r));
        HttpResponseMessage response = respond(recorded);
        response.RequestMessage = request;
        return response;
    }

    /// <summary>The vector the fake model gives a text: not unit length, and different for every test input.</summary>
    public static float[] FakeVector(string text, int dimensions)
    {
        var vector = new float[dimensions];
        for (int i = 0; i < dimensions; i++)
        {
            vector[i] = ((text.Length * (i + 3)) + text.Sum(c => c) % (17 + i)) / 4f;
        }

        return vector;
    }

    /// <summary>A 200 response in the documented shape for the request's inputs.</summary>
    public static HttpResponseMessage Embeddings(RecordedRequest request, bool reverseOrder = false, int? dimensionsOverride = null)
    {
        JsonElement json = request.Json;
        string[] inputs = request.Inputs;
        int dimensions = dimensionsOverride
            ?? (json.TryGetProperty("dimensions", out JsonElement d) ? d.GetInt32() : 8);
        bool base64 = json.TryGetProperty("encoding_format", out JsonElement f) && f.GetString() == "base64";

        var data = new JsonArray();
        IEnumerable<int> order = reverseOrder ? Enumerable.Range(0, inputs.Length).Reverse() : Enumerable.Range(0, inputs.Length);
        foreach (int i in order)
        {
            float[] vector = FakeVector(inputs[i], dimensions);
            JsonNode embedding = base64
                ? JsonValue.Create(Convert.ToBase64String(MemoryMarshal.AsBytes(vector.AsSpan())))
                : new JsonArray([.. vector.Select(v => (JsonNode?)JsonValue.Create(v))]);
            data.Add(new JsonObject { ["object"] = "embedding", ["index"] = i, ["embedding"] = embedding });
        }

        int tokens = inputs.Sum(t => t.Length);
        var payload = new JsonObject
        {
            ["object"] = "list",
            ["data"] = data,
            ["model"] = "text-embedding-3-small",
            ["usage"] = new JsonObject { ["prompt_tokens"] = tokens, ["total_tokens"] = tokens },
        };
        // The service writes base64 as is; OpenAI 2.1.0 decodes the raw JSON token, so '+' must not become "\u002B".
        return Json(HttpStatusCode.OK, payload.ToJsonString(WireFormat));
    }

    /// <summary>An error response in the documented Azure OpenAI error shape.</summary>
    public static HttpResponseMessage Error(HttpStatusCode status, string code, string message, params (string Name, string Value)[] headers)
    {
        var payload = new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } };
        HttpResponseMessage response = Json(status, payload.ToJsonString());
        foreach (var (name, value) in headers)
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }

        return response;
    }

    /// <summary>The throttling answer Azure OpenAI gives when a deployment's quota is spent.</summary>
    public static HttpResponseMessage TooManyRequests(params (string Name, string Value)[] headers)
        => Error(HttpStatusCode.TooManyRequests, "429",
            "Requests to the Embeddings_Create Operation have exceeded call rate limit. Please retry after 1 second.", headers);

    private static HttpResponseMessage Json(HttpStatusCode status, string json)
        => new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    public static string Seconds(double seconds) => seconds.ToString(CultureInfo.InvariantCulture);
}
