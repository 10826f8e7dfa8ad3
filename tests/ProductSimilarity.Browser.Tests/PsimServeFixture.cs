using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;

namespace ProductSimilarity.Browser.Tests;

/// <summary>
/// A real <c>psim serve</c> process on 127.0.0.1 over a temporary index of the bundled sample catalog
/// (<c>samples/catalog.csv</c>), ingested with <c>psim ingest</c> first. Shared by the tests of one collection.
/// </summary>
public sealed class PsimServeFixture : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("psim-browser-").FullName;
    private readonly StringBuilder _log = new();
    private Process? _server;

    /// <summary>Where the server listens, for example <c>http://127.0.0.1:41234</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The repository root (for samples/ and docs/).</summary>
    public static string RepositoryRoot { get; } = typeof(PsimServeFixture).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;

    /// <summary>What the server wrote so far (for failure messages).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public async Task InitializeAsync()
    {
        var index = Path.Combine(_folder, "index");
        var catalog = Path.Combine(RepositoryRoot, "samples", "catalog.csv");
        using (var ingest = Start("ingest", catalog, "--index", index))
        {
            var stderr = ingest.StandardError.ReadToEndAsync();
            var stdout = ingest.StandardOutput.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            await ingest.WaitForExitAsync(timeout.Token);
            if (ingest.ExitCode != 0)
            {
                throw new InvalidOperationException($"psim ingest failed ({ingest.ExitCode}): {await stderr}{await stdout}");
            }
        }

        BaseAddress = new Uri($"http://127.0.0.1:{FreePort()}");
        _server = Start("serve", "--index", index, "--urls", BaseAddress.ToString().TrimEnd('/'));
        _server.OutputDataReceived += (_, e) => Append(e.Data);
        _server.ErrorDataReceived += (_, e) => Append(e.Data);
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();

        using var client = new HttpClient { BaseAddress = BaseAddress };
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            if (_server.HasExited)
            {
                throw new InvalidOperationException($"psim serve exited with {_server.ExitCode}: {Log}");
            }

            try
            {
                using var response = await client.GetAsync(new Uri("/api/health", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"psim serve did not become healthy in 2 minutes: {Log}");
            }

            await Task.Delay(250);
        }
    }

    public async Task DisposeAsync()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill(entireProcessTree: true);
            await _server.WaitForExitAsync();
        }

        _server?.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // a file still held by the dying server; the temp folder is cleaned by the system
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }

    private static Process Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "psim.dll"));
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["CI"] = "true"; // plain progress lines
        return Process.Start(info) ?? throw new InvalidOperationException("could not start psim");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(Name)]
public sealed class PsimServeCollection : ICollectionFixture<PsimServeFixture>
{
    public const string Name = "psim serve";
}
