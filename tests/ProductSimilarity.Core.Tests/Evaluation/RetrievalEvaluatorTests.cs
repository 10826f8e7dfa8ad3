using Microsoft.Extensions.Options;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Evaluation;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Similarity;
using ProductSimilarity.Core.Tests.Fakes;

namespace ProductSimilarity.Core.Tests.Evaluation;

public sealed class RetrievalEvaluatorTests
{
    [Fact]
    public async Task EvaluateAsync_TwoSources_RanksOnlyOtherSourceAndComputesMetrics()
    {
        var index = new InMemoryProductIndex();
        var generator = new BagOfWordsEmbeddingGenerator(dimensions: 256);
        // a1 matches g1 exactly (rank 1); a2's match g2 shares one word while g3 shares two (rank 2);
        // a3's match g4 shares nothing (miss). a1b is a same-source twin of a1 that must never be a candidate.
        Add(index, generator, "a1", "alpha beta gamma", "amazon");
        Add(index, generator, "a1b", "alpha beta gamma", "amazon");
        Add(index, generator, "a2", "delta epsilon zeta", "amazon");
        Add(index, generator, "a3", "omega", "amazon");
        Add(index, generator, "g1", "alpha beta gamma", "google");
        Add(index, generator, "g2", "delta kappa", "google");
        Add(index, generator, "g3", "delta epsilon", "google");
        Add(index, generator, "g4", "sigma", "google");
        await index.CommitAsync();
        var service = new SimilarityService(index, generator, Options.Create(new ProductSimilarityOptions()), TimeProvider.System);
        var evaluator = new RetrievalEvaluator(service, index);

        var result = await evaluator.EvaluateAsync([("a1", "g1"), ("a2", "g2"), ("a3", "g4"), ("a9", "g1")], queryPairs: [("a1", "g1"), ("a2", "g2"), ("a3", "g4")]);

        // a1 -> g1 @1; g1 -> a1 @1 (a1b ties, id order); a2 -> g2 @2 (g3 shares more words); g2 -> a2 @1;
        // a3 -> g4 @4 and g4 -> a3 @4 (all scores 0, id order). The same-source twin a1b is never a candidate for a1.
        Assert.Equal(6, result.Queries);
        Assert.Equal(0, result.MissingIds);
        Assert.Equal(3.0 / 6, result.RecallAt1, 6);
        Assert.Equal(1.0, result.RecallAt10, 6);
        Assert.Equal((1 + 1 + 0.5 + 1 + 0.25 + 0.25) / 6, result.MrrAt10, 6);
    }

    [Fact]
    public async Task EvaluateAsync_MissingIds_AreCountedNotQueried()
    {
        var index = new InMemoryProductIndex();
        var generator = new BagOfWordsEmbeddingGenerator();
        Add(index, generator, "x", "one two", null);
        Add(index, generator, "y", "one two", null);
        await index.CommitAsync();
        var service = new SimilarityService(index, generator, Options.Create(new ProductSimilarityOptions()), TimeProvider.System);

        var result = await new RetrievalEvaluator(service, index).EvaluateAsync([("x", "y"), ("x", "ghost")]);

        Assert.Equal(2, result.Queries);
        Assert.Equal(1, result.MissingIds);
        Assert.Equal(1.0, result.RecallAt1);
        Assert.Equal(1.0, result.MrrAt10);
    }

    [Fact]
    public void ReadPairs_WithSplit_KeepsPositivesOfThatSplit()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "id_a,id_b,label,split\na,b,1,test\nc,d,0,test\ne,f,1,train\n");

            Assert.Equal([("a", "b")], RetrievalEvaluator.ReadPairs(path, "test"));
            Assert.Equal(2, RetrievalEvaluator.ReadPairs(path).Count);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task TuneAsync_VectorOnlyStore_LearnsFromTrainingPairsAndMeasuresOnlyHeldOutQueries()
    {
        var index = new InMemoryProductIndex();
        var generator = new BagOfWordsEmbeddingGenerator(dimensions: 256);
        string[] words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"];
        for (var i = 0; i < words.Length; i++)
        {
            Add(index, generator, $"a{i}", $"{words[i]} {words[(i + 3) % 10]}", "a");
            Add(index, generator, $"g{i}", $"{words[i]} {words[(i + 3) % 10]} extra", "g");
        }

        await index.CommitAsync();
        var service = new SimilarityService(index, generator, Options.Create(new ProductSimilarityOptions()), TimeProvider.System);
        var pairs = Enumerable.Range(0, 10).Select(i => ($"a{i}", $"g{i}")).ToList();

        var tuning = await new RetrievalEvaluator(service, index).TuneAsync(pairs, pairs[..6], pairs[6..], FusionOptions.Default, grid: [0, 0.5, 1]);

        // This store has no keyword side: weight 0 ranks every candidate alike (id order), 0.5 and 1 rank by vector and
        // tie on the training queries, so the tie goes to the weight nearer the configured 0.25.
        Assert.Equal(new TunedFusion(FusionMethod.ZScore, 0.5, 12), tuning.Tuned);
        Assert.Equal([0, 0.5, 1], tuning.Grid.Select(g => g.VectorWeight));
        Assert.True(tuning.Grid[0].Train.RecallAt1 < tuning.Grid[1].Train.RecallAt1);
        Assert.Equal(["vector", "keyword", "configured", "tuned"], tuning.HeldOut.Select(c => c.Name));
        Assert.All(tuning.HeldOutFigures, f => Assert.Equal(8, f.Queries));
        Assert.Equal(1.0, tuning.HeldOutFigures[3].RecallAt1);
    }

    [Fact]
    public void SplitPairs_SamePairs_SameDisjointSplitOfAboutTheShare()
    {
        var pairs = Enumerable.Range(0, 400).Select(i => ($"a{i}", $"b{i}")).ToList();

        var (train, heldOut) = RetrievalEvaluator.SplitPairs(pairs);
        var again = RetrievalEvaluator.SplitPairs(pairs);

        Assert.Equal(train, again.Train);
        Assert.Equal(400, train.Count + heldOut.Count);
        Assert.Empty(train.Intersect(heldOut));
        Assert.InRange(train.Count, 160, 240);
    }

    private static void Add(InMemoryProductIndex index, BagOfWordsEmbeddingGenerator generator, string id, string title, string? source) =>
        index.UpsertAsync([new IndexedProduct { Product = new Product { Id = id, Title = title, Source = source }, ContentHash = id, Vector = generator.Embed(title) }]).GetAwaiter().GetResult();
}
