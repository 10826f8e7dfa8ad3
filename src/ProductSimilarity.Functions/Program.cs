using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Hosting;
using ProductSimilarity.Api;
using ProductSimilarity.Functions;

var builder = FunctionsApplication.CreateBuilder(args);

builder.ConfigureFunctionsWebApplication();

// A model kept in the "models" blob container (ProductSimilarity:Embeddings:Onnx:ModelBlobUrl) is copied to a local
// cache before anything embeds; without that setting, ModelPath (e.g. a file in the deployment package) or the bundled model serves.
await BlobModelSource.ApplyAsync(builder.Configuration);

builder.Services.AddProductSimilarity(builder.Configuration);
builder.Services.AddProductApi();
builder.Services.AddProductSimilarityTelemetry(builder.Configuration)
    .UseFunctionsWorkerDefaults()
    .AddApplicationInsightsExport(builder.Configuration);

await builder.Build().RunAsync();
