using System.Text.Json.Nodes;
using ProductSimilarity.Core.Configuration;

namespace ProductSimilarity.Infra.Tests;

/// <summary>What the templates would deploy, read from the evaluated snapshots.</summary>
[Collection(InfraCollection.Name)]
public sealed class TemplateTests(InfraFixture fixture)
{
    private const string StorageType = "Microsoft.Storage/storageAccounts";
    private const string SearchType = "Microsoft.Search/searchServices";
    private const string InsightsType = "Microsoft.Insights/components";
    private const string OpenAIType = "Microsoft.CognitiveServices/accounts";

    public static TheoryData<string, string> FunctionRoles => new()
    {
        { "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", StorageType },  // Storage Blob Data Owner
        { "974c5e8b-45b9-4653-ba55-5f855dd0fb88", StorageType },  // Storage Queue Data Contributor
        { "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", StorageType },  // Storage Table Data Contributor
        { "8ebe5a00-799e-43f5-93ac-243d3dce84a7", SearchType },   // Search Index Data Contributor
        { "7ca78c08-252a-4471-8644-bb5ff32d4ba0", SearchType },   // Search Service Contributor
        { "3913510d-42f4-4e42-8a64-420c390055eb", InsightsType }, // Monitoring Metrics Publisher
    };

    private const string OpenAIUserRole = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd";
    private const string StorageBlobDataReaderRole = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";

