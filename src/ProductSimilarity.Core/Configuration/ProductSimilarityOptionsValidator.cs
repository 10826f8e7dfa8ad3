using System.ComponentModel.DataAnnotations;
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
        ValidateAnnotations(failures, $"{root}:Embeddings:Onnx", options.Embeddings.Onnx);
        ValidateAnnotations(failures, $"{root}:Embeddings:AzureOpenAI", options.Embeddings.AzureOpenAI);
        ValidateAnnotations(failures, $"{root}:Index:AzureAISearch", options.Index.AzureAISearch);
        ValidateAnnotations(failures, $"{root}:Ranking", options.Ranking);
        ValidateAnnotations(failures, $"{root}:Ingestion", options.Ingestion);

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

    // ValidateDataAnnotations checks only the root object; the ranges live on the nested sections.
    private static void ValidateAnnotations(List<string> failures, string section, object value)
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(value, new ValidationContext(value), results, validateAllProperties: true))
        {
            foreach (var result in results)
            {
                foreach (var member in result.MemberNames.DefaultIfEmpty(string.Empty))
                {
                    failures.Add($"{section}:{member}: {result.ErrorMessage}");
                }
            }
        }
    }

    /// <summary>Analyzers accepted for Azure AI Search text fields.</summary>
    public static IReadOnlyList<string> AllowedAnalyzers { get; } = ["en.lucene", "zh-Hans.lucene", "standard.lucene"];
}
