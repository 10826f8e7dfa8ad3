using System.Reflection;
using System.Text.Json.Nodes;

namespace ProductSimilarity.Infra.Tests;

/// <summary>
/// A private copy of the repository's infra/ folder in a temp directory. The Bicep CLI writes its
/// outputs (snapshots, compiled JSON) there, never into the working tree, and negative tests can edit
/// the copy.
/// </summary>
/// <remarks>Not thread-safe for concurrent edits; runs of the CLI on different files may overlap.</remarks>
internal sealed class InfraWorkspace : IDisposable
{
    /// <summary>Values the snapshot evaluates subscription(), resourceGroup() and tenant() with.</summary>
    public const string SubscriptionId = "00000000-0000-0000-0000-000000000000";

    /// <summary>Location used for snapshots.</summary>
    public const string Location = "swedencentral";

    private const string TenantId = "11111111-1111-1111-1111-111111111111";

    private readonly string _root;

    private InfraWorkspace(string root)
    {
        _root = root;
        InfraDirectory = System.IO.Path.Combine(root, "infra");
        OutputDirectory = System.IO.Path.Combine(root, "out");
        Directory.CreateDirectory(OutputDirectory);
    }

    /// <summary>The repository root (where azure.yaml and infra/ live).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The copied infra folder.</summary>
    public string InfraDirectory { get; }

    /// <summary>Folder for compiled outputs.</summary>
    public string OutputDirectory { get; }

    /// <summary>Copies the repository's infra folder into a new temp directory.</summary>
    public static InfraWorkspace Create()
    {
        var root = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "psim-infra-" + Guid.NewGuid().ToString("N"));
        CopyDirectory(System.IO.Path.Combine(RepoRoot, "infra"), System.IO.Path.Combine(root, "infra"));
        return new InfraWorkspace(root);
    }

    /// <summary>Replaces text in a copied file; fails when the text is not there, so an edit can never silently do nothing.</summary>
    public void Replace(string relativePath, string oldText, string newText)
    {
        var path = System.IO.Path.Combine(InfraDirectory, relativePath);
        var text = File.ReadAllText(path);
        if (!text.Contains(oldText, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"'{oldText}' not found in {relativePath}.");
        }

        File.WriteAllText(path, text.Replace(oldText, newText, StringComparison.Ordinal));
    }

    /// <summary>Writes a parameter file next to main.bicep: main.bicepparam plus <paramref name="extraLines"/>.</summary>
    public string WriteParameters(string fileName, params string[] extraLines) =>
        WriteParametersFrom("main.bicepparam", fileName, extraLines);

    /// <summary>
    /// Writes a parameter file next to main.bicep: <paramref name="baseFile"/> with each <c>param NAME = VALUE</c>
    /// line of <paramref name="lines"/> replacing the base file's assignment of NAME, or appended when it has none.
    /// </summary>
    public string WriteParametersFrom(string baseFile, string fileName, params string[] lines)
    {
        var text = File.ReadAllLines(System.IO.Path.Combine(InfraDirectory, baseFile)).ToList();
        foreach (var line in lines)
        {
            var name = line.StartsWith("param ", StringComparison.Ordinal) ? line.Split(' ', 3)[1] : null;
            var index = name is null ? -1 : text.FindIndex(l => l.StartsWith($"param {name} ", StringComparison.Ordinal));
            if (index >= 0)
            {
                text[index] = line;
            }
            else
            {
                text.Add(line);
            }
        }

        File.WriteAllLines(System.IO.Path.Combine(InfraDirectory, fileName), text);
        return fileName;
    }

    /// <summary><c>bicep build main.bicep</c>; returns the run and the compiled ARM JSON (empty when it failed).</summary>
    public async Task<(BicepResult Result, string Json)> BuildAsync()
    {
        var output = System.IO.Path.Combine(OutputDirectory, "main.json");
        var result = await BicepCli.RunAsync(InfraDirectory, ["build", "main.bicep", "--outfile", output]);
        return (result, File.Exists(output) ? await File.ReadAllTextAsync(output) : "");
    }

    /// <summary><c>bicep lint</c> on every .bicep file of the folder (main and modules).</summary>
    public Task<BicepResult> LintAsync() =>
        BicepCli.RunAsync(InfraDirectory, ["lint", "--pattern", "**/*.bicep"]);

    /// <summary><c>bicep build-params</c>; returns the run and the parameters JSON.</summary>
    public async Task<(BicepResult Result, JsonNode? Parameters)> BuildParamsAsync(
        string parameterFile, IReadOnlyDictionary<string, string>? environment = null)
    {
        var output = System.IO.Path.Combine(OutputDirectory, System.IO.Path.ChangeExtension(parameterFile, ".parameters.json"));
        var result = await BicepCli.RunAsync(InfraDirectory, ["build-params", parameterFile, "--outfile", output], environment);
        return (result, File.Exists(output) ? JsonNode.Parse(await File.ReadAllTextAsync(output)) : null);
    }

    /// <summary><c>bicep snapshot</c>: the resources a deployment with this parameter file would create, evaluated offline.</summary>
    public async Task<(BicepResult Result, ArmSnapshot? Snapshot)> SnapshotAsync(
        string parameterFile, IReadOnlyDictionary<string, string>? environment = null)
    {
        var result = await BicepCli.RunAsync(
            InfraDirectory,
            [
                "snapshot", parameterFile,
                // main.bicep is subscription-scoped: no --resource-group (bicep refuses one for that scope).
                "--subscription-id", SubscriptionId,
                "--location", Location,
                "--tenant-id", TenantId,
            ],
            environment);
        var output = System.IO.Path.Combine(InfraDirectory, System.IO.Path.ChangeExtension(parameterFile, ".snapshot.json"));
        return (result, File.Exists(output) ? ArmSnapshot.Parse(await File.ReadAllTextAsync(output)) : null);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder is harmless.
        }
    }

    private static void CopyDirectory(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = System.IO.Path.GetRelativePath(source, file);
            var destination = System.IO.Path.Combine(target, relative);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }

    private static string FindRepoRoot()
    {
        var fromBuild = typeof(InfraWorkspace).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "RepoRoot")?.Value;
        if (!string.IsNullOrEmpty(fromBuild) && File.Exists(System.IO.Path.Combine(fromBuild, "infra", "main.bicep")))
        {
            return fromBuild;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "infra", "main.bicep")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Could not find the repository root (a folder with infra/main.bicep).");
    }
}
