using System.Text.Json.Nodes;

namespace ProductSimilarity.Infra.Tests;

/// <summary>
/// The production features read from the evaluated snapshots: host roles, dead-lettering, private networking,
/// diagnostics, zone redundancy, developer roles, alerts, scale settings, names and the region and memory guards.
/// Each check here has a negative twin in <see cref="ProductionCheckNegativeTests"/>.
/// </summary>
[Collection(InfraCollection.Name)]
public sealed class ProductionTemplateTests(InfraFixture fixture)
{
    public static TheoryData<string> AllSnapshots => new() { "default", "full", "prod" };

    [Theory]
    [MemberData(nameof(AllSnapshots))]
    public void HostStorageRoles_EverySnapshot_BlobQueueAndTableForTheFunctionIdentity(string name) =>
        AssertNone(ProductionChecks.HostStorageRoleViolations(Snapshot(name)));

    [Theory]
    [MemberData(nameof(AllSnapshots))]
    public void Diagnostics_EverySnapshot_StorageSearchTopicAndAppToLogAnalytics(string name) =>
        AssertNone(ProductionChecks.DiagnosticViolations(Snapshot(name)));

    [Theory]
    [MemberData(nameof(AllSnapshots))]
    public void Alerts_EverySnapshot_ThreeRulesOnTheAppsTelemetryNotifyingTheActionGroup(string name) =>
        AssertNone(ProductionChecks.AlertViolations(Snapshot(name)));

    [Theory]
    [MemberData(nameof(AllSnapshots))]
    public void Scale_EverySnapshot_WithinDocumentedLimits(string name) =>
        AssertNone(ProductionChecks.ScaleViolations(Snapshot(name)));

    [Fact]
    public void DeadLetter_KeySet_WithSystemTopicIdentityToDeadLetterContainer() =>
        AssertNone(ProductionChecks.DeadLetterViolations(fixture.FullSnapshot));

    [Theory]
    [InlineData("full")]
    [InlineData("prod")]
    public void PrivateNetwork_VnetEnabled_PublicAccessOffAndEveryPrivateEndpoint(string name)
    {
        var snapshot = Snapshot(name);
        AssertNone(ProductionChecks.PrivateNetworkViolations(snapshot));
        var groups = snapshot.OfType("Microsoft.Network/privateEndpoints")
            .SelectMany(e => (e["properties"]!["privateLinkServiceConnections"] as JsonArray)!)
            .SelectMany(c => (c!["properties"]!["groupIds"] as JsonArray)!.Select(g => (string?)g))
            .Order()
            .ToList();
        string[] expected = name == "full"
            ? ["account", "blob", "queue", "searchService", "table"]
            : ["blob", "queue", "searchService", "table"];
        Assert.Equal(expected, groups);
    }

    [Fact]
    public void PrivateNetwork_Defaults_OffForTheQuickStart()
    {
        Assert.Empty(fixture.DefaultSnapshot.OfType("Microsoft.Network/virtualNetworks"));
        Assert.Empty(fixture.DefaultSnapshot.OfType("Microsoft.Network/privateEndpoints"));
        Assert.NotEmpty(ProductionChecks.PrivateNetworkViolations(fixture.DefaultSnapshot));
        var storage = Assert.Single(fixture.DefaultSnapshot.OfType("Microsoft.Storage/storageAccounts"));
        Assert.Equal("Allow", (string?)storage["properties"]!["networkAcls"]!["defaultAction"]);
    }

    [Fact]
    public void PrivateNetwork_DnsZones_FromEnvironmentForStorage()
    {
        // The snapshot leaves environment() unevaluated: the storage zones are built from environment().suffixes.storage,
        // the Search and OpenAI zones looked up by environment().name.
        var zones = fixture.FullSnapshot.OfType("Microsoft.Network/privateDnsZones").Select(z => (string)z["name"]!).ToList();
        Assert.Equal(5, zones.Count);
        foreach (var service in new[] { "blob", "queue", "table" })
        {
            Assert.Contains($"[format('privatelink.{service}.{{0}}', environment().suffixes.storage)]", zones);
        }

        Assert.Equal(2, zones.Count(z => z.Contains("environment().name", StringComparison.Ordinal)));
        Assert.Contains(zones, z => z.Contains("'privatelink.search.azure.us'", StringComparison.Ordinal) && z.Contains("'privatelink.search.windows.net'", StringComparison.Ordinal));
        Assert.Contains(zones, z => z.Contains("'privatelink.openai.azure.cn'", StringComparison.Ordinal) && z.Contains("'privatelink.openai.azure.com'", StringComparison.Ordinal));
        var compiled = fixture.CompiledTemplate;
        Assert.Contains("environment().suffixes.storage", compiled, StringComparison.Ordinal);
        Assert.DoesNotContain("core.windows.net", compiled, StringComparison.Ordinal);
    }

