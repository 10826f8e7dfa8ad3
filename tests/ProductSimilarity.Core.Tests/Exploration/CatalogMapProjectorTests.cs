using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Exploration;
using ProductSimilarity.Core.Indexing;

namespace ProductSimilarity.Core.Tests.Exploration;

public sealed class CatalogMapProjectorTests
{
    [Fact]
    public void Project_TwoClustersAlongOneAxis_SeparatesThemOnX()
    {
        // Two tight clusters far apart along (1,1,0,0), a little spread along (0,0,1,0).
        var products = new List<IndexedProduct>();
        for (var i = 0; i < 10; i++)
        {
            var spread = (i - 4.5f) * 0.01f;
            products.Add(Make($"A{i}", [1, 1, spread, 0]));
            products.Add(Make($"B{i}", [-1, -1, spread, 0]));
        }

        var map = CatalogMapProjector.Project(products);

        Assert.Equal(20, map.Points.Count);
        var a = map.Points.Where(p => p.Id.StartsWith('A')).Select(p => p.X).ToList();
        var b = map.Points.Where(p => p.Id.StartsWith('B')).Select(p => p.X).ToList();
        Assert.True(a.All(x => x > 1) && b.All(x => x < -1) || a.All(x => x < -1) && b.All(x => x > 1), "clusters are on opposite sides of the first axis");
        Assert.InRange(map.ExplainedVariance[0], 0.99, 1.0);
        Assert.InRange(map.ExplainedVariance[1], 0.0, 0.01);
        // The second axis is the remaining spread, orthogonal to the first.
        Assert.InRange(Math.Abs(map.Points.Single(p => p.Id == "A0").Y), 0.04, 0.05);
    }

    [Fact]
    public void Project_SameInputTwice_GivesTheSamePicture()
    {
        var random = new Random(3);
        var products = Enumerable.Range(0, 50)
            .Select(i => Make($"P{i}", [.. Enumerable.Range(0, 16).Select(_ => (float)random.NextDouble())]))
            .ToList();

        var first = CatalogMapProjector.Project(products);
        var second = CatalogMapProjector.Project([.. products]);

        Assert.Equal(first.Points, second.Points);
        Assert.True(first.ExplainedVariance[0] >= first.ExplainedVariance[1]);
    }

    [Fact]
    public void Project_OneProductOrNone_PlacesItAtTheOrigin()
    {
        Assert.Empty(CatalogMapProjector.Project([]).Points);
        var single = CatalogMapProjector.Project([Make("P1", [0.6f, 0.8f])]);
        Assert.Equal((0d, 0d), (single.Points[0].X, single.Points[0].Y));
        Assert.Equal([0d, 0d], single.ExplainedVariance);
    }

    [Fact]
    public void Project_VectorsOfDifferentLengths_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => CatalogMapProjector.Project([Make("P1", [1, 0]), Make("P2", [1, 0, 0])]));
        Assert.Contains("P2", error.Message, StringComparison.Ordinal);
    }

    private static IndexedProduct Make(string id, float[] vector) => new()
    {
        Product = new Product { Id = id, Title = id, Category = id[..1] },
        ContentHash = id,
        Vector = vector,
    };
}
