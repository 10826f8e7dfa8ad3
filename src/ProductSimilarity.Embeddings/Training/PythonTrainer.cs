using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace ProductSimilarity.Embeddings.Training;

/// <summary>PyTorch is not available to run the trainer; the message says exactly how to install it.</summary>
public sealed class TrainerUnavailableException(string message) : InvalidOperationException(message);

/// <summary>
/// Runs the bundled PyTorch trainer (<c>training/psim_train.py</c>, embedded in this assembly) in a child process and
/// relays the JSON lines it prints.
/// </summary>
/// <remarks>Thread-safe: each call starts its own process.</remarks>
public sealed class PythonTrainer
{
    /// <summary>The interpreter tried when none is configured: Debian's, which is where <c>python3-torch</c> installs.</summary>
    public const string DefaultPython = "/usr/bin/python3";

    /// <summary>How to install what the trainer needs; part of every "PyTorch missing" message.</summary>
    public const string InstallHint =
        "Install PyTorch (1.13 or later) for that interpreter: on Debian or Ubuntu 'sudo apt-get update && sudo apt-get install -y python3-torch libopenblas0-pthread' " +
        "(about 2 minutes; the OpenBLAS package makes it several times faster), elsewhere 'pip install torch'; " +
        "or point --python (ProductSimilarity:Training:Python) at an interpreter that has it.";

    private const string ScriptResource = "ProductSimilarity.Embeddings.Training.psim_train.py";

    /// <summary>Creates a runner for <paramref name="python"/> (null: <see cref="DefaultPython"/> when it exists, else <c>python3</c> on PATH).</summary>
    public PythonTrainer(string? python = null)
    {
        Python = !string.IsNullOrWhiteSpace(python) ? python : File.Exists(DefaultPython) ? DefaultPython : "python3";
    }

    /// <summary>The interpreter this runner starts.</summary>
    public string Python { get; }

    /// <summary>Writes the trainer script into <paramref name="directory"/> and returns its path.</summary>
    public static string WriteScript(string directory)
    {
        var path = Path.Combine(directory, "psim_train.py");
        using var source = typeof(PythonTrainer).Assembly.GetManifestResourceStream(ScriptResource)
            ?? throw new InvalidOperationException($"The trainer script resource '{ScriptResource}' is missing from {typeof(PythonTrainer).Assembly.GetName().Name}.");
        using var target = File.Create(path);
        source.CopyTo(target);
        return path;
    }

    /// <summary>Checks that the interpreter starts and imports torch; returns the torch version.</summary>
    /// <exception cref="TrainerUnavailableException">It does not; the message says how to install PyTorch.</exception>
    public async Task<string> CheckAsync(CancellationToken cancellationToken = default)
    {
        var (code, stdout, stderr) = await RunRawAsync(["-c", "import torch; print(torch.__version__)"], null, cancellationToken).ConfigureAwait(false);
        if (code != 0)
        {
            var reason = stderr.Contains("No module named 'torch'", StringComparison.Ordinal) ? "has no PyTorch" : "failed: " + LastLine(stderr);
            throw new TrainerUnavailableException($"psim train needs PyTorch, and '{Python}' {reason}. {InstallHint}");
        }

        return stdout.Trim();
    }

    /// <summary>Runs the trainer with <paramref name="arguments"/> and hands every JSON event it prints to <paramref name="onEvent"/>.</summary>
    /// <exception cref="InvalidOperationException">The trainer failed; the message carries its last error line.</exception>
    public async Task RunAsync(string script, IReadOnlyList<string> arguments, Action<JsonElement> onEvent, CancellationToken cancellationToken = default)
    {
        string? error = null;
        var (code, _, stderr) = await RunRawAsync(["-u", script, .. arguments], line =>
        {
            if (!line.StartsWith('{'))
            {
                return;
            }

            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement.Clone();
            if (root.TryGetProperty("event", out var kind) && kind.GetString() == "error")
            {
                error = root.GetProperty("message").GetString();
            }

            onEvent(root);
        }, cancellationToken).ConfigureAwait(false);
        if (code != 0)
        {
            throw new InvalidOperationException($"The trainer ({Python} {Path.GetFileName(script)} {arguments[0]}) failed with exit code {code}: {error ?? LastLine(stderr)}");
        }
    }

    private async Task<(int Code, string Stdout, string Stderr)> RunRawAsync(IEnumerable<string> arguments, Action<string>? onLine, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new TrainerUnavailableException($"psim train could not start '{Python}'. {InstallHint}");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new TrainerUnavailableException($"psim train needs Python 3 with PyTorch, and '{Python}' could not be started ({ex.Message}). {InstallHint}");
        }

        using (process)
        {
            var stderrTask = process.StandardError.ReadToEndAsync(cancellationToken);
            var stdout = new System.Text.StringBuilder();
            try
            {
                while (await process.StandardOutput.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
                {
                    stdout.AppendLine(line);
                    onLine?.Invoke(line);
                }

                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            return (process.ExitCode, stdout.ToString(), await stderrTask.ConfigureAwait(false));
        }
    }

    private static string LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "(no output)";
}