    [Fact]
    public void ZoneRedundancy_Prod_ZrsStoragePlanAndTwoSearchReplicas()
    {
        var storage = Assert.Single(fixture.ProdSnapshot.OfType("Microsoft.Storage/storageAccounts"));
        Assert.Equal("Standard_ZRS", (string?)storage["sku"]?["name"]);
        var plan = Assert.Single(fixture.ProdSnapshot.OfType("Microsoft.Web/serverfarms"));
        Assert.True((bool)plan["properties"]!["zoneRedundant"]!);
        var search = Assert.Single(fixture.ProdSnapshot.OfType("Microsoft.Search/searchServices"));
        Assert.True((int)search["properties"]!["replicaCount"]! >= 2);

        var defaultStorage = Assert.Single(fixture.DefaultSnapshot.OfType("Microsoft.Storage/storageAccounts"));
        Assert.Equal("Standard_LRS", (string?)defaultStorage["sku"]?["name"]);
        Assert.False((bool)Assert.Single(fixture.DefaultSnapshot.OfType("Microsoft.Web/serverfarms"))["properties"]!["zoneRedundant"]!);
    }

    [Fact]
    public void Scale_Prod_AlwaysReadyHttpAndPerInstanceConcurrency()
    {
        var scale = Assert.Single(fixture.ProdSnapshot.OfType("Microsoft.Web/sites"))["properties"]!["functionAppConfig"]!["scaleAndConcurrency"]!;
        Assert.Equal(4096, (int)scale["instanceMemoryMB"]!);
        Assert.Equal(100, (int)scale["maximumInstanceCount"]!);
        var ready = Assert.Single((JsonArray)scale["alwaysReady"]!)!;
        Assert.Equal("http", (string?)ready["name"]);
        Assert.Equal(1, (int)ready["instanceCount"]!);
        Assert.Equal(16, (int)scale["triggers"]!["http"]!["perInstanceConcurrency"]!);

        var defaults = Assert.Single(fixture.DefaultSnapshot.OfType("Microsoft.Web/sites"))["properties"]!["functionAppConfig"]!["scaleAndConcurrency"]!;
        Assert.Equal(40, (int)defaults["maximumInstanceCount"]!);
        Assert.Equal(2048, (int)defaults["instanceMemoryMB"]!);
        Assert.Empty((JsonArray)defaults["alwaysReady"]!);
        Assert.Null(defaults["triggers"]);
    }

    [Fact]
    public void Alerts_Full_ActionGroupMailsTheParameterAddress()
    {
        var group = Assert.Single(fixture.FullSnapshot.OfType("Microsoft.Insights/actionGroups"));
        var receiver = Assert.Single((JsonArray)group["properties"]!["emailReceivers"]!)!;
        Assert.Equal("ops@example.com", (string?)receiver["emailAddress"]);
        Assert.Empty((JsonArray)Assert.Single(fixture.DefaultSnapshot.OfType("Microsoft.Insights/actionGroups"))["properties"]!["emailReceivers"]!);
    }

