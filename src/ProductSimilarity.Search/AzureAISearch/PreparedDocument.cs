using System.Text.Json;
using System.Text.Json.Serialization;

namespace ProductSimilarity.Search.AzureAISearch;

/// <summary>
/// One indexing action's document, serialised once to UTF-8 JSON. The same bytes give the request-size budget and go on
/// the wire: the SDK's serializer meets <see cref="Converter"/>, which writes them back as they are.
/// </summary>
/// <remarks>Immutable; thread-safe.</remarks>
[JsonConverter(typeof(Converter))]
internal sealed class PreparedDocument
{
    // The SDK's serializer (when none is configured) is System.Text.Json with default options: the same escaping.
    private static readonly JsonSerializerOptions Json = new();

    private PreparedDocument(string key, byte[] utf8)
    {
        Key = key;
        Utf8 = utf8;
    }

    /// <summary>The document key.</summary>
    public string Key { get; }

    /// <summary>The document's JSON object.</summary>
    public byte[] Utf8 { get; }

    /// <summary>Serialises a search document.</summary>
    public static PreparedDocument From(AzureAISearchDocument document) => new(document.Id, JsonSerializer.SerializeToUtf8Bytes(document, Json));

    /// <summary>A key-only document (for <c>delete</c>).</summary>
    public static PreparedDocument KeyOnly(string key)
        => new(key, JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { [AzureAISearchSchema.Id] = key }, Json));

    private sealed class Converter : JsonConverter<PreparedDocument>
    {
        public override PreparedDocument Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
            => throw new NotSupportedException("Prepared documents are written only.");

        public override void Write(Utf8JsonWriter writer, PreparedDocument value, JsonSerializerOptions options)
            => writer.WriteRawValue(value.Utf8, skipInputValidation: true);
    }
}
