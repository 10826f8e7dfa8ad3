using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using ProductSimilarity.Api;

var builder = FunctionsApplication.CreateBuilder(args);

builder.ConfigureFunctionsWebApplication();

builder.Services.AddProductSimilarity(builder.Configuration);
builder.Services.AddProductApi();

builder.Build().Run();
