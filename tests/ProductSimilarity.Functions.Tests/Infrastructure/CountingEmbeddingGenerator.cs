using Microsoft.Extensions.AI;

namespace ProductSimilarity.Functions.Tests.Infrastructure;

/// <summary>Counts the texts sent to the inner generator, to prove that unchanged products are not re-embedded.</summary>
/// <remarks>Thread-safe. Does not dispose the shared inner generator.</remarks>
public sealed class CountingEmbeddingGenerator(IEmbeddingGenerator<string, Embedding<float>> inner)
    : DelegatingEmbeddingGenerator<string, Embedding<float>>(inner)
{
    private long _inputs;

    /// <summary>Texts embedded so far.</summary>
    public long Inputs => Interlocked.Read(ref _inputs);

    /// <inheritdoc/>
    public override Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = values as IReadOnlyCollection<string> ?? [.. values];
        Interlocked.Add(ref _inputs, list.Count);
        return base.GenerateAsync(list, options, cancellationToken);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        // The inner generator belongs to the collection fixture.
    }
}
