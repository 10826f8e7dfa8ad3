namespace ProductSimilarity.Core.Indexing;

/// <summary>
/// The index holds vectors from one embedding model (with its quantisation and adapter) and the caller uses another:
/// their vectors do not compare, so mixing them would silently return wrong neighbours.
/// </summary>
/// <param name="indexed">The model recorded in the index.</param>
/// <param name="configured">The model configured now.</param>
public sealed class EmbeddingModelMismatchException(string indexed, string configured)
    : InvalidOperationException(
        $"the index holds vectors from embedding model '{indexed}', but the configured model is '{configured}' " +
        "(model, quantisation and adapter must all match). Re-embed everything with 'psim ingest --reembed CATALOG' " +
        "(the full catalog), or configure the model the index was built with.")
{
    /// <summary>The model recorded in the index.</summary>
    public string Indexed { get; } = indexed;

    /// <summary>The model configured now.</summary>
    public string Configured { get; } = configured;

    /// <summary>Throws when <paramref name="index"/> records a model other than <paramref name="configured"/>.</summary>
    /// <exception cref="EmbeddingModelMismatchException">It does.</exception>
    public static void ThrowIfMismatch(IProductIndex index, string configured)
    {
        ArgumentNullException.ThrowIfNull(index);
        if (index.EmbeddingModel is { } indexed && !string.Equals(indexed, configured, StringComparison.Ordinal))
        {
            throw new EmbeddingModelMismatchException(indexed, configured);
        }
    }
}
