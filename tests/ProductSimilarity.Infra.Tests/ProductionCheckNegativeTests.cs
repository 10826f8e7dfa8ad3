using Xunit.Abstractions;

namespace ProductSimilarity.Infra.Tests;

/// <summary>
/// Negative twins of <see cref="ProductionTemplateTests"/>: a copy of infra/ is broken on purpose, evaluated,
/// and the check must name the violation. Each twin runs one `bicep snapshot`.
/// </summary>
public sealed class ProductionCheckNegativeTests(ITestOutputHelper output)
{
    private static readonly string[] FullParameters =
    [
        "param enableAzureOpenAI = true",
        "param vnetEnabled = true",
        $"param blobsExtensionKey = '{InfraFixture.TestExtensionKey}'",
    ];

    [Fact]
    public async Task HostStorageRoles_TableRoleSwappedForReader_Reported()
    {
        var violations = await ViolationsAfterEditAsync(
            "modules/role-assignments.bicep",
            "name: guid(storage.id, principalId, roles.StorageTableDataContributor)",
            "name: guid(storage.id, principalId, roles.StorageTableDataReader)",
            ProductionChecks.HostStorageRoleViolations,
            extraEdit: ("roleDefinitions', roles.StorageTableDataContributor)", "roleDefinitions', roles.StorageTableDataReader)"));

        Assert.Contains("Storage Table Data Contributor", Assert.Single(violations), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostStorageRoles_QueueRoleRemovedAsIfOnlyForPoisonMessages_Reported()
    {
        var violations = await ViolationsAfterEditAsync(
            "modules/role-assignments.bicep",
            "resource storageQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {",
            "resource storageQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (false) {",
            ProductionChecks.HostStorageRoleViolations);

        var violation = Assert.Single(violations);
        Assert.Contains("Storage Queue Data Contributor", violation, StringComparison.Ordinal);
        Assert.Contains("every Event Grid blob event", violation, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeadLetter_WithoutResourceIdentity_Reported()
    {
        var violations = await ViolationsAfterEditAsync(
            "modules/catalog-events.bicep",
            "deadLetterWithResourceIdentity: {\n      identity: {\n        type: 'SystemAssigned'\n      }\n      deadLetterDestination: {",
            "deadLetterWithResourceIdentity: {\n      deadLetterDestination: {",
            snapshot => ProductionChecks.DeadLetterViolations(snapshot),
            parameters: FullParameters);

        Assert.Contains("no deadLetterWithResourceIdentity with an identity", Assert.Single(violations), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PrivateNetwork_SearchLeftPublic_Reported()
    {
        var violations = await ViolationsAfterEditAsync(
            "modules/search.bicep",
            "publicNetworkAccess: privateOnly ? 'disabled' : 'enabled'",
            "publicNetworkAccess: 'enabled'",
            ProductionChecks.PrivateNetworkViolations,
            parameters: FullParameters);

        Assert.Contains("search", Assert.Single(violations), StringComparison.Ordinal);
        Assert.Contains("publicNetworkAccess must be Disabled", violations[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task PrivateNetwork_StorageFirewallLeftOpen_Reported()
    {
        var violations = await ViolationsAfterEditAsync(
            "modules/storage.bicep",
            "defaultAction: privateOnly ? 'Deny' : 'Allow'",
            "defaultAction: 'Allow'",
            ProductionChecks.PrivateNetworkViolations,
            parameters: FullParameters);

        Assert.Contains("storage", Assert.Single(violations), StringComparison.Ordinal);
        Assert.Contains("public network access must be off", violations[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task PrivateNetwork_QueueEndpointMissing_Reported()
    {
        var violations = await ViolationsAfterEditAsync(
            "modules/network.bicep",
            "groupId: 'queue'",
            "groupId: 'file'",
            ProductionChecks.PrivateNetworkViolations,
            parameters: FullParameters);

        Assert.Contains("(queue)", Assert.Single(violations), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Diagnostics_TopicSettingRemoved_Reported()
    {
        var violations = await ViolationsAfterEditAsync(
            "modules/event-grid.bicep",
            "resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {",
            "resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (false) {",
            ProductionChecks.DiagnosticViolations);

        Assert.Contains("systemTopics", Assert.Single(violations), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Alerts_ScopedToTheWorkspaceInsteadOfTheAppsComponent_Reported()
    {
        var violations = await ViolationsAfterEditAsync(
            "modules/alerts.bicep",
            "      scopes: [\n        applicationInsights.id\n      ]",
            "      scopes: [\n        applicationInsights.properties.WorkspaceResourceId\n      ]",
            snapshot => ProductionChecks.AlertViolations(snapshot));

        Assert.Equal(3, violations.Count);
        Assert.All(violations, v => Assert.Contains("Application Insights component", v, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Alerts_FailedIngestionQueryWithoutPoisonPath_Reported()
    {
        var violations = await ViolationsAfterEditAsync(
            "modules/alerts.bicep",
            " or message contains \"webjobs-blobtrigger-poison\"",
            "",
            snapshot => ProductionChecks.AlertViolations(snapshot));

        Assert.StartsWith("failed-ingestion: query", Assert.Single(violations), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scale_MinimumLoweredBelowDocumented_Reported()
    {
        var violations = await ViolationsAfterEditAsync(
            "main.bicep",
            "@minValue(40)\n@maxValue(1000)\nparam functionMaximumInstanceCount",
            "@minValue(1)\n@maxValue(1000)\nparam functionMaximumInstanceCount",
            ProductionChecks.ScaleViolations,
            parameters: ["param functionMaximumInstanceCount = 10"],
            extraEdit: ("@minValue(40)\n@maxValue(1000)\nparam maximumInstanceCount", "@minValue(1)\n@maxValue(1000)\nparam maximumInstanceCount"),
            extraEditFile: "modules/function-app.bicep");

        Assert.Contains("maximumInstanceCount 10 is outside the documented 40-1000", Assert.Single(violations), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scale_MaximumBelowDocumentedMinimum_RefusedByTheTemplate()
    {
        using var workspace = InfraWorkspace.Create();
        var file = workspace.WriteParametersFrom("main.bicepparam", "low.bicepparam", "param functionMaximumInstanceCount = 10");

        var (result, snapshot) = await workspace.SnapshotAsync(file);

        output.WriteLine(result.ToString());
        Assert.Null(snapshot);
        Assert.Contains("minimum allowable value is 40", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MemoryGuard_OnnxAt512MB_DeploymentRefusedWithClearMessage()
    {
        var (result, snapshot) = await GuardRunAsync(removeGuard: false);

        Assert.Null(snapshot);
        Assert.Contains("functionInstanceMemoryMB=512 is too small for the bundled ONNX embedding model", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MemoryGuard_GuardRemoved_OnnxAt512MBWouldDeployAndScaleCheckReportsIt()
    {
        // The twin of the test above: without the guard the snapshot succeeds, so that test would fail.
        var (result, snapshot) = await GuardRunAsync(removeGuard: true);

        Assert.True(snapshot is not null, result.ToString());
        Assert.Contains("512 MB instances with the bundled ONNX model", Assert.Single(ProductionChecks.ScaleViolations(snapshot)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MemoryGuard_AzureOpenAIAt512MB_Allowed()
    {
        using var workspace = InfraWorkspace.Create();
        var file = workspace.WriteParametersFrom("main.bicepparam", "small.bicepparam", "param functionInstanceMemoryMB = 512", "param enableAzureOpenAI = true");

        var (result, snapshot) = await workspace.SnapshotAsync(file);

        Assert.True(snapshot is not null, result.ToString());
        Assert.Empty(ProductionChecks.ScaleViolations(snapshot));
    }

    [Fact]
    public async Task RegionCheck_RegionWithoutFlexConsumption_RefusedUnlessSkipped()
    {
        using var workspace = InfraWorkspace.Create();
        var refused = workspace.WriteParametersFrom("main.bicepparam", "region.bicepparam", "param location = 'westindia'");
        var skipped = workspace.WriteParametersFrom("main.bicepparam", "skipped.bicepparam", "param location = 'westindia'", "param skipRegionCheck = true");

        var (refusedRun, refusedSnapshot) = await workspace.SnapshotAsync(refused);
        var (skippedRun, skippedSnapshot) = await workspace.SnapshotAsync(skipped);

        Assert.Null(refusedSnapshot);
        Assert.Contains("Region 'westindia' is not in the Flex Consumption region list", refusedRun.StandardOutput + refusedRun.StandardError, StringComparison.Ordinal);
        Assert.True(skippedSnapshot is not null, skippedRun.ToString());
    }

    private async Task<(BicepResult Result, ArmSnapshot? Snapshot)> GuardRunAsync(bool removeGuard)
    {
        using var workspace = InfraWorkspace.Create();
        if (removeGuard)
        {
            workspace.Replace("main.bicep", "var functionMemoryChecked = !enableAzureOpenAI && functionInstanceMemoryMB < 2048", "var functionMemoryChecked = false");
        }

        var file = workspace.WriteParametersFrom("main.bicepparam", "onnx512.bicepparam", "param functionInstanceMemoryMB = 512");
        var run = await workspace.SnapshotAsync(file);
        output.WriteLine(run.Result.ToString());
        return run;
    }

    private async Task<IReadOnlyList<string>> ViolationsAfterEditAsync(
        string file,
        string oldText,
        string newText,
        Func<ArmSnapshot, IReadOnlyList<string>> check,
        string[]? parameters = null,
        (string Old, string New)? extraEdit = null,
        string? extraEditFile = null)
    {
        using var workspace = InfraWorkspace.Create();
        workspace.Replace(file, oldText, newText);
        if (extraEdit is { } edit)
        {
            workspace.Replace(extraEditFile ?? file, edit.Old, edit.New);
        }

        var parameterFile = workspace.WriteParametersFrom("main.bicepparam", "twin.bicepparam", parameters ?? []);
        var (result, snapshot) = await workspace.SnapshotAsync(parameterFile);
        Assert.True(snapshot is not null, result.ToString());
        var violations = check(snapshot);
        output.WriteLine($"{file}: '{oldText}' -> '{newText}'");
        foreach (var violation in violations)
        {
            output.WriteLine("violation: " + violation);
        }

        return violations;
    }
}
