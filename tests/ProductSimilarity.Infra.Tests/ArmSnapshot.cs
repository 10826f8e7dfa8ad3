using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ProductSimilarity.Infra.Tests;

/// <summary>A role assignment as the snapshot predicts it.</summary>
/// <param name="RoleDefinitionGuid">The role definition id's last segment.</param>
/// <param name="Scope">The resource id the assignment is scoped to (from <c>extensionResourceId</c>), or null when it could not be read.</param>
/// <param name="NameExpression">The assignment name, an ARM expression.</param>
internal sealed record RoleAssignment(string RoleDefinitionGuid, string? Scope, string NameExpression);

/// <summary>
/// The output of <c>bicep snapshot</c>: the resources a deployment would create, flattened across
/// modules, with parameters, variables and conditions evaluated. Runtime values stay ARM expressions
/// such as <c>[reference('...').clientId]</c>.
/// </summary>
/// <remarks>Immutable after parsing; thread-safe for reads.</remarks>
internal sealed partial class ArmSnapshot
{
    private ArmSnapshot(JsonObject root, string text)
    {
        Root = root;
        Text = text;
        Resources = (root["predictedResources"] as JsonArray ?? []).OfType<JsonObject>().ToList();
    }

    /// <summary>The whole snapshot document.</summary>
    public JsonObject Root { get; }

    /// <summary>The raw snapshot text.</summary>
    public string Text { get; }

    /// <summary>Every predicted resource.</summary>
    public IReadOnlyList<JsonObject> Resources { get; }

    /// <summary>Diagnostics the snapshot command reported.</summary>
    public IReadOnlyList<string> Diagnostics =>
        (Root["diagnostics"] as JsonArray ?? []).Select(d => d?.ToJsonString() ?? "").ToList();

    /// <summary>Parses a snapshot file's text.</summary>
    public static ArmSnapshot Parse(string json) =>
        new(JsonNode.Parse(json) as JsonObject ?? throw new FormatException("A snapshot is a JSON object."), json);

    /// <summary>Resources of one type (case-insensitive, as ARM types are).</summary>
    public IReadOnlyList<JsonObject> OfType(string type) =>
        Resources.Where(r => string.Equals((string?)r["type"], type, StringComparison.OrdinalIgnoreCase)).ToList();

    /// <summary>The function app settings (the <c>appsettings</c> config resource), name to value (values may be ARM expressions).</summary>
    public IReadOnlyDictionary<string, string?> AppSettings()
    {
        var settings = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var config in OfType("Microsoft.Web/sites/config")
                     .Where(c => ((string?)c["name"])?.EndsWith("/appsettings", StringComparison.OrdinalIgnoreCase) == true))
        {
            foreach (var (name, value) in config["properties"] as JsonObject ?? [])
            {
                settings[name] = value is JsonValue v ? v.ToString() : value?.ToJsonString();
            }
        }

        // Settings can also be written inline as siteConfig.appSettings: [{ name, value }].
        foreach (var site in OfType("Microsoft.Web/sites"))
        {
            foreach (var pair in (site["properties"]?["siteConfig"]?["appSettings"] as JsonArray ?? []).OfType<JsonObject>())
            {
                settings[(string?)pair["name"] ?? ""] = pair["value"] is JsonValue v ? v.ToString() : pair["value"]?.ToJsonString();
            }
        }

        return settings;
    }

    /// <summary>The predicted role assignments.</summary>
    public IReadOnlyList<RoleAssignment> RoleAssignments() =>
        OfType("Microsoft.Authorization/roleAssignments")
            .Select(r =>
            {
                var definition = (string?)r["properties"]?["roleDefinitionId"] ?? "";
                var id = (string?)r["id"] ?? "";
                var scope = ScopePattern().Match(id);
                // A name the snapshot could evaluate gives a plain id: SCOPE/providers/Microsoft.Authorization/roleAssignments/NAME.
                var plain = id.IndexOf("/providers/Microsoft.Authorization/roleAssignments/", StringComparison.Ordinal);
                return new RoleAssignment(
                    definition[(definition.LastIndexOf('/') + 1)..].TrimEnd(']', '\'', ')'),
                    scope.Success ? scope.Groups["scope"].Value : !id.StartsWith('[') && plain > 0 ? id[..plain] : null,
                    (string?)r["name"] ?? "");
            })
            .ToList();

    /// <summary>Every JSON object in a tree (depth first), found by a generic walk; nested module templates included.</summary>
    public static IEnumerable<JsonObject> Objects(JsonNode? node)
    {
        if (node is JsonObject obj)
        {
            yield return obj;
        }

        var children = node switch
        {
            JsonObject o => o.Select(p => p.Value),
            JsonArray a => a.AsEnumerable(),
            _ => [],
        };
        foreach (var child in children)
        {
            foreach (var item in Objects(child))
            {
                yield return item;
            }
        }
    }

    [GeneratedRegex(@"^\[extensionResourceId\('(?<scope>[^']+)'")]
    private static partial Regex ScopePattern();
}
