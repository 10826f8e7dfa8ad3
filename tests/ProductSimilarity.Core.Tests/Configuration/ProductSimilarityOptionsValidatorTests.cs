using ProductSimilarity.Core.Configuration;

namespace ProductSimilarity.Core.Tests.Configuration;

public sealed class ProductSimilarityOptionsValidatorTests
{
    private readonly ProductSimilarityOptionsValidator _validator = new();

    [Fact]
    public void Validate_Defaults_Succeed()
    {
        Assert.True(_validator.Validate(null, new ProductSimilarityOptions()).Succeeded);
    }

    [Fact]
    public void Validate_AzureAISearchWithoutEndpoint_NamesTheKey()
    {
        var options = new ProductSimilarityOptions { Index = new IndexOptions { Provider = IndexProvider.AzureAISearch } };

        var result = _validator.Validate(null, options);

        Assert.Contains("ProductSimilarity:Index:AzureAISearch:Endpoint is required when Provider=AzureAISearch.", result.Failures!);
    }

    [Fact]
    public void Validate_AzureOpenAIWithoutEndpointAndDeployment_ReportsBoth()
    {
        var options = new ProductSimilarityOptions { Embeddings = new EmbeddingOptions { Provider = EmbeddingProvider.AzureOpenAI } };

        var failures = _validator.Validate(null, options).Failures!.ToList();

        Assert.Contains(failures, f => f.StartsWith("ProductSimilarity:Embeddings:AzureOpenAI:Endpoint is required", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("ProductSimilarity:Embeddings:AzureOpenAI:Deployment is required", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_HttpEndpoint_Rejected()
    {
        var options = new ProductSimilarityOptions
        {
            Index = new IndexOptions { Provider = IndexProvider.AzureAISearch, AzureAISearch = new AzureAISearchIndexOptions { Endpoint = new Uri("http://search.example") } },
        };

        Assert.Contains("ProductSimilarity:Index:AzureAISearch:Endpoint must be an https address.", _validator.Validate(null, options).Failures!);
    }

    [Theory]
    [InlineData("Ranking:RrfK")]
    [InlineData("Ranking:VectorWeight")]
    [InlineData("Ingestion:BatchSize")]
    [InlineData("Embeddings:Onnx:MaxTokens")]
    [InlineData("Index:AzureAISearch:IndexName")]
    public void Validate_NestedOutOfRange_NamesTheKey(string key)
    {
        var options = new ProductSimilarityOptions();
        switch (key)
        {
            case "Ranking:RrfK": options.Ranking.RrfK = 0; break;
            case "Ranking:VectorWeight": options.Ranking.VectorWeight = 1.5; break;
            case "Ingestion:BatchSize": options.Ingestion.BatchSize = 0; break;
            case "Embeddings:Onnx:MaxTokens": options.Embeddings.Onnx.MaxTokens = 4; break;
            default: options.Index.AzureAISearch.IndexName = "Bad Name!"; break;
        }

        var result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith("ProductSimilarity:" + key + ":", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_NestedRange_KeepsTheDocumentedMessage()
    {
        var options = new ProductSimilarityOptions();
        options.Ranking.RrfK = 0;
        options.Ingestion.CommitEvery = 0;

        var failures = _validator.Validate(null, options).Failures!.ToList();

        Assert.Contains("ProductSimilarity:Ranking:RrfK: The field RrfK must be between 1 and 1000.", failures);
        Assert.Contains("ProductSimilarity:Ingestion:CommitEvery: The field CommitEvery must be between 1 and 10000.", failures);
        Assert.Equal(2, failures.Count);
    }

    [Fact]
    public void Validate_UnknownAnalyzer_ListsAllowed()
    {
        var options = new ProductSimilarityOptions
        {
            Index = new IndexOptions
            {
                Provider = IndexProvider.AzureAISearch,
                AzureAISearch = new AzureAISearchIndexOptions { Endpoint = new Uri("https://s.search.windows.net"), Analyzer = "fr.lucene" },
            },
        };

        var failure = Assert.Single(_validator.Validate(null, options).Failures!);
        Assert.Contains("en.lucene, zh-Hans.lucene, zh-Hans.microsoft, psim-cjk-bigram, standard.lucene", failure, StringComparison.Ordinal);
    }
}
