using System.Diagnostics;
using System.Management.Automation.Language;

namespace ProductSimilarity.Infra.Tests;

/// <summary>
/// The postdeploy hooks: shellcheck on the POSIX script, the PowerShell parser on the Windows twin, and the POSIX
/// script run against a fake `az` on PATH to show that it names the subscription on every call and that a failing
/// az call ends it at once with az's own error (instead of a five-minute wait that blames the code deployment).
/// </summary>
public sealed class HookTests
{
    private const string Subscription = "99999999-9999-9999-9999-999999999999";

    private static readonly string HooksDirectory = Path.Combine(InfraWorkspace.RepoRoot, "infra", "hooks");

    [SkippableFact]
    public void Shellcheck_PostdeploySh_NoFindings()
    {
        var shellcheck = FindOnPath("shellcheck");
        Skip.If(shellcheck is null, "shellcheck is not installed (Debian: apt-get install shellcheck; ./test.sh installs it where apt-get is available)");

        var result = Run(shellcheck!, ["--shell=sh", "--severity=style", Path.Combine(HooksDirectory, "postdeploy.sh")], new Dictionary<string, string>());

        Assert.True(result.ExitCode == 0, result.Output);
    }

    [Fact]
    public void PowerShellParser_PostdeployPs1_NoErrors()
    {
        Parser.ParseFile(Path.Combine(HooksDirectory, "postdeploy.ps1"), out var tokens, out var errors);

        Assert.True(errors.Length == 0, string.Join(Environment.NewLine, errors.Select(e => e.ToString())));
        Assert.NotEmpty(tokens);
    }

    [Fact]
    public void PowerShellParser_BrokenScript_ReportsErrors()
    {
        // The twin: the parser does report a broken script.
        var text = File.ReadAllText(Path.Combine(HooksDirectory, "postdeploy.ps1")).Replace("finally {", "finally (", StringComparison.Ordinal);

        Parser.ParseInput(text, out _, out var errors);

        Assert.NotEmpty(errors);
    }

    [Fact]
    public void PostdeploySh_NotSignedIn_StopsAtFirstCallWithAzError()
    {
        using var fake = new FakeAz();

        var result = fake.RunHook(failOn: "account", error: "ERROR: Please run 'az login' to setup account.", exitCode: 1);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("ERROR: Please run 'az login' to setup account.", result.Output, StringComparison.Ordinal);
        Assert.Contains("signed in separately from azd", result.Output, StringComparison.Ordinal);
        Assert.Single(fake.Calls);
        Assert.DoesNotContain("Waiting for", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void PostdeploySh_ResourceGroupMissing_StopsAtOnceWithAzError()
    {
        using var fake = new FakeAz();

        var result = fake.RunHook(failOn: "functionapp", error: "(ResourceGroupNotFound) Resource group 'rg-psim' could not be found.", exitCode: 3);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("(ResourceGroupNotFound) Resource group 'rg-psim' could not be found.", result.Output, StringComparison.Ordinal);
        Assert.Contains("'az functionapp keys list' failed", result.Output, StringComparison.Ordinal);
        Assert.Equal(2, fake.Calls.Count); // account show, then one keys list: no retry loop
        Assert.DoesNotContain("Waiting for", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void PostdeploySh_KeyAvailable_DeploysCatalogEventsWithSubscriptionOnEveryCall()
    {
        using var fake = new FakeAz();

        var result = fake.RunHook(failOn: "", error: "", exitCode: 0);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal(3, fake.Calls.Count);
        Assert.All(fake.Calls, call => Assert.Contains($"--subscription {Subscription}", call, StringComparison.Ordinal));
        var deploy = fake.Calls[2];
        Assert.StartsWith("deployment group create", deploy, StringComparison.Ordinal);
        Assert.Contains("catalog-events.bicep", deploy, StringComparison.Ordinal);
        Assert.Contains("storageAccountName=stpsimtest", deploy, StringComparison.Ordinal);
        Assert.Contains("deadLetterContainerName=catalog-deadletter", deploy, StringComparison.Ordinal);
        Assert.DoesNotContain("fake-key-value", deploy, StringComparison.Ordinal); // the key travels in a private file
        Assert.Contains("{\"blobsExtensionKey\":{\"value\":\"fake-key-value\"}}", fake.ParametersSeen, StringComparison.Ordinal);
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    private static (int ExitCode, string Output) Run(string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in BicepCli.ClearedVariables)
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish within 2 minutes.");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>A fake `az` in a temp folder put first on PATH; it logs each call and fails the chosen command group.</summary>
    private sealed class FakeAz : IDisposable
    {
        private const string Script = """
            #!/bin/sh
            printf '%s\n' "$*" >> "$FAKE_AZ_LOG"
            for arg in "$@"; do
              case "$arg" in @*) cat "${arg#@}" >> "$FAKE_AZ_PARAMETERS" ;; esac
            done
            if [ -n "$FAKE_AZ_FAIL_ON" ] && [ "$1" = "$FAKE_AZ_FAIL_ON" ]; then
              echo "$FAKE_AZ_ERROR" >&2
              exit "$FAKE_AZ_EXIT"
            fi
            if [ "$1 $2 $3" = "functionapp keys list" ]; then
              echo "fake-key-value"
            fi
            exit 0
            """;

        private readonly string _directory = Directory.CreateTempSubdirectory("psim-fake-az-").FullName;

        public FakeAz()
        {
            var az = Path.Combine(_directory, "az");
            File.WriteAllText(az, Script.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(az, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        public IReadOnlyList<string> Calls =>
            File.Exists(LogPath) ? File.ReadAllLines(LogPath) : [];

        public string ParametersSeen => File.Exists(ParametersPath) ? File.ReadAllText(ParametersPath) : "";

        private string LogPath => Path.Combine(_directory, "calls.log");

        private string ParametersPath => Path.Combine(_directory, "parameters.log");

        public (int ExitCode, string Output) RunHook(string failOn, string error, int exitCode) =>
            Run("sh", [Path.Combine(HooksDirectory, "postdeploy.sh")], new Dictionary<string, string>
            {
                ["PATH"] = _directory + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH"),
                ["FAKE_AZ_LOG"] = LogPath,
                ["FAKE_AZ_PARAMETERS"] = ParametersPath,
                ["FAKE_AZ_FAIL_ON"] = failOn,
                ["FAKE_AZ_ERROR"] = error,
                ["FAKE_AZ_EXIT"] = exitCode.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["AZURE_SUBSCRIPTION_ID"] = Subscription,
                ["AZURE_RESOURCE_GROUP"] = "rg-psim",
                ["AZURE_FUNCTION_APP_NAME"] = "func-psim-test",
                ["AZURE_EVENTGRID_SYSTEM_TOPIC_NAME"] = "evgt-psim-test",
                ["AZURE_STORAGE_ACCOUNT_NAME"] = "stpsimtest",
                ["POSTDEPLOY_KEY_ATTEMPTS"] = "1",
            });

        public void Dispose()
        {
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // Best effort.
            }
        }
    }
}
