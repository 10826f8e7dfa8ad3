using System.ClientModel;
using Azure.AI.OpenAI;
using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.AI;
using ProductSimilarity.Core.Configuration;

namespace ProductSimilarity.Embeddings.AzureOpenAI;

/// <summary>
/// Creates the Azure OpenAI <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> from
/// <c>ProductSimilarity:Embeddings:AzureOpenAI</c> settings.
/// </summary>
/// <remarks>
/// Thread-safe (stateless). Create the generator once and share it: it wraps one <see cref="AzureOpenAIClient"/>,
/// whose HTTP pipeline is meant to be a singleton.
/// </remarks>
public static class AzureOpenAIEmbeddingGeneratorFactory
{
    /// <summary>The <see cref="EmbeddingGeneratorMetadata.ProviderName"/> of the generators made here.</summary>
    public const string ProviderName = "azure-openai";

    /// <summary>The configuration section the options are bound from, used in error messages.</summary>
    public const string ConfigurationSection = "ProductSimilarity:Embeddings:AzureOpenAI";

    /// <summary>Creates a generator for the configured deployment.</summary>
    /// <param name="options">Endpoint, deployment, dimensions, optional API key and batch size.</param>
    /// <param name="credential">
    /// The token credential to use when <see cref="AzureOpenAIEmbeddingOptions.ApiKey"/> is empty;
    /// <see cref="DefaultAzureCredential"/> (managed identity in Azure) when <see langword="null"/>.
    /// A configured API key wins over it: setting one is an explicit operator choice.
    /// </param>
    /// <param name="clientOptions">
    /// Client pipeline options (transport, API version, audience). When <see langword="null"/>, or when it still has
    /// the SDK's own retry policy, its retry policy becomes an <see cref="AzureOpenAIRetryPolicy"/>; a retry policy
    /// the caller set is kept; its network timeout, when unset, becomes <c>TimeoutSeconds</c>. The options are frozen once
    /// the client is built.
    /// </param>
    /// <returns>A generator with metadata <c>azure-openai</c> / deployment / dimensions, returning unit-length vectors.</returns>
    /// <exception cref="ArgumentException">A setting is missing or out of range; the message names the configuration key.</exception>
    public static IEmbeddingGenerator<string, Embedding<float>> Create(
        AzureOpenAIEmbeddingOptions options,
        TokenCredential? credential = null,
        AzureOpenAIClientOptions? clientOptions = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);

        clientOptions ??= new AzureOpenAIClientOptions();
        if (clientOptions.RetryPolicy is null || clientOptions.RetryPolicy.GetType().Assembly == typeof(AzureOpenAIClient).Assembly)
        {
            clientOptions.RetryPolicy = new AzureOpenAIRetryPolicy(options.MaxRetries);
        }

        // Each try ends after TimeoutSeconds (the SDK default is 100 s), so a hung connection costs at most
        // (MaxRetries + 1) x TimeoutSeconds plus the waits between tries.
        clientOptions.NetworkTimeout ??= TimeSpan.FromSeconds(options.TimeoutSeconds);

        Uri endpoint = options.Endpoint!;
        AzureOpenAIClient client = string.IsNullOrWhiteSpace(options.ApiKey)
            ? new AzureOpenAIClient(endpoint, credential ?? new DefaultAzureCredential(), clientOptions)
            : new AzureOpenAIClient(endpoint, new ApiKeyCredential(options.ApiKey.Trim()), clientOptions);

        string deployment = options.Deployment!.Trim();
        return new AzureOpenAIEmbeddingGenerator(
            client.GetEmbeddingClient(deployment), endpoint, deployment, options.Dimensions, options.BatchSize);
    }

    /// <summary>Checks the options, reporting every problem at once with the configuration key it concerns.</summary>
    /// <exception cref="ArgumentException">At least one setting is missing or out of range.</exception>
    internal static void Validate(AzureOpenAIEmbeddingOptions options)
    {
        List<string> errors = [];
        if (options.Endpoint is null)
        {
            errors.Add($"{ConfigurationSection}:Endpoint is required (e.g. https://my-aoai.openai.azure.com/).");
        }
        else if (!options.Endpoint.IsAbsoluteUri
            || !(options.Endpoint.Scheme == Uri.UriSchemeHttps || (options.Endpoint.Scheme == Uri.UriSchemeHttp && options.Endpoint.IsLoopback)))
        {
            errors.Add($"{ConfigurationSection}:Endpoint must be an absolute https URI, got '{options.Endpoint}'.");
        }
        else if (options.Endpoint.AbsolutePath.Contains("/openai/", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"{ConfigurationSection}:Endpoint must be the resource endpoint without a path "
                + $"(e.g. https://my-aoai.openai.azure.com/), got '{options.Endpoint}'.");
        }

        if (string.IsNullOrWhiteSpace(options.Deployment))
        {
            errors.Add($"{ConfigurationSection}:Deployment is required (the name of the embedding model deployment).");
        }

        if (options.Dimensions is < 1 or > 3072)
        {
            errors.Add($"{ConfigurationSection}:Dimensions must be between 1 and 3072, got {options.Dimensions}.");
        }

        if (options.BatchSize is < 1 or > AzureOpenAIEmbeddingGenerator.ServiceMaxInputsPerRequest)
        {
            errors.Add($"{ConfigurationSection}:BatchSize must be between 1 and {AzureOpenAIEmbeddingGenerator.ServiceMaxInputsPerRequest}, got {options.BatchSize}.");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        }
    }
}
