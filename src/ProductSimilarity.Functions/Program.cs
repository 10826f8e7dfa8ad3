using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Hosting;
using ProductSimilarity.Api;
using ProductSimilarity.Functions;

var builder = FunctionsApplication.CreateBuilder(args);

builder.ConfigureFunctionsWebApplication();

builder.Services.AddProductSimilarity(builder.Configuration);
builder.Services.AddProductApi();
builder.Services.AddProductSimilarityTelemetry(builder.Configuration)
    .UseFunctionsWorkerDefaults()
    .AddApplicationInsightsExport(builder.Configuration);

builder.Build().Run();
