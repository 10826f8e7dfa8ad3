using System.Text.Json.Nodes;

namespace ProductSimilarity.Infra.Tests;

/// <summary>
/// The production rules of issue 15 and the alert and scale rules, each as a function that lists
/// violations of an evaluated snapshot, so a test can assert both that the real templates have none and
/// that a deliberately broken copy is caught (see <see cref="ProductionCheckNegativeTests"/>).
/// </summary>
/// <remarks>Stateless; thread-safe.</remarks>
internal static class ProductionChecks
{
    /// <summary>Built-in role ids the checks look for.</summary>
    public static class Roles
    {
        public const string StorageBlobDataOwner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
        public const string StorageBlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
        public const string StorageQueueDataContributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";
        public const string StorageTableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";
        public const string StorageQueueDataReader = "19e7f393-937e-4f77-808e-94535e297925";
        public const string StorageTableDataReader = "76199698-9eea-4c19-bc75-cec21354c6b6";
        public const string SearchIndexDataReader = "1407120a-92aa-4202-b7e9-c0e197c71c8f";
        public const string SearchIndexDataContributor = "8ebe5a00-799e-43f5-93ac-243d3dce84a7";
        public const string MonitoringReader = "43d0d8ad-25c7-4714-9337-8ba259a9fe05";
    }

    /// <summary>The documented Flex Consumption range of maximumInstanceCount.</summary>
    public const int MinimumMaximumInstanceCount = 40;

    /// <summary>The documented Flex Consumption upper bound of maximumInstanceCount.</summary>
    public const int MaximumMaximumInstanceCount = 1000;

    /// <summary>
    /// The function identity's storage roles the Functions host and the EventGrid blob trigger need:
    /// blob (host state, the trigger), queue (every Event Grid blob event goes through the host's
    /// azure-webjobs-blobtrigger-* queue, so every ingestion needs it) and table (host diagnostic events).
    /// </summary>
    public static IReadOnlyList<string> HostStorageRoleViolations(ArmSnapshot snapshot)
    {
        var violations = new List<string>();
        var storage = Single(snapshot, "Microsoft.Storage/storageAccounts", violations);
        var identity = Single(snapshot, "Microsoft.ManagedIdentity/userAssignedIdentities", violations);
        if (storage is null || identity is null)
        {
            return violations;
        }

        var assignments = RoleAssignmentsOf(snapshot, "userAssignedIdentities");
        (string Role, string Why)[] required =
        [
            (Roles.StorageBlobDataOwner, "Storage Blob Data Owner (host storage and the blob trigger)"),
            (Roles.StorageQueueDataContributor, "Storage Queue Data Contributor (every Event Grid blob event passes through the host's azure-webjobs-blobtrigger queue)"),
            (Roles.StorageTableDataContributor, "Storage Table Data Contributor (the host writes diagnostic events to Table storage; 403 AuthorizationPermissionMismatch without it)"),
        ];
        foreach (var (role, why) in required)
        {
            if (!assignments.Any(a => a.RoleDefinitionGuid == role && a.Scope == (string?)storage["id"]))
            {
                violations.Add($"function identity lacks {why} on the storage account");
            }
        }

        return violations;
    }

    /// <summary>The catalog event subscription dead-letters with the system topic's identity to a container the identity may write.</summary>
    public static IReadOnlyList<string> DeadLetterViolations(ArmSnapshot snapshot, string expectedContainer = "catalog-deadletter")
    {
        var violations = new List<string>();
        var subscription = Single(snapshot, "Microsoft.EventGrid/systemTopics/eventSubscriptions", violations);
        var topic = Single(snapshot, "Microsoft.EventGrid/systemTopics", violations);
        var storage = Single(snapshot, "Microsoft.Storage/storageAccounts", violations);
        if (subscription is null || topic is null || storage is null)
        {
            return violations;
        }

        var properties = subscription["properties"]!;
        if (properties["deadLetterDestination"] is not null)
        {
            violations.Add("event subscription uses deadLetterDestination, which needs a storage key; shared keys are off");
        }

        var withIdentity = properties["deadLetterWithResourceIdentity"];
        var identityType = (string?)withIdentity?["identity"]?["type"];
        if (withIdentity is null || string.IsNullOrEmpty(identityType))
        {
            violations.Add("event subscription has no deadLetterWithResourceIdentity with an identity: failed deliveries would be dropped");
            return violations;
        }

        var destination = withIdentity["deadLetterDestination"];
        var container = (string?)destination?["properties"]?["blobContainerName"];
        if ((string?)destination?["endpointType"] != "StorageBlob" ||
            (string?)destination?["properties"]?["resourceId"] != (string?)storage["id"] ||
            container != expectedContainer)
        {
            violations.Add($"dead letters must go to the {expectedContainer} container of the storage account (is {destination?.ToJsonString() ?? "unset"})");
        }

        if (!ContainerNames(snapshot).Contains(expectedContainer))
        {
            violations.Add($"container {expectedContainer} is not created");
        }

        if (identityType == "SystemAssigned" && (string?)topic["identity"]?["type"] != "SystemAssigned")
        {
            violations.Add("the system topic has no system-assigned identity to dead-letter with");
        }

        var writer = RoleAssignmentsOf(snapshot, "Microsoft.EventGrid/systemTopics")
            .FirstOrDefault(a => a.RoleDefinitionGuid == Roles.StorageBlobDataContributor);
        if (writer is null || writer.Scope?.EndsWith("/containers/" + expectedContainer, StringComparison.Ordinal) != true)
        {
            violations.Add($"the system topic identity has no Storage Blob Data Contributor on the {expectedContainer} container");
        }

        return violations;
    }

