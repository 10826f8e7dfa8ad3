using Microsoft.Extensions.AI;
using Microsoft.Extensions.Compliance.Classification;
using Microsoft.Extensions.Compliance.Redaction;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Diagnostics;
using ProductSimilarity.Core.Embeddings;
using ProductSimilarity.Core.Evaluation;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Ingestion;
using ProductSimilarity.Core.Similarity;
using ProductSimilarity.Core.Text;
using ProductSimilarity.Embeddings.Adapters;
using ProductSimilarity.Embeddings.AzureOpenAI;
using ProductSimilarity.Embeddings.Onnx;
using ProductSimilarity.Search.AzureAISearch;
using ProductSimilarity.Search.Local;

namespace ProductSimilarity.Api;

/// <summary>The one composition root shared by the Functions app, <c>psim</c> and the tests.</summary>
public static class ProductSimilarityServiceCollectionExtensions
{
    /// <summary>
    /// Registers the options tree (bound from <c>ProductSimilarity</c>, validated on start), the embedding generator
    /// pipeline (provider chosen by <c>ProductSimilarity:Embeddings:Provider</c>, wrapped with logging and OpenTelemetry),
    /// the index (<c>ProductSimilarity:Index:Provider</c>), the ingestion pipeline, the similarity service and the evaluator.
    /// </summary>
    public static IServiceCollection AddProductSimilarity(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<ProductSimilarityOptions>()
            .Bind(configuration.GetSection(ProductSimilarityOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ProductSimilarityOptions>, ProductSimilarityOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddLogging(logging => logging.EnableRedaction());

        // What a request carries is logged through redaction (issue: privacy): search text erased, ids as a short hash.
        services.AddRedaction(redaction => redaction
            .SetRedactor<ErasingRedactor>(new DataClassificationSet(UserDataTaxonomy.FreeText))
            .SetRedactor<ShortHashRedactor>(new DataClassificationSet(UserDataTaxonomy.RequestIdentifier)));

        services.TryAddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ProductSimilarityOptions>>().Value.Embeddings;
            IEmbeddingGenerator<string, Embedding<float>> inner = options.Provider switch
            {
                EmbeddingProvider.AzureOpenAI => AzureOpenAIEmbeddingGeneratorFactory.Create(options.AzureOpenAI),
                _ => OnnxBertEmbeddingGenerator.Create(options.Onnx),
            };
            if (!string.IsNullOrWhiteSpace(options.AdapterPath))
            {
                inner = LinearAdapterEmbeddingGenerator.Load(inner, options.AdapterPath);
            }

            // Innermost, so logging and OpenTelemetry still see every call; keyed by the (adapted) model's id.
            var cacheSize = sp.GetRequiredService<IOptions<ProductSimilarityOptions>>().Value.Serving.QueryEmbeddingCacheSize;
            if (cacheSize > 0)
            {
                inner = new QueryEmbeddingCache(inner, cacheSize);
            }

            return new EmbeddingGeneratorBuilder<string, Embedding<float>>(inner)
                .UseLogging(sp.GetService<ILoggerFactory>())
                .UseOpenTelemetry(sp.GetService<ILoggerFactory>(), sourceName: "ProductSimilarity")
                .Build(sp);
        });

        services.AddAzureAISearchProductIndex();
        services.TryAddSingleton<IProductIndex>(sp =>
        {
            var all = sp.GetRequiredService<IOptions<ProductSimilarityOptions>>().Value;
            var options = all.Index;
            return options.Provider switch
            {
                IndexProvider.AzureAISearch => sp.GetRequiredService<AzureAISearchProductIndex>(),
                _ => LocalProductIndex.Open(options.Local.Path, options: new LocalProductIndexOptions
                {
                    ModelNumberBoost = (float)options.Local.ModelCodeBoost,
                    NearCodeBoost = (float)options.Local.NearCodeBoost,
                    KeywordScorer = options.Local.KeywordScorer,
                    Text = TextNormalizer.For(all.Text),
                    RefreshInterval = options.Local.RefreshIntervalMilliseconds > 0
                        ? TimeSpan.FromMilliseconds(options.Local.RefreshIntervalMilliseconds)
                        : null,
                    Hnsw = new HnswSettings
                    {
                        MinProducts = options.Local.Hnsw.MinProducts,
                        Connectivity = options.Local.Hnsw.Connectivity,
                        ExpansionAdd = options.Local.Hnsw.ExpansionAdd,
                        ExpansionSearch = options.Local.Hnsw.ExpansionSearch,
                        MinFilterFraction = options.Local.Hnsw.MinFilterFraction,
                        Scalar = options.Local.Hnsw.Scalar,
                    },
                }),
            };
        });

        services.TryAddSingleton<IngestionPipeline>();
        services.TryAddSingleton<SimilarityService>();
        services.TryAddSingleton<RetrievalEvaluator>();
        return services;
    }
}
