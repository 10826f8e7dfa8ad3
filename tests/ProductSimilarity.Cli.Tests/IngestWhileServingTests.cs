using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit.Abstractions;

namespace ProductSimilarity.Cli.Tests;

/// <summary>
/// <c>psim serve</c> keeps answering while <c>psim ingest</c> writes the same index from another process: the server
/// has handled a DELETE first (it used to keep the Lucene writer, and so the lock, after one), no request fails during
/// the ingestion, new products become visible commit by commit (brought in by the server's background refresh), and all
/// of them at the end.
/// </summary>
[Collection("psim")]
public sealed class IngestWhileServingTests(ITestOutputHelper output)
{
    private const int NewProducts = 240;

    [Fact]
    public async Task Serve_IngestFromAnotherProcessAfterADelete_EveryRequestSucceedsAndNewProductsAppear()
    {
        using var dir = new TempDir();
        var index = dir.File("index");
        var env = new Dictionary<string, string>
        {
            ["ProductSimilarity__Ingestion__BatchSize"] = "8",
            ["ProductSimilarity__Ingestion__CommitEvery"] = "1",
        };
        var first = dir.File("first.csv");
        await File.WriteAllTextAsync(first, Catalog("A", 40));
        var seeded = await PsimRunner.RunProcessAsync(dir.Path, env, "ingest", first, "--index", index);
        Assert.True(seeded.Exit == 0, seeded.Err);

        var port = FreePort();
        var baseUrl = $"http://127.0.0.1:{port}";
        using var server = PsimRunner.Start(dir.Path, env, "serve", "--index", index, "--urls", baseUrl);
        var serverErr = server.StandardError.ReadToEndAsync();
        _ = server.StandardOutput.ReadToEndAsync(); // drained, or a full pipe would block the server's console log
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            await WaitHealthyAsync(http, server, serverErr);

            var deleted = await http.DeleteAsync("/api/products/A0039");
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

            var second = dir.File("second.csv");
            await File.WriteAllTextAsync(second, Catalog("N", NewProducts));
            using var ingest = PsimRunner.Start(dir.Path, env, "ingest", second, "--index", index);
            var ingestOut = ingest.StandardOutput.ReadToEndAsync();
            var ingestErr = ingest.StandardError.ReadToEndAsync();

            long requests = 0;
            var failures = new List<string>();
            var sawPartial = false;
            string[] paths = ["/api/products/A0001/similar?top=5", "/api/search?q=kettle&top=5", "/api/products/A0002"];
            while (!ingest.HasExited)
            {
                foreach (var path in paths)
                {
                    var response = await http.GetAsync(path);
                    requests++;
                    if (!response.IsSuccessStatusCode)
                    {
                        failures.Add($"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    }
                }

                var firstNew = await http.GetAsync("/api/products/N0000");
                var lastNew = await http.GetAsync($"/api/products/N{NewProducts - 1:0000}");
                requests += 2;
                sawPartial |= firstNew.StatusCode == HttpStatusCode.OK && lastNew.StatusCode == HttpStatusCode.NotFound;
            }

            await ingest.WaitForExitAsync();
            Assert.True(ingest.ExitCode == 0, "ingest beside serve failed: " + await ingestErr);
            Assert.Empty(failures);
            Assert.True(sawPartial, "new products should become visible commit by commit, before the run ends");

            // The server brings another process's commit in with its background refresh (every 100 ms by default), so the
            // last commit shows up one refresh after the ingestion ends; the bound only keeps a broken refresh from hanging.
            var lastId = $"/api/products/N{NewProducts - 1:0000}";
            for (var wait = 0; wait < 300 && (await http.GetAsync(lastId)).StatusCode != HttpStatusCode.OK; wait++)
            {
                await Task.Delay(100);
            }

            for (var i = 0; i < NewProducts; i += 37)
            {
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/api/products/N{i:0000}")).StatusCode);
            }

            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/products/A0039")).StatusCode);

            // And the server can still write after the ingestion released the lock.
            Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync("/api/products/N0001")).StatusCode);
            output.WriteLine($"{requests} requests during the ingestion, {failures.Count} failed; {await ingestOut}");
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }
    }

    private static async Task WaitHealthyAsync(HttpClient http, System.Diagnostics.Process server, Task<string> serverErr)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (DateTime.UtcNow < deadline)
        {
            if (server.HasExited)
            {
                Assert.Fail("psim serve exited: " + await serverErr);
            }

            try
            {
                if ((await http.GetAsync("/api/health")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        Assert.Fail("psim serve did not become healthy within a minute");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Catalog(string prefix, int count)
    {
        string[] kinds = ["kettle", "toaster", "blender", "lamp", "mug"];
        var sb = new StringBuilder("id,title,brand,price\n");
        for (var i = 0; i < count; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{prefix}{i:0000},{kinds[i % 5]} {prefix} model {i},Brand{i % 7},{9 + (i % 30)}.99\n");
        }

        return sb.ToString();
    }
}