    /// <summary>
    /// With vnetEnabled: public network access off on storage, Search and Azure OpenAI; a private endpoint with a
    /// DNS zone group for blob, queue, table, Search and (when deployed) OpenAI; the app integrated in a subnet
    /// delegated to Flex Consumption.
    /// </summary>
    public static IReadOnlyList<string> PrivateNetworkViolations(ArmSnapshot snapshot)
    {
        var violations = new List<string>();
        var targets = new List<(JsonObject Resource, string GroupId)>();
        foreach (var storage in snapshot.OfType("Microsoft.Storage/storageAccounts"))
        {
            // Storage closes its public endpoint to every network but keeps the trusted-services bypass:
            // Event Grid dead-letters with the topic's managed identity, which publicNetworkAccess 'Disabled' refuses.
            var acls = storage["properties"]?["networkAcls"];
            var closed = (string?)acls?["defaultAction"] == "Deny" &&
                         (acls?["ipRules"] as JsonArray ?? []).Count == 0 &&
                         (acls?["virtualNetworkRules"] as JsonArray ?? []).Count == 0;
            var access = (string?)storage["properties"]?["publicNetworkAccess"];
            if (!string.Equals(access, "Disabled", StringComparison.OrdinalIgnoreCase) && !closed)
            {
                violations.Add($"storage {Name(storage)}: public network access must be off (publicNetworkAccess Disabled, or networkAcls defaultAction Deny with no IP or VNet rules)");
            }

            targets.AddRange(new[] { "blob", "queue", "table" }.Select(g => (storage, g)));
        }

        foreach (var search in snapshot.OfType("Microsoft.Search/searchServices"))
        {
            ExpectDisabled(violations, search, "search");
            targets.Add((search, "searchService"));
        }

        foreach (var account in snapshot.OfType("Microsoft.CognitiveServices/accounts"))
        {
            ExpectDisabled(violations, account, "openai");
            targets.Add((account, "account"));
        }

        var endpoints = snapshot.OfType("Microsoft.Network/privateEndpoints");
        var zoneGroups = snapshot.OfType("Microsoft.Network/privateEndpoints/privateDnsZoneGroups");
        var zones = snapshot.OfType("Microsoft.Network/privateDnsZones").Select(z => (string?)z["id"]).ToHashSet();
        foreach (var (resource, groupId) in targets)
        {
            var endpoint = endpoints.FirstOrDefault(e =>
                (e["properties"]?["privateLinkServiceConnections"] as JsonArray ?? []).Any(c =>
                    (string?)c?["properties"]?["privateLinkServiceId"] == (string?)resource["id"] &&
                    (c?["properties"]?["groupIds"] as JsonArray ?? []).Any(g => (string?)g == groupId)));
            if (endpoint is null)
            {
                violations.Add($"no private endpoint for {Name(resource)} ({groupId})");
                continue;
            }

            var group = zoneGroups.FirstOrDefault(g => ((string?)g["name"])?.StartsWith((string?)endpoint["name"] + "/", StringComparison.Ordinal) == true);
            var zoneIds = (group?["properties"]?["privateDnsZoneConfigs"] as JsonArray ?? [])
                .Select(c => (string?)c?["properties"]?["privateDnsZoneId"]).ToList();
            if (zoneIds.Count == 0 || !zoneIds.All(zones.Contains))
            {
                violations.Add($"private endpoint {Name(endpoint)} is not registered in a private DNS zone of the template");
            }
        }

        var links = snapshot.OfType("Microsoft.Network/privateDnsZones/virtualNetworkLinks");
        if (links.Count < zones.Count)
        {
            violations.Add($"{zones.Count - links.Count} private DNS zone(s) not linked to the VNet");
        }

        foreach (var site in snapshot.OfType("Microsoft.Web/sites"))
        {
            var subnetId = (string?)site["properties"]?["virtualNetworkSubnetId"];
            var delegated = snapshot.OfType("Microsoft.Network/virtualNetworks")
                .SelectMany(v => (v["properties"]?["subnets"] as JsonArray ?? []).OfType<JsonObject>()
                    .Where(s => (s["properties"]?["delegations"] as JsonArray ?? [])
                        .Any(d => (string?)d?["properties"]?["serviceName"] == "Microsoft.App/environments"))
                    .Select(s => $"{v["id"]}/subnets/{s["name"]}"))
                .ToList();
            if (subnetId is null || !delegated.Contains(subnetId))
            {
                violations.Add($"site {Name(site)}: not integrated in a subnet delegated to Microsoft.App/environments (is {subnetId ?? "unset"})");
            }
        }

        return violations;
    }