    [Fact]
    public void DeveloperRoles_PrincipalSet_SixDataRolesOnTheirResources()
    {
        var storage = (string?)Assert.Single(fixture.FullSnapshot.OfType("Microsoft.Storage/storageAccounts"))["id"];
        var search = (string?)Assert.Single(fixture.FullSnapshot.OfType("Microsoft.Search/searchServices"))["id"];
        var insights = (string?)Assert.Single(fixture.FullSnapshot.OfType("Microsoft.Insights/components"))["id"];
        var developer = ProductionChecks.RoleAssignmentsOf(fixture.FullSnapshot, InfraFixture.DeveloperPrincipalId);
        (string Role, string? Scope)[] expected =
        [
            (ProductionChecks.Roles.StorageBlobDataContributor, storage),
            (ProductionChecks.Roles.StorageQueueDataReader, storage),
            (ProductionChecks.Roles.StorageTableDataReader, storage),
            (ProductionChecks.Roles.SearchIndexDataReader, search),
            (ProductionChecks.Roles.SearchIndexDataContributor, search),
            (ProductionChecks.Roles.MonitoringReader, insights),
        ];
        Assert.Equal(expected.OrderBy(e => e.Role), developer.Select(a => (a.RoleDefinitionGuid, a.Scope)).OrderBy(e => e.Item1));

        // No principal, no developer roles (the default snapshot and production).
        Assert.Empty(ProductionChecks.RoleAssignmentsOf(fixture.DefaultSnapshot, "aaaaaaaa"));
        Assert.Equal(
            ProductionChecks.RoleAssignmentsOf(fixture.ProdSnapshot, "userAssignedIdentities").Count + 1, // + the topic's writer
            fixture.ProdSnapshot.RoleAssignments().Count);
    }

    [Fact]
    public void ResourceGroup_Defaults_RgEnvironmentInTheLocation()
    {
        var group = Assert.Single(fixture.DefaultSnapshot.OfType("Microsoft.Resources/resourceGroups"));
        Assert.Equal("rg-psim", (string?)group["name"]);
        Assert.Equal("swedencentral", (string?)group["location"]);
        Assert.Equal("psim", (string?)group["tags"]?["azd-env-name"]);
        // Every other resource is inside it (role assignments and diagnostic settings keep an extensionResourceId expression).
        Assert.All(
            fixture.DefaultSnapshot.Resources.Where(r => (string?)r["type"] != "Microsoft.Resources/resourceGroups"),
            r => Assert.Contains("/subscriptions/" + InfraWorkspace.SubscriptionId + "/resourceGroups/rg-psim/providers/", (string?)r["id"], StringComparison.Ordinal));
    }

    [Fact]
    public void Names_Defaults_KeepTheGeneratedNames()
    {
        string[] prefixes = ["id-psim-", "stpsim", "log-psim-", "appi-psim-", "srch-psim-", "plan-psim-", "func-psim-", "evgt-psim-", "ag-psim-"];
        var names = fixture.DefaultSnapshot.Resources.Select(r => (string?)r["name"] ?? "").ToList();
        Assert.All(prefixes, prefix => Assert.Contains(names, n => n.StartsWith(prefix, StringComparison.Ordinal)));
        var site = (string)Assert.Single(fixture.DefaultSnapshot.OfType("Microsoft.Web/sites"))["name"]!;
        Assert.StartsWith("func-psim-", site, StringComparison.Ordinal);
        var token = site["func-psim-".Length..];
        Assert.Contains("srch-psim-" + token, names);
    }

    [Fact]
    public void Templates_NoFixedCloudHostNames()
    {
        foreach (var file in Directory.EnumerateFiles(Path.Combine(InfraWorkspace.RepoRoot, "infra"), "*.bicep", SearchOption.AllDirectories))
        {
            var lines = File.ReadAllLines(file);
            foreach (var line in lines.Where(l => !l.TrimStart().StartsWith("//", StringComparison.Ordinal) && !l.TrimStart().StartsWith("@description", StringComparison.Ordinal)))
            {
                Assert.DoesNotContain("core.windows.net", line, StringComparison.Ordinal);
                Assert.DoesNotContain("management.azure.com", line, StringComparison.Ordinal);
                // search.windows.net only as the public-cloud fallback of the environment().name lookup.
                if (line.Contains("search.windows.net", StringComparison.Ordinal))
                {
                    Assert.Contains("?? '", line, StringComparison.Ordinal);
                }
            }
        }
    }

    private ArmSnapshot Snapshot(string name) => name switch
    {
        "default" => fixture.DefaultSnapshot,
        "full" => fixture.FullSnapshot,
        "prod" => fixture.ProdSnapshot,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static void AssertNone(IReadOnlyList<string> violations) =>
        Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations));
}
