using Microsoft.Extensions.AI;
using ProductSimilarity.Core.Embeddings;
using ProductSimilarity.Core.Tests.Fakes;

namespace ProductSimilarity.Core.Tests.Embeddings;

/// <summary>
/// <see cref="QueryEmbeddingCache"/>: query texts are embedded once while they stay among the most recent
/// <see cref="QueryEmbeddingCache.Capacity"/>; the entry is keyed by model id, dimensions and text; product texts are
/// never cached.
/// </summary>
public sealed class QueryEmbeddingCacheTests
{
    [Fact]
    public async Task GenerateAsync_SameQueryTwice_ModelRunsOnceAndVectorsAgree()
    {
        var model = new BagOfWordsEmbeddingGenerator();
        using var cache = new QueryEmbeddingCache(model, capacity: 8);

        var first = await cache.GenerateAsync(["red kettle"], EmbeddingInput.QueryOptions);
        var second = await cache.GenerateAsync(["red kettle"], EmbeddingInput.QueryOptions);

        Assert.Equal(1, model.TextsEmbedded);
        Assert.Equal(first[0].Vector.ToArray(), second[0].Vector.ToArray());
        Assert.Equal(model.Embed("red kettle"), second[0].Vector.ToArray());
        Assert.Equal((1L, 1L), cache.Counts);
    }

    [Fact]
    public async Task GenerateAsync_MoreTextsThanCapacity_KeepsTheMostRecentlyUsed()
    {
        var model = new BagOfWordsEmbeddingGenerator();
        using var cache = new QueryEmbeddingCache(model, capacity: 2);

        await cache.GenerateAsync(["a"], EmbeddingInput.QueryOptions);
        await cache.GenerateAsync(["b"], EmbeddingInput.QueryOptions);
        await cache.GenerateAsync(["a"], EmbeddingInput.QueryOptions); // a is now the most recent
        await cache.GenerateAsync(["c"], EmbeddingInput.QueryOptions); // b goes
        Assert.Equal(2, cache.Count);
        Assert.Equal(3, model.TextsEmbedded);

        await cache.GenerateAsync(["a"], EmbeddingInput.QueryOptions);
        await cache.GenerateAsync(["c"], EmbeddingInput.QueryOptions);
        Assert.Equal(3, model.TextsEmbedded);

        await cache.GenerateAsync(["b"], EmbeddingInput.QueryOptions);
        Assert.Equal(4, model.TextsEmbedded);
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public async Task GenerateAsync_OtherModelId_SeparateEntries()
    {
        var model = new BagOfWordsEmbeddingGenerator();
        using var cache = new QueryEmbeddingCache(model, capacity: 8);
        var otherModel = new EmbeddingGenerationOptions
        {
            ModelId = "other-model",
            AdditionalProperties = new AdditionalPropertiesDictionary { [EmbeddingInput.KindProperty] = EmbeddingInput.Query },
        };

        await cache.GenerateAsync(["kettle"], EmbeddingInput.QueryOptions);
        await cache.GenerateAsync(["kettle"], otherModel);
        await cache.GenerateAsync(["Kettle"], EmbeddingInput.QueryOptions); // the text is the key as given

        Assert.Equal(3, model.TextsEmbedded);
        Assert.Equal(3, cache.Count);
    }

    [Fact]
    public async Task GenerateAsync_TwoModelsBehindTwoCaches_NeverShareAVector()
    {
        // Keyed by the inner generator's model id: a cache in front of another model is another key space.
        var small = new BagOfWordsEmbeddingGenerator(dimensions: 16, modelId: "bow-16");
        var large = new BagOfWordsEmbeddingGenerator(dimensions: 32, modelId: "bow-32");
        using var first = new QueryEmbeddingCache(small, capacity: 4);
        using var second = new QueryEmbeddingCache(large, capacity: 4);

        var a = await first.GenerateAsync(["lamp"], EmbeddingInput.QueryOptions);
        var b = await second.GenerateAsync(["lamp"], EmbeddingInput.QueryOptions);

        Assert.Equal(16, a[0].Vector.Length);
        Assert.Equal(32, b[0].Vector.Length);
    }

    [Fact]
    public async Task GenerateAsync_ProductTexts_NotCached()
    {
        var model = new BagOfWordsEmbeddingGenerator();
        using var cache = new QueryEmbeddingCache(model, capacity: 8);

        await cache.GenerateAsync(["blue mug", "green mug"]);
        await cache.GenerateAsync(["blue mug", "green mug"]);

        Assert.Equal(4, model.TextsEmbedded);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task GenerateAsync_BatchWithSomeCached_EmbedsOnlyTheMissingInOrder()
    {
        var model = new BagOfWordsEmbeddingGenerator();
        using var cache = new QueryEmbeddingCache(model, capacity: 8);
        await cache.GenerateAsync(["b"], EmbeddingInput.QueryOptions);

        var result = await cache.GenerateAsync(["a", "b", "c"], EmbeddingInput.QueryOptions);

        Assert.Equal(3, model.TextsEmbedded);
        Assert.Equal(model.Embed("a"), result[0].Vector.ToArray());
        Assert.Equal(model.Embed("b"), result[1].Vector.ToArray());
        Assert.Equal(model.Embed("c"), result[2].Vector.ToArray());
    }

    [Fact]
    public void Constructor_CapacityBelowOne_Refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new QueryEmbeddingCache(new BagOfWordsEmbeddingGenerator(), 0));
    }

    [Fact]
    public void GetService_FindsTheCacheAndTheInnerMetadata()
    {
        using var cache = new QueryEmbeddingCache(new BagOfWordsEmbeddingGenerator(modelId: "bow-x"), 4);

        Assert.Same(cache, cache.GetService<QueryEmbeddingCache>());
        Assert.Equal("bow-x", cache.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelId);
    }
}
