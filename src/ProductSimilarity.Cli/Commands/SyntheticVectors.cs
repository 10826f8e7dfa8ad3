using System.Numerics.Tensors;
using System.Text;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Text;
using ProductSimilarity.Search.Local;

namespace ProductSimilarity.Cli.Commands;

/// <summary>
/// The search section of <c>psim bench</c> without a model: the synthetic catalog written straight into an index with
/// vectors made from the title's words (each word a fixed random direction, summed with a little per-product noise,
/// then normalised), so that products sharing words are near each other, as with a real embedding, at no model cost.
/// </summary>
internal static class SyntheticVectors
{
    public const int Dimensions = 384;
    private const int BatchSize = 1024;

    /// <summary>
    /// Writes <paramref name="count"/> synthetic products into a new index at <paramref name="path"/>, each with the
    /// unknown-token share <paramref name="coverage"/> gives its text, as an ingest records it.
    /// </summary>
    public static async Task WriteIndexAsync(string path, int count, LocalProductIndexOptions options, ITokenCoverage? coverage, CancellationToken ct)
    {
        await using var index = LocalProductIndex.Open(path, options: options);
        await index.EnsureCreatedAsync(Dimensions, ct).ConfigureAwait(false);
        await index.SetEmbeddingModelAsync("synthetic-hashed-words", ct).ConfigureAwait(false);
        var words = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var batch = new List<IndexedProduct>(BatchSize);
        foreach (var row in SyntheticCatalog.Rows(count))
        {
            var product = new Product
            {
                Id = row.Id,
                Title = row.Title,
                Description = row.Description,
                Brand = row.Brand,
                Category = row.Category,
                Price = row.Price,
                InStock = row.InStock,
            };
            batch.Add(new IndexedProduct
            {
                Product = product,
                ContentHash = row.Id,
                Vector = Vector(row, words),
                UnknownTokenShare = coverage?.UnknownTokenShare(ProductText.ForEmbedding(product)),
            });
            if (batch.Count == BatchSize)
            {
                await index.UpsertAsync(batch, ct).ConfigureAwait(false);
                await index.CommitAsync(ct).ConfigureAwait(false);
                batch.Clear();
            }
        }

        await index.UpsertAsync(batch, ct).ConfigureAwait(false);
        await index.CommitAsync(ct).ConfigureAwait(false);
    }

    private static float[] Vector(SyntheticCatalog.Row row, Dictionary<string, float[]> words)
    {
        var vector = new float[Dimensions];
        foreach (var word in row.Title.Split([' ', ',', '-'], StringSplitOptions.RemoveEmptyEntries))
        {
            var key = word.ToLowerInvariant();
            if (!words.TryGetValue(key, out var direction))
            {
                direction = RandomUnit(Seed(key));
                if (words.Count < 10_000)
                {
                    words[key] = direction;
                }
            }

            TensorPrimitives.Add(vector, direction, vector);
        }

        var noise = RandomUnit(Seed(row.Id));
        TensorPrimitives.MultiplyAdd(noise, 0.5f, vector, vector);
        float norm = TensorPrimitives.Norm(vector);
        TensorPrimitives.Divide(vector, norm, vector);
        return vector;
    }

    private static int Seed(string text)
    {
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 16777619;
        }

        return (int)hash;
    }

    private static float[] RandomUnit(int seed)
    {
        var random = new Random(seed);
        var v = new float[Dimensions];
        for (int i = 0; i < Dimensions; i++)
        {
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            v[i] = (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
        }

        TensorPrimitives.Divide(v, TensorPrimitives.Norm(v), v);
        return v;
    }
}
