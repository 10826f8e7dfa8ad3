using System.Diagnostics;
using System.Text.RegularExpressions;

namespace ProductSimilarity.Infra.Tests;

/// <summary>azure.yaml, the postdeploy hook and the template agree with each other.</summary>
[Collection(InfraCollection.Name)]
public sealed partial class AzdTests(InfraFixture fixture)
{
    private static readonly string AzureYaml = File.ReadAllText(Path.Combine(InfraWorkspace.RepoRoot, "azure.yaml"));

    [Fact]
    public void AzureYaml_ApiService_DeploysTheFunctionsProjectAsAFunction()
    {
        var service = ServicePattern().Match(AzureYaml);
        Assert.True(service.Success, "services: api: with project, language and host not found in azure.yaml");
        Assert.Equal("./src/ProductSimilarity.Functions", service.Groups["project"].Value);
        Assert.Equal("dotnet", service.Groups["language"].Value);
        Assert.Equal("function", service.Groups["host"].Value);
        Assert.True(
            File.Exists(Path.Combine(InfraWorkspace.RepoRoot, "src", "ProductSimilarity.Functions", "ProductSimilarity.Functions.csproj")),
            "the project azure.yaml deploys does not exist");

        // azd finds the app to deploy to through this tag.
        var site = Assert.Single(fixture.DefaultSnapshot.OfType("Microsoft.Web/sites"));
        Assert.Equal("api", (string?)site["tags"]?["azd-service-name"]);
    }

    [Fact]
    public void PostDeployHook_VariablesItReads_AreTemplateOutputs()
    {
        var hook = File.ReadAllText(Path.Combine(InfraWorkspace.RepoRoot, "infra", "hooks", "postdeploy.sh"));
        var outputs = fixture.DefaultSnapshot.Root["outputs"]!.AsObject();
        var used = VariablePattern().Matches(hook).Select(m => m.Groups["name"].Value).Distinct().ToList();

        Assert.NotEmpty(used);
        Assert.All(used, name => Assert.True(outputs.ContainsKey(name), $"{name} is read by the hook but not an output of main.bicep"));
        Assert.Contains("postdeploy.sh", AzureYaml, StringComparison.Ordinal);
        Assert.Contains("modules/catalog-events.bicep", hook, StringComparison.Ordinal);
    }

    [Fact]
    public void PostDeployHook_ShellSyntax_Valid()
    {
        var start = new ProcessStartInfo("sh") { RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-n");
        start.ArgumentList.Add(Path.Combine(InfraWorkspace.RepoRoot, "infra", "hooks", "postdeploy.sh"));
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, errors);
    }

    [Fact]
    public void AzureYaml_RequiredVersions_AzdWithWorkingBicepparam()
    {
        // .bicepparam support came in azd 1.3.0, but provisioning with it failed until 1.8.2 (Azure/azure-dev#3801).
        var match = RequiredAzdPattern().Match(AzureYaml);
        Assert.True(match.Success, "requiredVersions: azd: not found in azure.yaml");
        Assert.Equal(">= 1.8.2", match.Groups["range"].Value);
        Assert.True(File.Exists(Path.Combine(InfraWorkspace.RepoRoot, "infra", "main.bicepparam")));
    }

    [Fact]
    public void Outputs_LocalDevelopment_ConnectionStringAndSearchSettings()
    {
        var outputs = fixture.DefaultSnapshot.Root["outputs"]!.AsObject();
        Assert.Contains(".ConnectionString", (string?)outputs["APPLICATIONINSIGHTS_CONNECTION_STRING"], StringComparison.Ordinal);
        Assert.Equal((string?)outputs["AZURE_SEARCH_ENDPOINT"], (string?)outputs["ProductSimilarity__Index__AzureAISearch__Endpoint"]);
        Assert.Equal("AzureAISearch", (string?)outputs["ProductSimilarity__Index__Provider"]);
        Assert.Equal("products", (string?)outputs["ProductSimilarity__Index__AzureAISearch__IndexName"]);
        // Not AZURE_CLIENT_ID: in .env it would make DefaultAzureCredential on a laptop pick the app's identity.
        Assert.False(outputs.ContainsKey("AZURE_CLIENT_ID"));
    }

    [GeneratedRegex(@"^requiredVersions:\s*\n(?:\s*#.*\n)*\s+azd:\s*""(?<range>[^""]+)""", RegexOptions.Multiline)]
    private static partial Regex RequiredAzdPattern();

    [GeneratedRegex(@"^services:\s*\n\s+api:\s*\n\s+project:\s*(?<project>\S+)\s*\n\s+language:\s*(?<language>\S+)\s*\n\s+host:\s*(?<host>\S+)", RegexOptions.Multiline)]
    private static partial Regex ServicePattern();

    [GeneratedRegex(@"\$\{?(?<name>AZURE_[A-Z_]+)")]
    private static partial Regex VariablePattern();
}
