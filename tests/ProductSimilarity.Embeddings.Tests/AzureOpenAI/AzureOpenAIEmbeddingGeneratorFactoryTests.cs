using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Embeddings.AzureOpenAI;

namespace ProductSimilarity.Embeddings.Tests.AzureOpenAI;

public sealed class AzureOpenAIEmbeddingGeneratorFactoryTests
{
    private static AzureOpenAIEmbeddingOptions Valid() => new()
    {
        Endpoint = new Uri("https://my-aoai.openai.azure.com/"),
        Deployment = "emb",
        Dimensions = 1536,
        ApiKey = "key",
        BatchSize = 256,
    };

    public static TheoryData<string, Action<AzureOpenAIEmbeddingOptions>> InvalidSettings => new()
    {
        { "ProductSimilarity:Embeddings:AzureOpenAI:Endpoint is required", o => o.Endpoint = null },
        { "ProductSimilarity:Embeddings:AzureOpenAI:Endpoint must be an absolute https URI", o => o.Endpoint = new Uri("http://my-aoai.openai.azure.com/") },
        { "ProductSimilarity:Embeddings:AzureOpenAI:Endpoint must be an absolute https URI", o => o.Endpoint = new Uri("my-aoai", UriKind.Relative) },
        { "ProductSimilarity:Embeddings:AzureOpenAI:Endpoint must be the resource endpoint without a path", o => o.Endpoint = new Uri("https://my-aoai.openai.azure.com/openai/deployments/emb/embeddings") },
        { "ProductSimilarity:Embeddings:AzureOpenAI:Deployment is required", o => o.Deployment = null },
        { "ProductSimilarity:Embeddings:AzureOpenAI:Deployment is required", o => o.Deployment = "  " },
        { "ProductSimilarity:Embeddings:AzureOpenAI:Dimensions must be between 1 and 3072, got 0", o => o.Dimensions = 0 },
        { "ProductSimilarity:Embeddings:AzureOpenAI:Dimensions must be between 1 and 3072, got 4096", o => o.Dimensions = 4096 },
        { "ProductSimilarity:Embeddings:AzureOpenAI:BatchSize must be between 1 and 2048, got 0", o => o.BatchSize = 0 },
        { "ProductSimilarity:Embeddings:AzureOpenAI:BatchSize must be between 1 and 2048, got 4096", o => o.BatchSize = 4096 },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public void Create_InvalidSetting_ThrowsNamingConfigurationKey(string expectedMessage, Action<AzureOpenAIEmbeddingOptions> breakIt)
    {
        AzureOpenAIEmbeddingOptions options = Valid();
        breakIt(options);

        var ex = Assert.Throws<ArgumentException>(() => AzureOpenAIEmbeddingGeneratorFactory.Create(options));

        Assert.Contains(expectedMessage, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_SeveralInvalidSettings_ReportsEveryOne()
    {
        var options = new AzureOpenAIEmbeddingOptions { Endpoint = null, Deployment = null };

        var ex = Assert.Throws<ArgumentException>(() => AzureOpenAIEmbeddingGeneratorFactory.Create(options));

        Assert.Contains("AzureOpenAI:Endpoint is required", ex.Message, StringComparison.Ordinal);
        Assert.Contains("AzureOpenAI:Deployment is required", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_LoopbackHttpEndpoint_IsAccepted()
    {
        AzureOpenAIEmbeddingOptions options = Valid();
        options.Endpoint = new Uri("http://localhost:8080/");

        using var generator = AzureOpenAIEmbeddingGeneratorFactory.Create(options);

        Assert.NotNull(generator);
    }
}
