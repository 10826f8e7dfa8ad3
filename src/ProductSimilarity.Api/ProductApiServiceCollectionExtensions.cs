using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using ProductSimilarity.Api.Http;
using ProductSimilarity.Api.Ingestion;

namespace ProductSimilarity.Api;

/// <summary>Registers the HTTP handlers and the blob ingestor that the Functions app and <c>psim serve</c> share.</summary>
public static class ProductApiServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="ProductApi"/>, <see cref="ExplorerApi"/> and <see cref="BlobCatalogIngestor"/> as singletons. Needs the services of
    /// <c>AddProductSimilarity</c>. Safe to call more than once.
    /// </summary>
    public static IServiceCollection AddProductApi(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<ProductApi>();
        services.TryAddSingleton<ExplorerApi>();
        services.TryAddSingleton<BlobCatalogIngestor>();
        return services;
    }
}