    /// <summary>Storage (account and its blob, queue and table services), Search, the system topic and the function app send diagnostics to the workspace.</summary>
    public static IReadOnlyList<string> DiagnosticViolations(ArmSnapshot snapshot)
    {
        var violations = new List<string>();
        var workspace = Single(snapshot, "Microsoft.OperationalInsights/workspaces", violations);
        var settings = snapshot.OfType("Microsoft.Insights/diagnosticSettings");
        var storage = snapshot.OfType("Microsoft.Storage/storageAccounts").Select(s => (string?)s["id"]).ToList();
        var targets = storage
            .Concat(storage.SelectMany(id => new[] { $"{id}/blobServices/default", $"{id}/queueServices/default", $"{id}/tableServices/default" }))
            .Concat(new[] { "Microsoft.Search/searchServices", "Microsoft.EventGrid/systemTopics", "Microsoft.Web/sites" }
                .SelectMany(t => snapshot.OfType(t)).Select(r => (string?)r["id"]))
            .ToList();
        foreach (var target in targets)
        {
            var setting = settings.FirstOrDefault(s => ((string?)s["id"])?.StartsWith(target + "/providers/Microsoft.Insights/diagnosticSettings/", StringComparison.Ordinal) == true);
            if (setting is null)
            {
                violations.Add($"no diagnostic setting on {target}");
            }
            else if ((string?)setting["properties"]?["workspaceId"] != (string?)workspace?["id"])
            {
                violations.Add($"diagnostic setting on {target} does not send to the Log Analytics workspace");
            }
        }

        return violations;
    }

    /// <summary>
    /// Three log alerts (failed ingestion incl. the poison path, p95 latency, HTTP 5xx) on the Application Insights
    /// component the app sends to, linked to the function app, notifying an action group of the template.
    /// </summary>
    public static IReadOnlyList<string> AlertViolations(ArmSnapshot snapshot, string catalogFunctionName = "IngestCatalog")
    {
        var violations = new List<string>();
        var insights = Single(snapshot, "Microsoft.Insights/components", violations);
        var site = Single(snapshot, "Microsoft.Web/sites", violations);
        var actionGroups = snapshot.OfType("Microsoft.Insights/actionGroups").Select(g => (string?)g["id"]).ToHashSet();
        if (insights is null || site is null)
        {
            return violations;
        }

        if (actionGroups.Count == 0)
        {
            violations.Add("no action group");
        }

        var rules = snapshot.OfType("Microsoft.Insights/scheduledQueryRules");
        (string Key, Func<string, bool> Query)[] expected =
        [
            ("failed-ingestion", q => q.Contains("failed to ingest", StringComparison.Ordinal) &&
                                      q.Contains("webjobs-blobtrigger-poison", StringComparison.Ordinal) &&
                                      q.Contains($"name == \"{catalogFunctionName}\"", StringComparison.Ordinal)),
            ("query-latency-p95", q => q.Contains("percentile(duration, 95)", StringComparison.Ordinal)),
            ("http-5xx", q => q.Contains("toint(resultCode) >= 500", StringComparison.Ordinal)),
        ];
        foreach (var (key, query) in expected)
        {
            var rule = rules.FirstOrDefault(r => ((string?)r["name"])?.StartsWith(key + "-", StringComparison.Ordinal) == true);
            if (rule is null)
            {
                violations.Add($"no {key} alert rule");
                continue;
            }

            var properties = rule["properties"]!;
            var scopes = (properties["scopes"] as JsonArray ?? []).Select(s => (string?)s).ToList();
            if (scopes.Count != 1 || scopes[0] != (string?)insights["id"])
            {
                violations.Add($"{key}: must query the app's Application Insights component (scopes: {string.Join(", ", scopes)})");
            }

            if ((string?)rule["tags"]?[$"hidden-link:{site["id"]}"] != "Resource")
            {
                violations.Add($"{key}: not linked to the function app (hidden-link tag)");
            }

            if ((bool?)properties["enabled"] != true)
            {
                violations.Add($"{key}: disabled");
            }

            var criteria = (properties["criteria"]?["allOf"] as JsonArray ?? []).OfType<JsonObject>().ToList();
            if (criteria.Count == 0 || !criteria.All(c => query((string?)c["query"] ?? "")))
            {
                violations.Add($"{key}: query does not look for what the app emits ({criteria.FirstOrDefault()?["query"]?.ToJsonString() ?? "none"})");
            }

            var notified = (properties["actions"]?["actionGroups"] as JsonArray ?? []).Select(a => (string?)a).ToList();
            if (notified.Count == 0 || !notified.All(actionGroups.Contains))
            {
                violations.Add($"{key}: does not notify the template's action group");
            }
        }

        return violations;
    }

