using System.Numerics.Tensors;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Search.Local;
using static ProductSimilarity.Search.Tests.Local.LocalIndexTestData;

namespace ProductSimilarity.Search.Tests.Local;

/// <summary>
/// The exact vector list of <see cref="LocalProductIndex"/> with the int8 scan (the default) against the fp32 scan of every
/// row (<see cref="ExactScanMode.Fp32"/>) and a brute force over the live products: several segments, rewrites, deletes,
/// every kind of filter and exclusion, and k beyond the live count.
/// </summary>
public sealed class LocalProductIndexExactScanTests
{
    private static readonly string[] Colors = ["black", "white", "red"];

    [Fact]
    public async Task GetCandidatesAsync_Int8ScanOverSegmentsDeletesAndFilters_SameIdsOrderAndScoresAsFp32()
    {
        const int dims = 384;
        var random = new Random(8);
        using var folder = new TempFolder();
        var products = Enumerable.Range(0, 1500).Select(i => Product(random, i, dims)).ToList();
        await using (var writer = LocalProductIndex.Open(folder.Path))
        {
            // Three commits: several segments, rewritten products (their old documents deleted), then deletes.
            await writer.UpsertAsync(products.Take(700).ToList());
            await writer.CommitAsync();
            await writer.UpsertAsync(products.Skip(600).ToList());
            await writer.CommitAsync();
            await writer.DeleteAsync([.. products.Where((_, i) => i % 37 == 0).Select(p => p.Id)]);
            await writer.CommitAsync();
        }

        var live = products.Where((_, i) => i % 37 != 0).ToList();
        await using var int8 = LocalProductIndex.Open(folder.Path, readOnly: true);
        await using var fp32 = LocalProductIndex.Open(folder.Path, readOnly: true, new LocalProductIndexOptions { ExactScan = ExactScanMode.Fp32 });

        // The first query reads the segments in fp32 while their int8 copies are built in the background; WarmUp builds
        // them at once (as a server does before it takes requests).
        Assert.Equal(0, int8.VectorMemoryBytes().Matrices);
        int8.WarmUp();

        for (int n = 0; n < 40; n++)
        {
            var query = Query(random, dims, live, n);
            var expected = live.Where(p => query.Admits(p.Product))
                .Select(p => (p.Id, Score: TensorPrimitives.Dot(p.Vector.Span, query.Vector!.Value.Span)))
                .OrderByDescending(x => x.Score).ThenBy(x => x.Id, StringComparer.Ordinal)
                .Take(query.Top)
                .ToList();

            var fromInt8 = (await int8.GetCandidatesAsync(query)).Vector;
            var fromFp32 = (await fp32.GetCandidatesAsync(query)).Vector;

            Assert.Equal(expected.Select(x => x.Id), fromInt8.Select(c => c.Id));
            Assert.Equal(expected.Select(x => x.Score), fromInt8.Select(c => (float)c.Score));
            Assert.Equal(fromFp32.Select(c => (c.Id, c.Score)), fromInt8.Select(c => (c.Id, c.Score)));
        }

        // Only the int8 index holds the int8 copies: 400 more bytes per row (384 codes and 16 bytes of bounds), for each
        // live product and, until a merge drops them, the rows of deleted and rewritten ones (1,600 rows written).
        long extra = int8.VectorMemoryBytes().Matrices - fp32.VectorMemoryBytes().Matrices;
        Assert.InRange(extra, live.Count * (dims + 16L), 1600 * (dims + 16L));
    }

    [Fact]
    public async Task GetCandidatesAsync_FirstQueryBeforeTheInt8Copy_SameResultsThenBuildsItInTheBackground()
    {
        const int dims = 64;
        var random = new Random(12);
        using var folder = new TempFolder();
        var products = Enumerable.Range(0, 400).Select(i => Product(random, i, dims)).ToList();
        await using (var writer = LocalProductIndex.Open(folder.Path))
        {
            await writer.UpsertAsync(products);
            await writer.CommitAsync();
        }

        await using var int8 = LocalProductIndex.Open(folder.Path, readOnly: true);
        await using var fp32 = LocalProductIndex.Open(folder.Path, readOnly: true, new LocalProductIndexOptions { ExactScan = ExactScanMode.Fp32 });
        var query = new ProductQuery { Vector = RandomUnit(random, dims), Mode = RankingMode.Vector, Top = 15 };
        var expected = (await fp32.GetCandidatesAsync(query)).Vector.Select(c => (c.Id, c.Score)).ToList();

        Assert.Equal(expected, (await int8.GetCandidatesAsync(query)).Vector.Select(c => (c.Id, c.Score)));
        long fp32Bytes = fp32.VectorMemoryBytes().Matrices;
        for (int wait = 0; wait < 600 && int8.VectorMemoryBytes().Matrices == fp32Bytes; wait++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(fp32Bytes + (products.Count * (dims + 16L)), int8.VectorMemoryBytes().Matrices);
        Assert.Equal(expected, (await int8.GetCandidatesAsync(query)).Vector.Select(c => (c.Id, c.Score)));
    }

    private static ProductQuery Query(Random random, int dims, List<IndexedProduct> live, int n)
    {
        var vector = n % 5 == 0 ? live[random.Next(live.Count)].Vector.ToArray() : RandomUnit(random, dims);
        var filter = (n % 6) switch
        {
            0 => new ProductFilter(),
            1 => new ProductFilter { Category = "AUDIO " },
            2 => new ProductFilter { MinPrice = 20, MaxPrice = 60, InStock = true },
            3 => new ProductFilter { Attributes = new Dictionary<string, string> { ["color"] = Colors[n % 3] } },
            4 => new ProductFilter { Brand = "acme", ExcludeSource = "shop-b" },
            _ => new ProductFilter { Source = "shop-a" },
        };

        return new ProductQuery
        {
            Vector = vector,
            Mode = RankingMode.Vector,
            Top = n % 7 == 0 ? 5000 : random.Next(1, 80),
            Filter = filter,
            ExcludeIds = new HashSet<string>(live.Take(random.Next(0, 5)).Select(p => p.Id).Append(live[random.Next(live.Count)].Id), StringComparer.Ordinal),
            ExcludeGroupIds = n % 4 == 0 ? new HashSet<string>(StringComparer.Ordinal) { "grp-1" } : new HashSet<string>(StringComparer.Ordinal),
        };
    }

    private static IndexedProduct Product(Random random, int i, int dims)
    {
        var product = P(
            $"x{i:D5}",
            $"item {i}",
            // Some near duplicates, so scores tie closely.
            i % 10 == 0 && i > 0 ? NearCopy(random, RandomUnit(new Random(i / 100), dims)) : RandomUnit(random, dims),
            brand: i % 4 == 0 ? "Acme" : "Other",
            category: i % 3 == 0 ? "Audio" : "Video",
            price: i % 11 == 0 ? null : i % 100,
            inStock: i % 5 == 0 ? null : i % 2 == 0,
            source: i % 2 == 0 ? "shop-a" : "shop-b",
            groupId: i % 9 == 0 ? $"grp-{i % 3}" : null);
        return product with
        {
            Product = product.Product with { Attributes = new Dictionary<string, string> { ["color"] = Colors[i % 3] } },
        };
    }

    private static float[] NearCopy(Random random, float[] vector)
    {
        int j = random.Next(vector.Length);
        vector[j] = MathF.BitIncrement(vector[j]);
        return vector;
    }
}
