using Microsoft.Extensions.Options;

namespace ProductSimilarity.Core.Configuration;

/// <summary>Cross-field validation of <see cref="ProductSimilarityOptions"/>, run on start.</summary>
/// <remarks>Stateless; thread-safe.</remarks>
public sealed class ProductSimilarityOptionsValidator : IValidateOptions<ProductSimilarityOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, ProductSimilarityOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        const string root = ProductSimilarityOptions.SectionName;

        var embeddings = options.Embeddings;
        if (embeddings.Provider == EmbeddingProvider.AzureOpenAI)
        {
            if (embeddings.AzureOpenAI.Endpoint is null)
            {
                failures.Add($"{root}:Embeddings:AzureOpenAI:Endpoint is required when Provider=AzureOpenAI.");
            }
            else if (embeddings.AzureOpenAI.Endpoint.Scheme != Uri.UriSchemeHttps)
            {
                failures.Add($"{root}:Embeddings:AzureOpenAI:Endpoint must be an https address.");
            }

            if (string.IsNullOrWhiteSpace(embeddings.AzureOpenAI.Deployment))
            {
                failures.Add($"{root}:Embeddings:AzureOpenAI:Deployment is required when Provider=AzureOpenAI.");
            }
        }

        var index = options.Index;
        if (index.Provider == IndexProvider.AzureAISearch)
        {
            if (index.AzureAISearch.Endpoint is null)
            {
                failures.Add($"{root}:Index:AzureAISearch:Endpoint is required when Provider=AzureAISearch.");
            }
            else if (index.AzureAISearch.Endpoint.Scheme != Uri.UriSchemeHttps)
            {
                failures.Add($"{root}:Index:AzureAISearch:Endpoint must be an https address.");
            }

            if (!AllowedAnalyzers.Contains(index.AzureAISearch.Analyzer))
            {
                failures.Add($"{root}:Index:AzureAISearch:Analyzer must be one of {string.Join(", ", AllowedAnalyzers)}.");
            }
        }
        else if (string.IsNullOrWhiteSpace(index.Local.Path))
        {
            failures.Add($"{root}:Index:Local:Path is required when Provider=Local.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Analyzers accepted for Azure AI Search text fields.</summary>
    public static IReadOnlyList<string> AllowedAnalyzers { get; } = ["en.lucene", "zh-Hans.lucene", "standard.lucene"];
}
