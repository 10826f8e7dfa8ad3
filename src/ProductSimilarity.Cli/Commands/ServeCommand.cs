using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ProductSimilarity.Api;

namespace ProductSimilarity.Cli.Commands;

/// <summary><c>psim serve</c>: the same HTTP API as the Functions app, from the same code, on a local port.</summary>
internal static class ServeCommand
{
    public const string DefaultUrl = "http://localhost:5080";

    public static Command Create(CliConsole console)
    {
        var urls = new Option<string>("--urls") { Description = $"Address to listen on. Default: {DefaultUrl}.", DefaultValueFactory = _ => DefaultUrl };
        var command = new Command("serve", "Serve the HTTP API (/api/products/{id}/similar, /api/search, /api/recommendations, /api/health...) the demo page (/) and the OpenAPI document (/openapi.json) locally. No function keys are required locally.") { urls };
        command.SetAction(async (parse, ct) =>
        {
            var globals = PsimApp.Globals(parse);
            var builder = WebApplication.CreateSlimBuilder();
            builder.Configuration.AddPsimConfiguration(globals); // the same layering as every other command

            builder.Logging.SetMinimumLevel(globals.Verbose ? LogLevel.Debug : LogLevel.Information);
            // Request URLs carry user input (search text, product ids viewed): keep them out of the log.
            builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
            builder.Logging.AddFilter("Microsoft.AspNetCore.Routing", LogLevel.Warning);
            builder.Logging.AddFilter("Microsoft.AspNetCore.Http.Result", LogLevel.Warning);
            builder.Logging.AddFilter("Microsoft.AspNetCore.Http.HttpResults", LogLevel.Warning); // two lines per 404 otherwise
            builder.WebHost.UseUrls(parse.GetRequiredValue(urls));
            builder.Services.AddProductSimilarity(builder.Configuration).AddProductApi();
            builder.Services.AddProductApiOpenApi();
            builder.Services.AddHostedService<ServingWarmup>(); // index and model loaded before the first request
            builder.Services.AddProductSimilarityTelemetry(builder.Configuration); // ProductSimilarity:Telemetry:Exporter = None | Console | Otlp
            var app = builder.Build();
            app.MapProductApi();
            app.MapProductApiOpenApi();
            app.MapDemoPage();
            console.Note($"psim serve: listening on {parse.GetRequiredValue(urls)}; the demo page is at / (Ctrl+C to stop)");
            await app.StartAsync(ct).ConfigureAwait(false);
            await app.WaitForShutdownAsync(ct).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
