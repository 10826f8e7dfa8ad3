namespace ProductSimilarity.Core.Text;

/// <summary>
/// How much of a text an embedding model can read: an embedding generator that knows its tokenizer offers this
/// through <c>IEmbeddingGenerator.GetService(typeof(ITokenCoverage))</c>. A model that meets mostly unknown tokens
/// (Chinese text and an English-only vocabulary) embeds noise, and ranking should lean on keywords for that text.
/// </summary>
/// <remarks>Implementations must be thread-safe.</remarks>
public interface ITokenCoverage
{
    /// <summary>The share (0..1) of the model's tokens for <paramref name="text"/> that are its unknown token; 0 for
    /// empty text.</summary>
    /// <param name="text">The text the model would embed.</param>
    double UnknownTokenShare(string text);
}
