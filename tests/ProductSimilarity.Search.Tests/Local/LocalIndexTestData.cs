using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Indexing;

namespace ProductSimilarity.Search.Tests.Local;

/// <summary>A fresh folder under the temp directory, deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "psim-local-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(Path))
            {
                Directory.Delete(Path, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: a file still open on this platform must not fail the test.
        }
    }
}

internal static class LocalIndexTestData
{
    /// <summary>An L2-normalised vector.</summary>
    public static float[] V(params float[] values)
    {
        double norm = Math.Sqrt(values.Sum(v => (double)v * v));
        return [.. values.Select(v => (float)(v / norm))];
    }

    public static float[] RandomUnit(Random random, int dimensions)
    {
        var v = new float[dimensions];
        for (int i = 0; i < dimensions; i++)
        {
            // Box-Muller: normal components give directions uniform on the sphere.
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            v[i] = (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
        }

        return V(v);
    }

    public static IndexedProduct P(
        string id,
        string title,
        float[] vector,
        string? brand = null,
        string? category = null,
        decimal? price = null,
        bool? inStock = null,
        string? source = null,
        string? groupId = null,
        string? description = null,
        string? hash = null)
        => new()
        {
            Product = new Product
            {
                Id = id,
                Title = title,
                Brand = brand,
                Category = category,
                Price = price,
                InStock = inStock,
                Source = source,
                GroupId = groupId,
                Description = description,
            },
            ContentHash = hash ?? "hash-" + id,
            Vector = vector,
        };

    /// <summary>A small mixed English / Chinese catalog with hand-made 4-dimensional vectors.</summary>
    public static IReadOnlyList<IndexedProduct> Catalog() =>
    [
        P("a1", "Sony WH-1000XM4 Wireless Noise Cancelling Headphones", V(1, 0.1f, 0, 0), brand: "Sony", category: "Audio",
            price: 279.99m, inStock: true, source: "amazon", groupId: "g-sony",
            description: "Industry leading noise canceling with Dual Noise Sensor technology."),
        P("a2", "Sony WH-1000XM4 Headphones, Silver", V(1, 0.15f, 0, 0.05f), brand: "Sony", category: "Audio",
            price: 289m, inStock: false, source: "amazon", groupId: "g-sony"),
        P("g1", "sony wh1000xm4 wireless noise-canceling headphone black", V(0.95f, 0.2f, 0.05f, 0), brand: "SONY", category: "audio",
            price: 265m, inStock: true, source: "google"),
        P("a3", "Bose QuietComfort 45 Bluetooth Headphones", V(0.8f, 0.5f, 0, 0), brand: "Bose", category: "Audio",
            price: 329m, inStock: true, source: "amazon"),
        P("a4", "PlayStation 4 Slim 1TB Console (PS4)", V(0, 0, 1, 0.1f), brand: "Sony", category: "Games",
            price: 299.99m, inStock: true, source: "amazon"),
        P("c1", "小米 无线蓝牙耳机", V(0.7f, 0.7f, 0, 0.1f), brand: "Xiaomi", category: "音频", price: 99m, inStock: true, source: "jd"),
        P("c2", "华为 智能手表", V(0, 0.2f, 0.1f, 1), brand: "Huawei", category: "穿戴", price: 1299m, inStock: false, source: "jd"),
        P("n1", "Generic USB Cable", V(0, 1, 0, 0), category: "Accessories", source: "amazon"),
    ];
}
