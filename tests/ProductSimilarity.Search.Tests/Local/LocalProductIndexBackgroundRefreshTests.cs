using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Search.Local;
using ProductSimilarity.Search.Local.Hnsw;
using static ProductSimilarity.Search.Tests.Local.LocalIndexTestData;

namespace ProductSimilarity.Search.Tests.Local;

/// <summary>
/// <see cref="LocalProductIndexOptions.RefreshInterval"/>: a server's index brings another writer's commits in off the
/// request path. Reads never reopen the reader or update the HNSW graph themselves (a refresh interval of an hour keeps the
/// background task out of the way, so what a read does is seen alone); a refresh (the background pass, or
/// <see cref="LocalProductIndex.WarmUp"/>, which is what the pass runs) warms the new commit, and then reads see it. With
/// a short interval, another writer's products appear without any call.
/// </summary>
public sealed class LocalProductIndexBackgroundRefreshTests : IDisposable
{
    private const int Dimensions = 8;
    private static readonly TimeSpan Never = TimeSpan.FromHours(1);
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Read_AnotherWritersCommit_NotReopenedOnTheRequestPath_VisibleAfterRefresh()
    {
        await WriteAsync(LocalProductIndexOptions.Default, Products(20, "a"));
        await using var server = LocalProductIndex.Open(_folder.Path, readOnly: true, new LocalProductIndexOptions { RefreshInterval = Never });
        Assert.Equal(20, await server.CountAsync());

        await WriteAsync(LocalProductIndexOptions.Default, Products(5, "b"));

        // Reads keep the commit they have: no reopen on the request thread.
        Assert.Null(await server.GetAsync("b0"));
        Assert.Equal(20, await server.CountAsync());

        server.WarmUp();
        Assert.NotNull(await server.GetAsync("b0"));
        Assert.Equal(25, await server.CountAsync());
    }

    [Fact]
    public async Task Read_WithoutRefreshInterval_SeesAnotherWritersCommitAtTheNextRead()
    {
        // The twin: the default mode still reopens at every read.
        await WriteAsync(LocalProductIndexOptions.Default, Products(20, "a"));
        await using var reader = LocalProductIndex.Open(_folder.Path, readOnly: true);
        Assert.Equal(20, await reader.CountAsync());

        await WriteAsync(LocalProductIndexOptions.Default, Products(5, "b"));

        Assert.NotNull(await reader.GetAsync("b0"));
    }

    [Fact]
    public async Task BackgroundRefresh_AnotherWritersCommits_BecomeVisibleWithoutACall()
    {
        await WriteAsync(LocalProductIndexOptions.Default, Products(10, "a"));
        await using var server = LocalProductIndex.Open(_folder.Path, readOnly: true, new LocalProductIndexOptions { RefreshInterval = TimeSpan.FromMilliseconds(10) });

        for (int round = 0; round < 3; round++)
        {
            await WriteAsync(LocalProductIndexOptions.Default, Products(3, $"r{round}-"));
            await EventuallyAsync(async () => await server.GetAsync($"r{round}-2") is not null, $"round {round}");
        }

        Assert.Equal(19, await server.CountAsync());
        Assert.Null(server.BackgroundRefreshError);
    }

    [Fact]
    public async Task Write_WithBackgroundRefresh_ReadsTheLatestCommitFirst()
    {
        // A server that deletes a product another process has just committed counts it as removed, although no refresh
        // has brought that commit in for reads yet.
        await WriteAsync(LocalProductIndexOptions.Default, Products(10, "a"));
        await using var server = LocalProductIndex.Open(_folder.Path, options: new LocalProductIndexOptions { RefreshInterval = Never });
        await WriteAsync(LocalProductIndexOptions.Default, Products(2, "b"));

        Assert.Equal(1, await server.DeleteAsync(["b1"]));
        await server.CommitAsync();

        // Its own commit is visible at once.
        Assert.Null(await server.GetAsync("b1"));
        Assert.NotNull(await server.GetAsync("b0"));
    }

    [Fact]
    public async Task Commit_ThisInstancesOwnWrites_VisibleAtOnceWithBackgroundRefresh()
    {
        await using var index = LocalProductIndex.Open(_folder.Path, options: new LocalProductIndexOptions { RefreshInterval = Never });
        await index.UpsertAsync(Products(4, "own"));
        await index.CommitAsync();

        Assert.Equal(4, await index.CountAsync());
        Assert.NotNull(await index.GetAsync("own3"));
    }

    [SkippableFact]
    public async Task GraphSearch_GraphBehindTheReader_SearchesExactlyWithoutUpdatingTheGraph_RefreshBringsItInStep()
    {
        Skip.If(HnswGraph.LibraryVersion().StartsWith("unavailable", StringComparison.Ordinal), $"USearch cannot load here: {HnswGraph.LibraryVersion()}");
        var graph = new HnswSettings { MinProducts = 100 };
        var products = Products(300, "p");
        await WriteAsync(new LocalProductIndexOptions { Hnsw = graph }, products);

        // A writer that keeps no graph (MinProducts above its size): the saved graph is now one commit behind.
        var moved = products[7] with { Vector = RandomUnit(new Random(77), Dimensions), ContentHash = "moved" };
        await WriteAsync(new LocalProductIndexOptions { Hnsw = new HnswSettings { MinProducts = int.MaxValue } }, [moved]);

        await using var server = LocalProductIndex.Open(_folder.Path, readOnly: true, new LocalProductIndexOptions { Hnsw = graph, RefreshInterval = Never });

        // The reader is at the new commit, the graph is not: queries go to the exact scan and never update the graph.
        var query = new ProductQuery { Vector = moved.Vector, Mode = RankingMode.Vector, Top = 3 };
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("p7", (await server.GetCandidatesAsync(query)).Vector[0].Id);
        }

        Assert.Null(server.VectorGraphGeneration);
        Assert.Equal((0L, 3L), server.Graph.Counts);

        // The refresh (what the background pass runs) brings the graph in step, and queries use it.
        server.WarmUp();
        Assert.NotNull(server.VectorGraphGeneration);
        Assert.Equal("p7", (await server.GetCandidatesAsync(query)).Vector[0].Id);
        Assert.Equal(1L, server.Graph.Counts.Answered);
        Assert.True(server.CheckVectorGraph() is { Saved: false } or { InStep: true });
    }

    [Fact]
    public void Open_RefreshIntervalNotPositive_Refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LocalProductIndex.Open(_folder.Path, options: new LocalProductIndexOptions { RefreshInterval = TimeSpan.Zero }));
    }

    private async Task WriteAsync(LocalProductIndexOptions options, IReadOnlyList<IndexedProduct> products)
    {
        await using var index = LocalProductIndex.Open(_folder.Path, options: options);
        await index.UpsertAsync(products);
        await index.CommitAsync();
    }

    private static List<IndexedProduct> Products(int count, string prefix)
    {
        var random = new Random(prefix.Sum(c => c));
        return [.. Enumerable.Range(0, count).Select(i => P($"{prefix}{i}", $"product {prefix} {i}", RandomUnit(random, Dimensions)))];
    }

    // Polls a condition the background task makes true; the bound only keeps a broken refresh from hanging the run.
    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        for (int i = 0; i < 600; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"{what}: not visible after 30 s of background refreshes");
    }
}
