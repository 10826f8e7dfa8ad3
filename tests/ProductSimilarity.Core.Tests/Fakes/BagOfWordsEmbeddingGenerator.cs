using System.Numerics.Tensors;
using Microsoft.Extensions.AI;

namespace ProductSimilarity.Core.Tests.Fakes;

/// <summary>A deterministic embedding: hashed bag of lower-cased words, L2-normalised. Counts the texts it embeds.</summary>
internal sealed class BagOfWordsEmbeddingGenerator(int dimensions = 64, string modelId = "bow-test") : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly EmbeddingGeneratorMetadata _metadata = new("test", null, modelId, dimensions);

    public int TextsEmbedded { get; private set; }

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var result = new GeneratedEmbeddings<Embedding<float>>();
        foreach (var text in values)
        {
            TextsEmbedded++;
            result.Add(new Embedding<float>(Embed(text)));
        }

        return Task.FromResult(result);
    }

    public float[] Embed(string text)
    {
        var v = new float[dimensions];
        foreach (var word in text.ToLowerInvariant().Split([' ', ',', '.', '|', '-'], StringSplitOptions.RemoveEmptyEntries))
        {
            v[(int)((uint)StableHash(word) % (uint)dimensions)] += 1;
        }

        var norm = TensorPrimitives.Norm(v);
        if (norm > 0)
        {
            TensorPrimitives.Divide(v, norm, v);
        }
        else
        {
            v[0] = 1;
        }

        return v;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata : null;

    public void Dispose()
    {
    }

    private static int StableHash(string s)
    {
        unchecked
        {
            var h = (int)2166136261;
            foreach (var c in s)
            {
                h = (h ^ c) * 16777619;
            }

            return h;
        }
    }
}
