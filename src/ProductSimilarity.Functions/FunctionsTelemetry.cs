using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.Configuration;
using OpenTelemetry;

namespace ProductSimilarity.Functions;

/// <summary>Sends the app's OpenTelemetry traces, metrics and logs to Application Insights with the managed identity.</summary>
public static class FunctionsTelemetry
{
    /// <summary>The app setting with the Application Insights connection string (set by infra/).</summary>
    public const string ConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>The app setting that asks for Entra ID authentication: <c>ClientId={user-assigned identity};Authorization=AAD</c> (set by infra/).</summary>
    public const string AuthenticationStringSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    /// <summary>
    /// Adds the Azure Monitor exporter when <see cref="ConnectionStringSetting"/> is set (in Azure; not locally), authenticating
    /// with the identity that <see cref="AuthenticationStringSetting"/> names, so the workspace can refuse key-based ingestion.
    /// </summary>
    public static IOpenTelemetryBuilder AddApplicationInsightsExport(this IOpenTelemetryBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        var connectionString = configuration[ConnectionStringSetting];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return builder;
        }

        var credential = CredentialFor(configuration[AuthenticationStringSetting]);
        return builder.UseAzureMonitorExporter(options =>
        {
            options.ConnectionString = connectionString;
            if (credential is not null)
            {
                options.Credential = credential;
            }
        });
    }

    /// <summary>
    /// The managed identity credential an authentication string asks for: <c>Authorization=AAD</c> with an optional
    /// <c>ClientId</c> (user-assigned identity; without it, the system-assigned one); null when it does not ask for Entra ID.
    /// </summary>
    public static TokenCredential? CredentialFor(string? authenticationString)
    {
        if (string.IsNullOrWhiteSpace(authenticationString))
        {
            return null;
        }

        var parts = authenticationString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2, StringSplitOptions.TrimEntries))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);
        if (!parts.TryGetValue("Authorization", out var authorization) || !string.Equals(authorization, "AAD", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return parts.TryGetValue("ClientId", out var clientId) && clientId.Length > 0
            ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
            : new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned);
    }
}
