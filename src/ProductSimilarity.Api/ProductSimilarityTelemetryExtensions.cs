using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using ProductSimilarity.Core.Diagnostics;

namespace ProductSimilarity.Api;

/// <summary>Where <c>psim serve</c> and the Functions app send traces and metrics besides Application Insights.</summary>
public enum TelemetryExporter
{
    /// <summary>Nowhere (the default locally; the Functions app still exports to Application Insights when configured).</summary>
    None,

    /// <summary>Printed on the console (for a look while developing).</summary>
    Console,

    /// <summary>OTLP to <see cref="TelemetryOptions.OtlpEndpoint"/> (an OpenTelemetry collector, Jaeger, Aspire dashboard...).</summary>
    Otlp,
}

/// <summary>Settings under <c>ProductSimilarity:Telemetry</c>.</summary>
public sealed record TelemetryOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "ProductSimilarity:Telemetry";

    /// <summary>The local exporter.</summary>
    public TelemetryExporter Exporter { get; init; } = TelemetryExporter.None;

    /// <summary>The OTLP endpoint; empty uses the OpenTelemetry default (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, else <c>http://localhost:4317</c>).</summary>
    public Uri? OtlpEndpoint { get; init; }
}

/// <summary>Registers OpenTelemetry for ProductSimilarity's <see cref="ProductSimilarityTelemetry"/> source and meter.</summary>
public static class ProductSimilarityTelemetryExtensions
{
    /// <summary>
    /// Adds the OpenTelemetry SDK with ProductSimilarity's activity source and meter (and those of the embedding
    /// pipeline), with the exporter chosen by <c>ProductSimilarity:Telemetry:Exporter</c> (<c>None</c>, <c>Console</c>,
    /// <c>Otlp</c>). Returns the builder so a host can add its own exporter (the Functions app adds Azure Monitor).
    /// </summary>
    public static IOpenTelemetryBuilder AddProductSimilarityTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var options = configuration.GetSection(TelemetryOptions.SectionName).Get<TelemetryOptions>() ?? new TelemetryOptions();
        var builder = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("ProductSimilarity"))
            .WithTracing(tracing =>
            {
                tracing.AddSource(ProductSimilarityTelemetry.Name);
                switch (options.Exporter)
                {
                    case TelemetryExporter.Console:
                        tracing.AddConsoleExporter();
                        break;
                    case TelemetryExporter.Otlp:
                        tracing.AddOtlpExporter(o => SetEndpoint(o, options));
                        break;
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(ProductSimilarityTelemetry.Name);
                switch (options.Exporter)
                {
                    case TelemetryExporter.Console:
                        metrics.AddConsoleExporter();
                        break;
                    case TelemetryExporter.Otlp:
                        metrics.AddOtlpExporter(o => SetEndpoint(o, options));
                        break;
                }
            });
        return builder;
    }

    private static void SetEndpoint(OpenTelemetry.Exporter.OtlpExporterOptions exporter, TelemetryOptions options)
    {
        if (options.OtlpEndpoint is { } endpoint)
        {
            exporter.Endpoint = endpoint;
        }
    }
}
