using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace ProductSimilarity.Infra.Tests;

/// <summary>
/// main.bicepparam evaluated with the variables azd really sets. In .bicepparam mode azd passes its .env values
/// and AZURE_PRINCIPAL_ID to `bicep build-params`, on top of the process environment, but never
/// AZURE_PRINCIPAL_TYPE (Azure/azure-dev, bicep_provider.go compileBicep); only main.parameters.json
/// substitution fills that one. A pipeline created by `azd pipeline config` runs azd as a service principal:
/// GitHub Actions sets GITHUB_ACTIONS and the workflow's AZURE_CLIENT_ID/AZURE_TENANT_ID; Azure Pipelines sets TF_BUILD.
/// </summary>
public sealed class PrincipalTypeTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> AzdBicepparamMode = new()
    {
        ["AZURE_ENV_NAME"] = "psim-ci",
        ["AZURE_LOCATION"] = "swedencentral",
        ["AZURE_SUBSCRIPTION_ID"] = InfraWorkspace.SubscriptionId,
        ["AZURE_PRINCIPAL_ID"] = "22222222-2222-2222-2222-222222222222",
    };

    public static TheoryData<string, string> Modes => new()
    {
        { "azd on a laptop (user or service principal: Azure resolves it)", "" },
        { "GitHub Actions (azd pipeline config)", "ServicePrincipal" },
        { "Azure Pipelines (azd pipeline config --provider azdo)", "ServicePrincipal" },
        { "explicit azd env set AZURE_PRINCIPAL_TYPE User", "User" },
    };

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task PrincipalType_AzdMode_MatchesThePrincipalAzdRunsAs(string mode, string expected)
    {
        using var workspace = InfraWorkspace.Create();

        var parameters = await BuildParamsAsync(workspace, mode);

        Assert.Equal("22222222-2222-2222-2222-222222222222", (string?)parameters["principalId"]?["value"]);
        Assert.Empty(PrincipalTypeViolations(parameters, expected));
    }

    [Fact]
    public async Task PrincipalType_DefaultUserAsBefore_ReportedForGitHubActions()
    {
        // The defect: defaulting to 'User' hands a service principal's id to ARM as a user.
        using var workspace = InfraWorkspace.Create();
        workspace.Replace(
            "main.bicepparam",
            "readEnvironmentVariable('AZURE_PRINCIPAL_TYPE', runsInPipeline ? 'ServicePrincipal' : '')",
            "readEnvironmentVariable('AZURE_PRINCIPAL_TYPE', 'User')\nvar unusedPipelineFlag = runsInPipeline");

        var parameters = await BuildParamsAsync(workspace, "GitHub Actions (azd pipeline config)");

        var violation = Assert.Single(PrincipalTypeViolations(parameters, "ServicePrincipal"));
        Assert.Contains("UnmatchedPrincipalType", violation, StringComparison.Ordinal);
    }

    /// <summary>Why the evaluated principalType would not match the principal azd runs as.</summary>
    internal static IReadOnlyList<string> PrincipalTypeViolations(JsonNode parameters, string expected)
    {
        var actual = (string?)parameters["principalType"]?["value"] ?? "";
        return actual == expected
            ? []
            : [$"principalType is '{actual}' where azd runs as {(expected.Length == 0 ? "an unknown principal" : expected)}: ARM fails the role assignment with UnmatchedPrincipalType"];
    }

    private async Task<JsonNode> BuildParamsAsync(InfraWorkspace workspace, string mode)
    {
        var environment = new Dictionary<string, string>(AzdBicepparamMode);
        if (mode.StartsWith("GitHub", StringComparison.Ordinal))
        {
            environment["GITHUB_ACTIONS"] = "true";
            environment["AZURE_CLIENT_ID"] = "33333333-3333-3333-3333-333333333333";
            environment["AZURE_TENANT_ID"] = "44444444-4444-4444-4444-444444444444";
        }
        else if (mode.StartsWith("Azure Pipelines", StringComparison.Ordinal))
        {
            environment["TF_BUILD"] = "True";
        }
        else if (mode.StartsWith("explicit", StringComparison.Ordinal))
        {
            environment["GITHUB_ACTIONS"] = "true";
            environment["AZURE_PRINCIPAL_TYPE"] = "User";
        }

        var (result, parameters) = await workspace.BuildParamsAsync("main.bicepparam", environment);
        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0 && parameters is not null, result.ToString());
        return parameters!["parameters"]!;
    }
}
