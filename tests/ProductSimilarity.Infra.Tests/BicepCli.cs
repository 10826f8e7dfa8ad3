using System.Diagnostics;
using System.Reflection;

namespace ProductSimilarity.Infra.Tests;

/// <summary>The result of one Bicep CLI run.</summary>
internal sealed record BicepResult(string Command, int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>Lines that report a warning or an error (the CLI prints diagnostics as <c>file(line,col) : Warning rule: text</c>).</summary>
    public IReadOnlyList<string> Diagnostics =>
        (StandardOutput + "\n" + StandardError)
            .Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(line => line.Contains("Warning", StringComparison.Ordinal) || line.Contains("Error", StringComparison.Ordinal))
            .ToList();

    /// <summary>A readable summary for assertion messages.</summary>
    public override string ToString() =>
        $"bicep {Command} exited {ExitCode}\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}";
}

/// <summary>Runs the Bicep CLI that the NuGet package Azure.Bicep.CommandLine.linux-x64 downloads.</summary>
/// <remarks>Stateless apart from the resolved path; thread-safe.</remarks>
internal static class BicepCli
{
    private const string PackageId = "azure.bicep.commandline.linux-x64";

    /// <summary>Environment variables the parameter file reads; cleared so a developer's azd environment cannot change the results.</summary>
    /// <remarks>GITHUB_ACTIONS and TF_BUILD are cleared too: CI sets them, and main.bicepparam reads them.</remarks>
    internal static readonly string[] ClearedVariables =
    [
        "AZURE_ENV_NAME", "AZURE_LOCATION", "AZURE_RESOURCE_GROUP", "AZURE_SUBSCRIPTION_ID", "AZURE_PRINCIPAL_ID", "AZURE_PRINCIPAL_TYPE",
        "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "GITHUB_ACTIONS", "TF_BUILD",
        "PSIM_ENABLE_AZURE_OPENAI", "PSIM_VNET_ENABLED", "PSIM_ALERT_EMAIL",
    ];

    private static readonly Lazy<string> LazyPath = new(Locate);

    /// <summary>At most one CLI process per core at a time.</summary>
    private static readonly SemaphoreSlim Slots = new(Math.Max(1, Environment.ProcessorCount));

    /// <summary>How long one CLI run may take once it has a core (a loaded CI machine is slow; a hang is not).</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    /// <summary>The bicep executable.</summary>
    public static string Path => LazyPath.Value;

    /// <summary>Runs <c>bicep ARGS</c> in <paramref name="workingDirectory"/>.</summary>
    public static async Task<BicepResult> RunAsync(
        string workingDirectory, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(Path)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in ClearedVariables)
        {
            start.Environment.Remove(name);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        // Test classes run in parallel; without a bound, dozens of CLI processes (each a .NET app that JIT-compiles
        // at start) would share the cores and time out together.
        await Slots.WaitAsync();
        try
        {
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Path}.");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(Timeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"bicep {string.Join(' ', arguments)} did not finish within {Timeout.TotalMinutes} minutes.");
            }

            return new BicepResult(string.Join(' ', arguments), process.ExitCode, await stdout, await stderr);
        }
        finally
        {
            Slots.Release();
        }
    }

    private static string Locate()
    {
        var metadata = typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .ToDictionary(a => a.Key, a => a.Value);
        var version = metadata.GetValueOrDefault("BicepCliVersion") ?? throw new InvalidOperationException("BicepCliVersion metadata missing.");

        // The path MSBuild computed from NuGetPackageRoot first; then the same rule NuGet uses.
        var packagesRoot = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (string.IsNullOrEmpty(packagesRoot))
        {
            packagesRoot = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        }

        string?[] candidates =
        [
            Environment.GetEnvironmentVariable("PSIM_BICEP_PATH"),
            metadata.GetValueOrDefault("BicepCliPath"),
            System.IO.Path.Combine(packagesRoot, PackageId, version, "tools", "bicep"),
        ];
        var path = candidates.FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p))
            ?? throw new FileNotFoundException(
                $"The Bicep CLI {version} was not found (looked at: {string.Join(", ", candidates.Where(c => !string.IsNullOrEmpty(c)))}). " +
                "Run `dotnet restore` on the test project: it downloads Azure.Bicep.CommandLine.linux-x64 with PackageDownload.");

        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            const UnixFileMode executable = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
            if ((mode & executable) != executable)
            {
                try
                {
                    File.SetUnixFileMode(path, mode | executable);
                }
                catch (UnauthorizedAccessException)
                {
                    // A read-only package cache: the owner bit (mode 744) is enough when the owner runs the tests.
                }
            }
        }

        return path;
    }
}
