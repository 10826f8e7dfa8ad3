using Xunit.Abstractions;

namespace ProductSimilarity.Infra.Tests;

/// <summary>
/// Proves the security checks can fail: a copy of infra/ is broken on purpose, compiled and evaluated,
/// and the check must name the violation.
/// </summary>
public sealed class SecurityCheckNegativeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SecurityViolations_SharedKeyAccessEnabled_ReportsStorageViolation()
    {
        var violations = await ViolationsAfterEditAsync("modules/storage.bicep", "allowSharedKeyAccess: false", "allowSharedKeyAccess: true");

        var violation = Assert.Single(violations);
        Assert.Contains("allowSharedKeyAccess must be false", violation, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecurityViolations_TlsDowngradedTo10_ReportsStorageViolation()
    {
        var violations = await ViolationsAfterEditAsync("modules/storage.bicep", "minimumTlsVersion: 'TLS1_2'", "minimumTlsVersion: 'TLS1_0'");

        var violation = Assert.Single(violations);
        Assert.Contains("minimumTlsVersion must be TLS1_2", violation, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecurityViolations_SearchKeysEnabled_ReportsSearchViolation()
    {
        var violations = await ViolationsAfterEditAsync("modules/search.bicep", "disableLocalAuth: true", "disableLocalAuth: false");

        var violation = Assert.Single(violations);
        Assert.Contains("disableLocalAuth must be true", violation, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecurityViolations_StorageKeyInAppSettings_ReportsListKeysAndSecretSetting()
    {
        // The classic anti-pattern: a connection string built from listKeys().
        var violations = await ViolationsAfterEditAsync(
            "modules/function-app.bicep",
            "AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob",
            "AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob\n      LegacyStorage: 'DefaultEndpointsProtocol=https;AccountName=${storage.name};AccountKey=${storage.listKeys().keys[0].value}'");

        Assert.Contains(violations, v => v.Contains("listKeys(", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("LegacyStorage", StringComparison.Ordinal) && v.Contains("AccountKey=", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("ProductSimilarity__Index__AzureAISearch__ApiKey", "abc123")]
    [InlineData("SearchSecret", "s3cr3t")]
    [InlineData("BlobUrl", "https://x.blob.core.windows.net/c?sv=2024&sig=abc")]
    [InlineData("APPLICATIONINSIGHTS_CONNECTION_STRING", "InstrumentationKey=00000000-0000-0000-0000-000000000000")]
    public void SettingViolations_SecretLookingSetting_Reported(string name, string value) =>
        Assert.NotEmpty(InfraChecks.SettingViolations(name, value));

    [Theory]
    [InlineData("AzureWebJobsStorage__credential", "managedidentity")]
    [InlineData("APPLICATIONINSIGHTS_CONNECTION_STRING", "[reference('/subscriptions/0/x', '2020-02-02').ConnectionString]")]
    [InlineData("ProductSimilarity__Index__AzureAISearch__IndexName", "products")]
    public void SettingViolations_IdentityBasedSetting_None(string name, string value) =>
        Assert.Empty(InfraChecks.SettingViolations(name, value));

    private async Task<IReadOnlyList<string>> ViolationsAfterEditAsync(string file, string oldText, string newText)
    {
        using var workspace = InfraWorkspace.Create();
        workspace.Replace(file, oldText, newText);
        // One CLI run: the snapshot compiles the templates too, and an expression such as listKeys() stays in its text.
        var (snapshotResult, evaluated) = await workspace.SnapshotAsync("main.bicepparam");
        Assert.True(evaluated is not null, snapshotResult.ToString());
        var violations = InfraChecks.SecurityViolations(evaluated, evaluated.Text);
        output.WriteLine($"{file}: '{oldText}' -> '{newText}'");
        foreach (var violation in violations)
        {
            output.WriteLine("violation: " + violation);
        }

        return violations;
    }
}
