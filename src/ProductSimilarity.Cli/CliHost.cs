using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ProductSimilarity.Api;
using ProductSimilarity.Core.Configuration;

namespace ProductSimilarity.Cli;

/// <summary>Builds the service provider for one command: configuration from psim.json, environment and flags.</summary>
internal static class CliHost
{
    /// <summary>Builds the service provider for a command, with the sources of <see cref="PsimConfiguration.AddPsimConfiguration"/>.</summary>
    /// <remarks>
    /// The local index of these commands refreshes on read (never in the background): a one-shot command reads the commit
    /// it opened, and an ingestion's own commits are visible at once; a background refresh would only load every new
    /// segment's vectors into the writer. <c>psim serve</c>, which builds its own host, keeps the configured refresh.
    /// </remarks>
    public static ServiceProvider Build(GlobalSettings settings, IDictionary<string, string?>? overrides = null)
    {
        var values = new Dictionary<string, string?>(overrides ?? new Dictionary<string, string?>(), StringComparer.OrdinalIgnoreCase)
        {
            ["ProductSimilarity:Index:Local:RefreshIntervalMilliseconds"] = "0",
        };
        var configuration = new ConfigurationBuilder().AddPsimConfiguration(settings, values).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(logging => logging
            .AddSimpleConsole(o => o.SingleLine = true)
            .AddFilter(level => level >= (settings.Verbose ? LogLevel.Debug : LogLevel.Warning)));
        services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        services.AddProductSimilarity(configuration);
        var provider = services.BuildServiceProvider();
        try
        {
            _ = provider.GetRequiredService<IOptions<ProductSimilarityOptions>>().Value;
        }
        catch (OptionsValidationException ex)
        {
            provider.Dispose();
            throw new CliException("invalid configuration: " + string.Join(" ", ex.Failures), ExitCodes.Usage);
        }

        return provider;
    }
}

/// <summary>Configuration layering shared by every command, <c>psim serve</c> included.</summary>
internal static class PsimConfiguration
{
    /// <summary>Configuration sources, later wins: <c>psim.json</c> (or <c>--config</c>), environment variables
    /// (<c>ProductSimilarity__Index__Local__Path</c>), then command-line flags such as <c>--index</c>.</summary>
    public static IConfigurationBuilder AddPsimConfiguration(this IConfigurationBuilder builder, GlobalSettings settings, IDictionary<string, string?>? overrides = null)
    {
        if (settings.ConfigFile is { } file)
        {
            if (!File.Exists(file))
            {
                throw new CliException($"config file '{file}' was not found.", ExitCodes.Usage);
            }

            builder.AddJsonFile(Path.GetFullPath(file), optional: false);
        }
        else
        {
            builder.AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "psim.json"), optional: true);
        }

        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (settings.Index is { } index)
        {
            values["ProductSimilarity:Index:Provider"] = nameof(IndexProvider.Local);
            values["ProductSimilarity:Index:Local:Path"] = index;
        }

        if (overrides is not null)
        {
            foreach (var (key, value) in overrides)
            {
                values[key] = value;
            }
        }

        return builder.AddEnvironmentVariables().AddInMemoryCollection(values);
    }
}

/// <summary>Options every command takes.</summary>
/// <param name="Index">The local index folder (<c>--index</c>), or null for the configured default.</param>
/// <param name="ConfigFile">A JSON configuration file (<c>--config</c>).</param>
/// <param name="Verbose">Debug logging to stderr.</param>
internal sealed record GlobalSettings(string? Index, string? ConfigFile, bool Verbose);