    /// <summary>Flex Consumption scale limits set and inside the documented range; memory fits the embedding provider.</summary>
    public static IReadOnlyList<string> ScaleViolations(ArmSnapshot snapshot)
    {
        var violations = new List<string>();
        foreach (var site in snapshot.OfType("Microsoft.Web/sites"))
        {
            var scale = site["properties"]?["functionAppConfig"]?["scaleAndConcurrency"];
            var maximum = (int?)scale?["maximumInstanceCount"];
            var memory = (int?)scale?["instanceMemoryMB"];
            if (maximum is null || maximum < MinimumMaximumInstanceCount || maximum > MaximumMaximumInstanceCount)
            {
                violations.Add($"site {Name(site)}: maximumInstanceCount {maximum?.ToString() ?? "unset"} is outside the documented {MinimumMaximumInstanceCount}-{MaximumMaximumInstanceCount}");
            }

            if (memory is not (512 or 2048 or 4096))
            {
                violations.Add($"site {Name(site)}: instanceMemoryMB {memory?.ToString() ?? "unset"} is not 512, 2048 or 4096");
            }

            var onnx = snapshot.AppSettings().GetValueOrDefault("ProductSimilarity__Embeddings__Provider") == "Onnx";
            if (onnx && memory < 2048)
            {
                violations.Add($"site {Name(site)}: {memory} MB instances with the bundled ONNX model");
            }

            foreach (var ready in (scale?["alwaysReady"] as JsonArray ?? []).OfType<JsonObject>())
            {
                if ((string?)ready["name"] != "http" && !((string?)ready["name"])?.StartsWith("function:", StringComparison.Ordinal) == true)
                {
                    violations.Add($"site {Name(site)}: alwaysReady group '{ready["name"]}' is not 'http'");
                }
            }
        }

        return violations;
    }

    /// <summary>The names of the blob containers the template creates.</summary>
    public static IReadOnlySet<string> ContainerNames(ArmSnapshot snapshot) =>
        snapshot.OfType("Microsoft.Storage/storageAccounts/blobServices/containers")
            .Select(c => ((string)c["name"]!).Split('/')[^1])
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>Role assignments whose principal is a reference to a resource of <paramref name="principalSource"/> (an identity, a topic).</summary>
    public static IReadOnlyList<RoleAssignment> RoleAssignmentsOf(ArmSnapshot snapshot, string principalSource)
    {
        var names = snapshot.OfType("Microsoft.Authorization/roleAssignments")
            .Where(r => ((string?)r["properties"]?["principalId"])?.Contains(principalSource, StringComparison.Ordinal) == true)
            .Select(r => (string?)r["name"])
            .ToHashSet();
        return snapshot.RoleAssignments().Where(a => names.Contains(a.NameExpression)).ToList();
    }

    private static void ExpectDisabled(List<string> violations, JsonObject resource, string kind)
    {
        var access = (string?)resource["properties"]?["publicNetworkAccess"];
        if (!string.Equals(access, "Disabled", StringComparison.OrdinalIgnoreCase))
        {
            violations.Add($"{kind} {Name(resource)}: publicNetworkAccess must be Disabled with vnetEnabled (is {access ?? "unset"})");
        }
    }

    private static JsonObject? Single(ArmSnapshot snapshot, string type, List<string> violations)
    {
        var resources = snapshot.OfType(type);
        if (resources.Count != 1)
        {
            violations.Add($"expected one {type}, found {resources.Count}");
            return null;
        }

        return resources[0];
    }

    private static string Name(JsonObject resource) => (string?)resource["name"] ?? "(unnamed)";
}
