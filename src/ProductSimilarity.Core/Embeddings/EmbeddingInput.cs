using Microsoft.Extensions.AI;

namespace ProductSimilarity.Core.Embeddings;

/// <summary>
/// Marks a <see cref="IEmbeddingGenerator{TInput, TEmbedding}.GenerateAsync"/> call as embedding search queries rather than
/// product texts, so an asymmetric model (e5, bge, arctic-embed) can put its query prefix in front. Generators that
/// do not distinguish the two ignore the mark.
/// </summary>
/// <remarks>Thread-safe: <see cref="QueryOptions"/> is shared and must not be modified.</remarks>
public static class EmbeddingInput
{
    /// <summary>The <see cref="EmbeddingGenerationOptions.AdditionalProperties"/> key that holds the input kind.</summary>
    public const string KindProperty = "psim.input_kind";

    /// <summary>The value of <see cref="KindProperty"/> for search queries; its absence means product (passage) texts.</summary>
    public const string Query = "query";

    /// <summary>Options that mark the texts as search queries.</summary>
    public static EmbeddingGenerationOptions QueryOptions { get; } = new()
    {
        AdditionalProperties = new AdditionalPropertiesDictionary { [KindProperty] = Query },
    };

    /// <summary>Whether <paramref name="options"/> marks the texts as search queries.</summary>
    public static bool IsQuery(EmbeddingGenerationOptions? options) =>
        options?.AdditionalProperties is { } properties
        && properties.TryGetValue(KindProperty, out var kind)
        && kind is string text
        && string.Equals(text, Query, StringComparison.Ordinal);
}