    [Fact]
    public void SecurityViolations_DefaultParameters_None()
    {
        var violations = InfraChecks.SecurityViolations(fixture.DefaultSnapshot, fixture.CompiledTemplate);
        Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations));
    }

    [Fact]
    public void SecurityViolations_AzureOpenAIAndEventsOn_None()
    {
        var violations = InfraChecks.SecurityViolations(fixture.FullSnapshot, fixture.CompiledTemplate);
        Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations));
    }

    [Fact]
    public void CompiledTemplate_NoKeyListingFunctions()
    {
        Assert.DoesNotContain("listKeys(", fixture.CompiledTemplate, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("listSecrets(", fixture.CompiledTemplate, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void StorageAccount_Defaults_LockedDownWithFiveContainers()
    {
        var storage = Assert.Single(fixture.DefaultSnapshot.OfType(StorageType));
        var properties = storage["properties"]!;
        Assert.False((bool)properties["allowSharedKeyAccess"]!);
        Assert.False((bool)properties["allowBlobPublicAccess"]!);
        Assert.True((bool)properties["supportsHttpsTrafficOnly"]!);
        Assert.Equal("TLS1_2", (string?)properties["minimumTlsVersion"]);

        var containers = fixture.DefaultSnapshot.OfType("Microsoft.Storage/storageAccounts/blobServices/containers")
            .Select(c => ((string)c["name"]!).Split('/')[^1])
            .ToList();
        Assert.Equal(6, containers.Count);
        Assert.Contains("catalogs", containers);
        Assert.Contains("models", containers);
        Assert.Contains("catalog-deadletter", containers);
        Assert.Contains("catalog-status", containers);
        Assert.Contains("catalog-errors", containers);
        Assert.Contains(containers, c => c.StartsWith("app-package-", StringComparison.Ordinal));
    }

    [Fact]
    public void Search_Defaults_RbacOnlyWithParameterisedScale()
    {
        var search = Assert.Single(fixture.DefaultSnapshot.OfType(SearchType));
        Assert.True((bool)search["properties"]!["disableLocalAuth"]!);
        Assert.Null(search["properties"]!["authOptions"]);
        Assert.Equal("basic", (string?)search["sku"]?["name"]);
        Assert.Equal(1, (int)search["properties"]!["replicaCount"]!);
        Assert.Equal(1, (int)search["properties"]!["partitionCount"]!);
        Assert.Equal("disabled", (string?)search["properties"]!["semanticSearch"]);
    }

    [Fact]
    public void ApplicationInsights_Defaults_WorkspaceBasedWithoutLocalAuth()
    {
        var insights = Assert.Single(fixture.DefaultSnapshot.OfType(InsightsType));
        var workspace = Assert.Single(fixture.DefaultSnapshot.OfType("Microsoft.OperationalInsights/workspaces"));
        Assert.True((bool)insights["properties"]!["DisableLocalAuth"]!);
        Assert.Equal((string?)workspace["id"], (string?)insights["properties"]!["WorkspaceResourceId"]);
    }

    [Fact]
    public void FunctionApp_Defaults_FlexConsumptionDotnetIsolated10WithUserAssignedIdentity()
    {
        var plan = Assert.Single(fixture.DefaultSnapshot.OfType("Microsoft.Web/serverfarms"));
        Assert.Equal("FC1", (string?)plan["sku"]?["name"]);
        Assert.Equal("FlexConsumption", (string?)plan["sku"]?["tier"]);
        Assert.True((bool)plan["properties"]!["reserved"]!);

        var site = Assert.Single(fixture.DefaultSnapshot.OfType("Microsoft.Web/sites"));
        Assert.Equal("functionapp,linux", (string?)site["kind"]);
        Assert.True((bool)site["properties"]!["httpsOnly"]!);
        Assert.Equal((string?)plan["id"], (string?)site["properties"]!["serverFarmId"]);
        var runtime = site["properties"]!["functionAppConfig"]!["runtime"]!;
        Assert.Equal("dotnet-isolated", (string?)runtime["name"]);
        Assert.Equal("10.0", (string?)runtime["version"]);

        Assert.Equal("UserAssigned", (string?)site["identity"]?["type"]);
        var identity = Assert.Single(fixture.DefaultSnapshot.OfType("Microsoft.ManagedIdentity/userAssignedIdentities"));
        var assigned = Assert.Single((JsonObject)site["identity"]!["userAssignedIdentities"]!);
        Assert.Equal((string?)identity["id"], assigned.Key);

        // The package container is read with the same identity, not a connection string.
        var deployment = site["properties"]!["functionAppConfig"]!["deployment"]!["storage"]!;
        Assert.Equal("blobContainer", (string?)deployment["type"]);
        Assert.Equal("UserAssignedIdentity", (string?)deployment["authentication"]?["type"]);
        Assert.Equal((string?)identity["id"], (string?)deployment["authentication"]?["userAssignedIdentityResourceId"]);
        Assert.Equal("api", (string?)site["tags"]?["azd-service-name"]);
    }

    [Fact]
    public void AppSettings_Defaults_CoverCloudSettingsRequiredWithOnnx()
    {
        var settings = fixture.DefaultSnapshot.AppSettings();
        Assert.Empty(InfraChecks.MissingSettings(settings, CloudSettings.Required));
        Assert.Equal("Onnx", settings["ProductSimilarity__Embeddings__Provider"]);
        Assert.Equal("AzureAISearch", settings["ProductSimilarity__Index__Provider"]);
        AssertSearchEndpoint(fixture.DefaultSnapshot, settings["ProductSimilarity__Index__AzureAISearch__Endpoint"]);
        Assert.Equal("products", settings["ProductSimilarity__Index__AzureAISearch__IndexName"]);
        Assert.Contains(settings["ProductSimilarity__Index__AzureAISearch__Analyzer"], ProductSimilarityOptionsValidator.AllowedAnalyzers);
        Assert.Equal("Upsert", settings["ProductSimilarity__Ingestion__Mode"]);
        Assert.DoesNotContain(settings.Keys, k => k.StartsWith("ProductSimilarity__Embeddings__AzureOpenAI__", StringComparison.Ordinal));
        Assert.Empty(fixture.DefaultSnapshot.OfType(OpenAIType));
    }

    [Fact]
    public void AppSettings_AzureOpenAIOn_CoverRequiredForAzureOpenAI()
    {
        var settings = fixture.FullSnapshot.AppSettings();
        Assert.Empty(InfraChecks.MissingSettings(settings, CloudSettings.Required));
        Assert.Empty(InfraChecks.MissingSettings(settings, CloudSettings.RequiredForAzureOpenAI));
        Assert.Equal("AzureOpenAI", settings["ProductSimilarity__Embeddings__Provider"]);
        Assert.Equal("text-embedding-3-small", settings["ProductSimilarity__Embeddings__AzureOpenAI__Deployment"]);
        Assert.Equal("1536", settings["ProductSimilarity__Embeddings__AzureOpenAI__Dimensions"]);

        var account = Assert.Single(fixture.FullSnapshot.OfType(OpenAIType));
        Assert.True((bool)account["properties"]!["disableLocalAuth"]!);
        var deployment = Assert.Single(fixture.FullSnapshot.OfType("Microsoft.CognitiveServices/accounts/deployments"));
        Assert.Equal("text-embedding-3-small", (string?)deployment["properties"]?["model"]?["name"]);
        Assert.Contains((string)account["name"]!, settings["ProductSimilarity__Embeddings__AzureOpenAI__Endpoint"], StringComparison.Ordinal);
    }

    [Fact]
    public void AppSettings_Defaults_IdentityBasedConnections()
    {
        var settings = fixture.DefaultSnapshot.AppSettings();
        var storage = Assert.Single(fixture.DefaultSnapshot.OfType(StorageType));
        var clientId = settings["AZURE_CLIENT_ID"];
        Assert.Contains(".clientId", clientId, StringComparison.Ordinal);

        // Endpoints from the account itself (the cloud's own suffix), not derived from its name.
        Assert.Contains(".primaryEndpoints.blob", settings["AzureWebJobsStorage__blobServiceUri"], StringComparison.Ordinal);
        Assert.Contains(".primaryEndpoints.queue", settings["AzureWebJobsStorage__queueServiceUri"], StringComparison.Ordinal);
        Assert.Contains(".primaryEndpoints.table", settings["AzureWebJobsStorage__tableServiceUri"], StringComparison.Ordinal);
        Assert.Contains((string)storage["name"]!, settings["AzureWebJobsStorage__blobServiceUri"], StringComparison.Ordinal);
        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"]);
        Assert.Equal(clientId, settings["AzureWebJobsStorage__clientId"]);

        Assert.Equal(CloudSettings.CatalogStorageConnection, "CatalogStorage");
        Assert.Equal("managedidentity", settings["CatalogStorage__credential"]);
        Assert.Equal(clientId, settings["CatalogStorage__clientId"]);
        Assert.Contains(".primaryEndpoints.blob", settings["CatalogStorage__blobServiceUri"], StringComparison.Ordinal);
        Assert.Contains(".primaryEndpoints.queue", settings["CatalogStorage__queueServiceUri"], StringComparison.Ordinal);

        var authentication = settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"];
        Assert.StartsWith("[format('ClientId={0};Authorization=AAD'", authentication, StringComparison.Ordinal);

        // Flex Consumption rejects these; the runtime comes from functionAppConfig.
        Assert.DoesNotContain("FUNCTIONS_WORKER_RUNTIME", settings.Keys);
        Assert.DoesNotContain("FUNCTIONS_EXTENSION_VERSION", settings.Keys);
        Assert.DoesNotContain(settings.Keys, k => k.StartsWith("AzureWebJobsStorage", StringComparison.Ordinal) && !k.Contains("__", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(FunctionRoles))]
    public void RoleAssignments_FunctionIdentity_HasRoleOnItsResourceWithGuidName(string roleGuid, string scopeType)
    {
        var assignment = Assert.Single(fixture.DefaultSnapshot.RoleAssignments(), a => a.RoleDefinitionGuid == roleGuid);
        var scope = Assert.Single(fixture.DefaultSnapshot.OfType(scopeType));
        Assert.Equal((string?)scope["id"], assignment.Scope);
        Assert.StartsWith("[guid(", assignment.NameExpression, StringComparison.Ordinal);
        Assert.Contains(roleGuid, assignment.NameExpression, StringComparison.Ordinal);
        Assert.Contains("userAssignedIdentities", assignment.NameExpression, StringComparison.Ordinal);
    }

    [Fact]
    public void RoleAssignments_FunctionIdentity_ReadsTheModelsContainerOnly()
    {
        var container = Assert.Single(fixture.DefaultSnapshot.OfType("Microsoft.Storage/storageAccounts/blobServices/containers"), c => ((string)c["name"]!).EndsWith("/models", StringComparison.Ordinal));
        var assignment = Assert.Single(fixture.DefaultSnapshot.RoleAssignments(), a => a.RoleDefinitionGuid == StorageBlobDataReaderRole);
        Assert.Equal((string?)container["id"], assignment.Scope);
        Assert.Contains("userAssignedIdentities", assignment.NameExpression, StringComparison.Ordinal);
        Assert.Equal("None", (string?)container["properties"]?["publicAccess"]);

        // Without modelBlobFolder the app serves the model of its package (or the bundled one): no blob URL is set.
        Assert.DoesNotContain("ProductSimilarity__Embeddings__Onnx__ModelBlobUrl", fixture.DefaultSnapshot.AppSettings().Keys);
    }

    [Fact]
    public async Task AppSettings_ModelBlobFolderSet_PointsTheAppAtThatFolderOfTheModelsContainer()
    {
        using var workspace = InfraWorkspace.Create();
        var file = workspace.WriteParametersFrom("main.bicepparam", "model.bicepparam", "param modelBlobFolder = 'shoes-2026-11'");

        var (result, snapshot) = await workspace.SnapshotAsync(file);

        Assert.True(snapshot is not null, result.ToString());
        var url = snapshot.AppSettings()["ProductSimilarity__Embeddings__Onnx__ModelBlobUrl"];
        Assert.NotNull(url);
        // https://ACCOUNT.blob.../ + models/ + the folder + /, as an ARM format() over the account's blob endpoint.
        Assert.StartsWith("[format('{0}{1}/{2}/', ", url, StringComparison.Ordinal);
        Assert.Contains("primaryEndpoints.blob", url, StringComparison.Ordinal);
        Assert.EndsWith(", 'models', 'shoes-2026-11')]", url, StringComparison.Ordinal);
    }

    [Fact]
    public void RoleAssignments_AzureOpenAIOn_AddsOpenAIUserOnTheAccountOnly()
    {
        Assert.DoesNotContain(fixture.DefaultSnapshot.RoleAssignments(), a => a.RoleDefinitionGuid == OpenAIUserRole);
        var assignment = Assert.Single(fixture.FullSnapshot.RoleAssignments(), a => a.RoleDefinitionGuid == OpenAIUserRole);
        var account = Assert.Single(fixture.FullSnapshot.OfType(OpenAIType));
        Assert.Equal((string?)account["id"], assignment.Scope);
        Assert.StartsWith("[guid(", assignment.NameExpression, StringComparison.Ordinal);
        Assert.Equal(FunctionRoles.Count() + 2, ProductionChecks.RoleAssignmentsOf(fixture.FullSnapshot, "userAssignedIdentities").Count); // + OpenAI user, models reader
    }

    [Fact]
    public void RoleAssignments_CompiledTemplate_NamedWithGuid()
    {
        var template = JsonNode.Parse(fixture.CompiledTemplate)!;
        var names = ArmSnapshot.Objects(template)
            .Where(o => (string?)o["type"] == "Microsoft.Authorization/roleAssignments")
            .Select(o => (string?)o["name"])
            .ToList();
        // + OpenAI user, the models reader, the three loops of developer roles (storage, search, monitoring) and the topic's dead-letter writer.
        Assert.Equal(FunctionRoles.Count() + 6, names.Count);
        Assert.All(names, n => Assert.StartsWith("[guid(", n, StringComparison.Ordinal));
    }

    [Fact]
    public void EventGrid_Defaults_SystemTopicOnStorageWithoutSubscriptionYet()
    {
        var topic = Assert.Single(fixture.DefaultSnapshot.OfType("Microsoft.EventGrid/systemTopics"));
        var storage = Assert.Single(fixture.DefaultSnapshot.OfType(StorageType));
        Assert.Equal((string?)storage["id"], (string?)topic["properties"]?["source"]);
        Assert.Equal("Microsoft.Storage.StorageAccounts", (string?)topic["properties"]?["topicType"]);
        Assert.Empty(fixture.DefaultSnapshot.OfType("Microsoft.EventGrid/systemTopics/eventSubscriptions"));
    }

    [Fact]
    public void EventGrid_KeySet_SubscriptionSendsCatalogBlobCreatedToBlobExtension()
    {
        var topic = Assert.Single(fixture.FullSnapshot.OfType("Microsoft.EventGrid/systemTopics"));
        var subscription = Assert.Single(fixture.FullSnapshot.OfType("Microsoft.EventGrid/systemTopics/eventSubscriptions"));
        Assert.StartsWith((string?)topic["name"] + "/", (string?)subscription["name"], StringComparison.Ordinal);

        var filter = subscription["properties"]!["filter"]!;
        Assert.Equal(["Microsoft.Storage.BlobCreated"], ((JsonArray)filter["includedEventTypes"]!).Select(e => (string?)e));
        Assert.Equal("/blobServices/default/containers/catalogs/", (string?)filter["subjectBeginsWith"]);

        var destination = subscription["properties"]!["destination"]!;
        Assert.Equal("WebHook", (string?)destination["endpointType"]);
        var url = (string?)destination["properties"]?["endpointUrl"];
        Assert.Contains("/runtime/webhooks/blobs?functionName=Host.Functions.{1}&code={2}", url, StringComparison.Ordinal);
        Assert.Contains("parameters('blobsExtensionKey')", url, StringComparison.Ordinal);
    }

    [Fact]
    public void Outputs_Defaults_NameTheAppSearchAndStorage()
    {
        var outputs = fixture.DefaultSnapshot.Root["outputs"]!.AsObject();
        var site = Assert.Single(fixture.DefaultSnapshot.OfType("Microsoft.Web/sites"));
        var storage = Assert.Single(fixture.DefaultSnapshot.OfType(StorageType));
        Assert.Equal((string?)site["name"], (string?)outputs["AZURE_FUNCTION_APP_NAME"]);
        Assert.Contains("defaultHostName", (string?)outputs["AZURE_FUNCTION_APP_URL"], StringComparison.Ordinal);
        AssertSearchEndpoint(fixture.DefaultSnapshot, (string?)outputs["AZURE_SEARCH_ENDPOINT"]);
        Assert.Equal((string?)storage["name"], (string?)outputs["AZURE_STORAGE_ACCOUNT_NAME"]);
        Assert.Equal("rg-psim", (string?)outputs["AZURE_RESOURCE_GROUP"]); // rg-<environment>, the azd convention
        Assert.Equal(InfraWorkspace.SubscriptionId, (string?)outputs["AZURE_SUBSCRIPTION_ID"]);
        Assert.Equal(InfraWorkspace.Location, (string?)outputs["AZURE_LOCATION"]);
        Assert.NotNull(outputs["AZURE_TENANT_ID"]);
        Assert.NotNull(outputs["AZURE_EVENTGRID_SYSTEM_TOPIC_NAME"]);
    }

    /// <summary>
    /// The Search endpoint is https://NAME.SUFFIX with the suffix chosen by environment().name (the snapshot
    /// leaves environment() unevaluated), so no cloud's host name is fixed.
    /// </summary>
    private static void AssertSearchEndpoint(ArmSnapshot snapshot, string? endpoint)
    {
        var search = Assert.Single(snapshot.OfType(SearchType));
        Assert.NotNull(endpoint);
        Assert.StartsWith("[format('https://{0}.{1}', '" + (string)search["name"]! + "'", endpoint, StringComparison.Ordinal);
        Assert.Contains("environment().name", endpoint, StringComparison.Ordinal);
        Assert.Contains("'search.azure.us'", endpoint, StringComparison.Ordinal);
    }
}
