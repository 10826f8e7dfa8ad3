using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Similarity;
using ProductSimilarity.Core.Tests.Fakes;

namespace ProductSimilarity.Core.Tests.Configuration;

public sealed class LimitsOptionsTests
{
    [Fact]
    public async Task RecommendAsync_HistoryAboveConfiguredMax_ThrowsNamingTheKey()
    {
        var options = new ProductSimilarityOptions { Limits = { MaxHistory = 2 } };
        var service = new SimilarityService(new InMemoryProductIndex(), new BagOfWordsEmbeddingGenerator(), Options.Create(options), new FakeTimeProvider());
        HistoryEvent[] history = [new("A", InteractionKind.View, null), new("B", InteractionKind.View, null), new("C", InteractionKind.Cart, null)];

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => service.RecommendAsync(new RecommendationRequest { History = history }));

        Assert.Contains("at most 2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ProductSimilarity:Limits:MaxHistory", ex.Message, StringComparison.Ordinal);
        Assert.Empty((await service.RecommendAsync(new RecommendationRequest { History = history[..2] })).Hits); // within the limit: no error (empty index)
    }

    [Theory]
    [InlineData("MaxTop", 0)]
    [InlineData("MaxIdLength", 513)]
    [InlineData("MaxHistory", 0)]
    [InlineData("MaxRequestBodyBytes", 100)]
    [InlineData("MaxQueryLength", 0)]
    [InlineData("MaxFilterLength", 0)]
    public void Validate_LimitOutOfRange_FailsNamingTheKey(string key, int value)
    {
        var options = new ProductSimilarityOptions();
        typeof(LimitsOptions).GetProperty(key)!.SetValue(options.Limits, value);

        var result = new ProductSimilarityOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith($"ProductSimilarity:Limits:{key}:", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_Defaults_Pass() =>
        Assert.False(new ProductSimilarityOptionsValidator().Validate(null, new ProductSimilarityOptions()).Failed);
}
