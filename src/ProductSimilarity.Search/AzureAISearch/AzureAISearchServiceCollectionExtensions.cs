using Azure;
using Azure.Core;
using Azure.Search.Documents;
using Azure.Search.Documents.Indexes;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ProductSimilarity.Core.Configuration;

namespace ProductSimilarity.Search.AzureAISearch;

/// <summary>Registers the Azure AI Search clients and the index adapter once, through Microsoft.Extensions.Azure.</summary>
public static class AzureAISearchServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="SearchIndexClient"/> and <see cref="SearchClient"/> as singletons with
    /// <c>AddAzureClients</c>, built from <c>ProductSimilarity:Index:AzureAISearch</c> when first resolved, and
    /// <see cref="AzureAISearchProductIndex"/> over them with its logger. With <see cref="AzureAISearchIndexOptions.ApiKey"/>
    /// set the clients authenticate with that key; otherwise with the builder's credential
    /// (<c>DefaultAzureCredential</c>, that is managed identity in Azure, unless <c>UseCredential</c> names another).
    /// The SDK retry policy is <see cref="AzureAISearchProductIndex.CreateClientOptions"/>'s.
    /// </summary>
    /// <remarks>
    /// Nothing is checked here: the endpoint, index name and analyzer are validated on start by the options validator,
    /// and nothing is created until the index is resolved, so registering it costs nothing when the local index is used.
    /// </remarks>
    /// <param name="services">The services; <see cref="ProductSimilarityOptions"/> must be registered.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddAzureAISearchProductIndex(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddAzureClients(clients =>
        {
            // Endpoint! : the options validator has checked it on start (required and https when Provider=AzureAISearch).
            clients.AddClient<SearchIndexClient, SearchClientOptions>((options, credential, provider) =>
            {
                var settings = Settings(provider);
                return string.IsNullOrEmpty(settings.ApiKey)
                    ? new SearchIndexClient(settings.Endpoint!, credential, options)
                    : new SearchIndexClient(settings.Endpoint!, new AzureKeyCredential(settings.ApiKey), options);
            }).ConfigureOptions((options, provider) => ApplyRetryPolicy(options, Settings(provider)));
            clients.AddClient<SearchClient, SearchClientOptions>((options, credential, provider) =>
            {
                var settings = Settings(provider);
                return string.IsNullOrEmpty(settings.ApiKey)
                    ? new SearchClient(settings.Endpoint!, settings.IndexName, credential, options)
                    : new SearchClient(settings.Endpoint!, settings.IndexName, new AzureKeyCredential(settings.ApiKey), options);
            }).ConfigureOptions((options, provider) => ApplyRetryPolicy(options, Settings(provider)));
        });

        services.TryAddSingleton(provider => new AzureAISearchProductIndex(
            provider.GetRequiredService<SearchIndexClient>(),
            provider.GetRequiredService<SearchClient>(),
            Settings(provider).Analyzer,
            provider.GetService<ILogger<AzureAISearchProductIndex>>(),
            provider.GetService<TimeProvider>()));
        return services;
    }

    private static AzureAISearchIndexOptions Settings(IServiceProvider provider)
        => provider.GetRequiredService<IOptions<ProductSimilarityOptions>>().Value.Index.AzureAISearch;

    private static void ApplyRetryPolicy(SearchClientOptions options, AzureAISearchIndexOptions settings)
    {
        // Bounded: MaxRetries tries after the first, each cut off after TimeoutSeconds (a hung connection cannot stall a request).
        var policy = AzureAISearchProductIndex.CreateClientOptions(settings.MaxRetries, TimeSpan.FromSeconds(settings.TimeoutSeconds)).Retry;
        options.Retry.NetworkTimeout = policy.NetworkTimeout;
        options.Retry.Mode = policy.Mode;
        options.Retry.MaxRetries = policy.MaxRetries;
        options.Retry.Delay = policy.Delay;
        options.Retry.MaxDelay = policy.MaxDelay;
    }
}
