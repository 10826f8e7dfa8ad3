using System.Text.Json.Nodes;

namespace ProductSimilarity.Infra.Tests;

/// <summary>
/// The security rules the templates must keep, as a function that lists violations, so a test can
/// assert both that the real templates have none and that a deliberately broken copy is caught.
/// </summary>
/// <remarks>Stateless; thread-safe.</remarks>
internal static class InfraChecks
{
    /// <summary>Functions that read keys or secrets at deployment time; none may appear in the templates.</summary>
    private static readonly string[] SecretListingFunctions =
        ["listKeys(", "listSecrets(", "listConnectionStrings(", "listAccountSas(", "listServiceSas(", "listCredentials("];

    /// <summary>Text that only appears in a value when a credential is embedded in it.</summary>
    private static readonly string[] SecretValueMarkers =
        ["AccountKey=", "SharedAccessKey=", "SharedAccessSignature", "sig=", "password=", "pwd="];

    /// <summary>Words that mark a setting name as holding a credential.</summary>
    private static readonly string[] SecretNameMarkers = ["key", "secret", "password", "token", "sas"];

    /// <summary>Every violation of the security rules in a snapshot and its compiled template.</summary>
    public static IReadOnlyList<string> SecurityViolations(ArmSnapshot snapshot, string compiledTemplate)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(compiledTemplate);
        var violations = new List<string>();

        foreach (var function in SecretListingFunctions)
        {
            if (compiledTemplate.Contains(function, StringComparison.OrdinalIgnoreCase) ||
                snapshot.Text.Contains(function, StringComparison.OrdinalIgnoreCase))
            {
                violations.Add($"template calls {function}...) and so reads a secret at deployment time");
            }
        }

        var storageAccounts = snapshot.OfType("Microsoft.Storage/storageAccounts");
        if (storageAccounts.Count == 0)
        {
            violations.Add("no storage account in the template");
        }

        foreach (var storage in storageAccounts)
        {
            var name = Name(storage);
            Expect(violations, storage, "allowSharedKeyAccess", false, $"storage {name}: allowSharedKeyAccess must be false");
            Expect(violations, storage, "allowBlobPublicAccess", false, $"storage {name}: allowBlobPublicAccess must be false");
            Expect(violations, storage, "supportsHttpsTrafficOnly", true, $"storage {name}: supportsHttpsTrafficOnly must be true");
            Expect(violations, storage, "minimumTlsVersion", "TLS1_2", $"storage {name}: minimumTlsVersion must be TLS1_2");
        }

        foreach (var container in snapshot.OfType("Microsoft.Storage/storageAccounts/blobServices/containers"))
        {
            var access = (string?)container["properties"]?["publicAccess"];
            if (access is not null && access != "None")
            {
                violations.Add($"container {Name(container)}: publicAccess must be None, not {access}");
            }
        }

        foreach (var search in snapshot.OfType("Microsoft.Search/searchServices"))
        {
            Expect(violations, search, "disableLocalAuth", true, $"search {Name(search)}: disableLocalAuth must be true (RBAC only)");
        }

        foreach (var insights in snapshot.OfType("Microsoft.Insights/components"))
        {
            Expect(violations, insights, "DisableLocalAuth", true, $"application insights {Name(insights)}: DisableLocalAuth must be true");
            if (string.IsNullOrEmpty((string?)insights["properties"]?["WorkspaceResourceId"]))
            {
                violations.Add($"application insights {Name(insights)}: must be workspace-based (WorkspaceResourceId)");
            }
        }

        foreach (var account in snapshot.OfType("Microsoft.CognitiveServices/accounts"))
        {
            Expect(violations, account, "disableLocalAuth", true, $"cognitive services {Name(account)}: disableLocalAuth must be true");
        }

        foreach (var site in snapshot.OfType("Microsoft.Web/sites"))
        {
            Expect(violations, site, "httpsOnly", true, $"site {Name(site)}: httpsOnly must be true");
            var identity = (string?)site["identity"]?["type"] ?? "None";
            if (!identity.Contains("Assigned", StringComparison.Ordinal))
            {
                violations.Add($"site {Name(site)}: must run as a managed identity");
            }

            var tls = (string?)site["properties"]?["siteConfig"]?["minTlsVersion"];
            if (tls is not null && tls != "1.2" && tls != "1.3")
            {
                violations.Add($"site {Name(site)}: siteConfig.minTlsVersion {tls} is below 1.2");
            }
        }

        foreach (var policy in snapshot.OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies"))
        {
            Expect(violations, policy, "allow", false, $"site {Name(policy)}: basic publishing credentials must be off");
        }

        foreach (var (name, value) in snapshot.AppSettings())
        {
            violations.AddRange(SettingViolations(name, value));
        }

        return violations;
    }

    /// <summary>Why an app setting looks like it carries a secret (empty when it does not).</summary>
    public static IEnumerable<string> SettingViolations(string name, string? value)
    {
        ArgumentNullException.ThrowIfNull(name);
        value ??= "";
        var isExpression = value.StartsWith('[') && value.EndsWith(']');
        foreach (var marker in SecretValueMarkers)
        {
            if (value.Contains(marker, StringComparison.OrdinalIgnoreCase))
            {
                yield return $"app setting {name}: value contains '{marker}'";
            }
        }

        if (!isExpression && value.Contains("Key=", StringComparison.OrdinalIgnoreCase))
        {
            yield return $"app setting {name}: literal value contains a key";
        }

        if (!isExpression && value.Length > 0 &&
            SecretNameMarkers.Any(m => name.Contains(m, StringComparison.OrdinalIgnoreCase)))
        {
            yield return $"app setting {name}: a secret-looking name with a literal value";
        }
    }

    /// <summary>Keys in <paramref name="required"/> that the app settings leave out or leave empty.</summary>
    public static IReadOnlyList<string> MissingSettings(IReadOnlyDictionary<string, string?> settings, IEnumerable<string> required)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return required.Where(key => string.IsNullOrWhiteSpace(settings.GetValueOrDefault(key))).ToList();
    }

    private static string Name(JsonObject resource) => (string?)resource["name"] ?? "(unnamed)";

    private static void Expect(List<string> violations, JsonObject resource, string property, bool expected, string message)
    {
        var node = resource["properties"]?[property];
        if (node is not JsonValue value || !value.TryGetValue<bool>(out var actual) || actual != expected)
        {
            violations.Add($"{message} (is {node?.ToJsonString() ?? "unset"})");
        }
    }

    private static void Expect(List<string> violations, JsonObject resource, string property, string expected, string message)
    {
        var node = resource["properties"]?[property];
        if (node is not JsonValue value || !value.TryGetValue<string>(out var actual) || actual != expected)
        {
            violations.Add($"{message} (is {node?.ToJsonString() ?? "unset"})");
        }
    }
}
