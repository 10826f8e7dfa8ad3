using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Search.Local;
using ProductSimilarity.Search.Local.Hnsw;
using static ProductSimilarity.Search.Tests.Local.LocalIndexTestData;

namespace ProductSimilarity.Search.Tests.Local;

/// <summary>
/// The HNSW graph inside <see cref="LocalProductIndex"/>: it answers like exact search, persists with the commit it
/// reflects, is reconciled or rebuilt from the stored vectors when it is behind or unreadable, tombstones deletes and
/// compacts, and leaves selective filters to the exact scan. Vectors are 8-dimensional and random, where HNSW with the
/// default parameters finds the true neighbours almost always; the recall bars leave room for the graph's randomness.
/// </summary>
public sealed class LocalProductIndexHnswTests : IDisposable
{
    private const int Dimensions = 8;
    private static readonly LocalProductIndexOptions Graph = new() { Hnsw = new HnswSettings { MinProducts = 100 } };
    private static readonly LocalProductIndexOptions Exact = new() { Hnsw = new HnswSettings { MinProducts = int.MaxValue } };
    private readonly TempFolder _folder = new();

    public LocalProductIndexHnswTests()
    {
        // test.sh installs libgomp1 (USearch's OpenMP runtime) where apt-get can; without it the product searches exactly.
        Skip.If(HnswGraph.LibraryVersion().StartsWith("unavailable", StringComparison.Ordinal), $"USearch cannot load here: {HnswGraph.LibraryVersion()}");
    }

    public void Dispose() => _folder.Dispose();

    [SkippableFact]
    public void NativeLibrary_Loads()
    {
        Assert.Matches(@"^\d+\.\d+\.\d+", HnswGraph.LibraryVersion());
    }

    [SkippableFact]
    public async Task Search_AboveMinProducts_UsesGraphWithExactScores()
    {
        var products = Catalog(2000, seed: 1);
        await WriteAsync(Graph, products);

        await using var index = LocalProductIndex.Open(_folder.Path, readOnly: true, Graph);
        await using var exact = LocalProductIndex.Open(_folder.Path, readOnly: true, Exact);
        double recall = await RecallAsync(index, exact, new Random(7), queries: 50);

        Assert.True(recall >= 0.95, $"recall@10 {recall}");
        Assert.True(index.Graph.Counts.Answered >= 50);
        Assert.Equal(0, exact.Graph.Counts.Answered);

        // Scores come from the stored vectors, so a product found both ways has the same score both ways.
        var query = RandomUnit(new Random(3), Dimensions);
        var fromGraph = (await index.GetCandidatesAsync(VectorQuery(query, 10))).Vector;
        var fromScan = (await exact.GetCandidatesAsync(VectorQuery(query, 10))).Vector.ToDictionary(c => c.Id, c => c.Score);
        Assert.Contains(fromGraph, c => fromScan.ContainsKey(c.Id));
        foreach (var c in fromGraph.Where(c => fromScan.ContainsKey(c.Id)))
        {
            Assert.Equal(fromScan[c.Id], c.Score);
        }
    }

    [SkippableFact]
    public async Task Search_BelowMinProducts_StaysExact()
    {
        await WriteAsync(Graph, Catalog(50, seed: 2));
        await using var index = LocalProductIndex.Open(_folder.Path, readOnly: true, Graph);

        await index.GetCandidatesAsync(VectorQuery(RandomUnit(new Random(1), Dimensions), 5));

        Assert.Equal((0L, 0L), index.Graph.Counts);
        Assert.Null(index.VectorGraphGeneration);
        Assert.False(Directory.Exists(Path.Combine(_folder.Path, "hnsw")));
    }

    [SkippableFact]
    public async Task Commit_SavesGraphForThatCommit_NextProcessLoadsItWithoutRebuild()
    {
        await WriteAsync(Graph, Catalog(1500, seed: 3));
        var saved = Directory.GetFiles(Path.Combine(_folder.Path, "hnsw"));
        Assert.Equal(2, saved.Length);
        var written = saved.ToDictionary(f => f, File.GetLastWriteTimeUtc);

        await using (var index = LocalProductIndex.Open(_folder.Path, options: Graph))
        {
            var check = index.CheckVectorGraph();
            Assert.True(check.InStep, check.ToString());
            Assert.Equal(1500, check.GraphProducts);
            await index.GetCandidatesAsync(VectorQuery(RandomUnit(new Random(1), Dimensions), 10));
            Assert.Equal(check.Generation, index.VectorGraphGeneration);
            Assert.Equal(1, index.Graph.Counts.Answered);
        }

        // Loaded as saved: nothing changed, so nothing was rewritten.
        Assert.Equal(written, Directory.GetFiles(Path.Combine(_folder.Path, "hnsw")).ToDictionary(f => f, File.GetLastWriteTimeUtc));
    }

    [SkippableFact]
    public async Task Search_GraphBehindCommit_ReconciledWithStoredVectors()
    {
        var products = Catalog(1500, seed: 4);
        await WriteAsync(Graph, products);

        // A writer that keeps no graph (as if it crashed after its commit, before saving one): deletes, re-embeds, adds.
        var reembedded = products[10] with { Vector = RandomUnit(new Random(99), Dimensions) };
        var added = Catalog(20, seed: 5, prefix: "n");
        await using (var writer = LocalProductIndex.Open(_folder.Path, options: Exact))
        {
            await writer.DeleteAsync([products[0].Product.Id, products[1].Product.Id]);
            await writer.UpsertAsync([reembedded, .. added]);
            await writer.CommitAsync();
        }

        // The check's twin: the old graph passed off as the new commit's is caught, product by product.
        var folder = Path.Combine(_folder.Path, "hnsw");
        var oldFiles = Directory.GetFiles(folder);
        await using (var probe = LocalProductIndex.Open(_folder.Path, readOnly: true, Graph))
        {
            long generation = probe.CheckVectorGraph().Generation;
            foreach (var f in oldFiles)
            {
                File.Copy(f, Path.Combine(folder, $"graph-{generation}{Path.GetExtension(f)}"));
            }

            var misfiled = probe.CheckVectorGraph();
            Assert.False(misfiled.InStep);
            Assert.Equal((20, 1, 2), (misfiled.Missing, misfiled.Stale, misfiled.Extra));
            foreach (var f in Directory.GetFiles(folder).Except(oldFiles))
            {
                File.Delete(f);
            }
        }

        await using (var index = LocalProductIndex.Open(_folder.Path, options: Graph))
        {
            Assert.False(index.CheckVectorGraph().Saved);

            // Each product's own vector finds it first; the deleted ones are never returned.
            foreach (var p in added.Append(reembedded))
            {
                var hits = (await index.GetCandidatesAsync(VectorQuery(p.Vector.ToArray(), 3))).Vector;
                Assert.Equal(p.Product.Id, hits[0].Id);
                Assert.Equal(1f, hits[0].Score, 4);
            }

            var old = (await index.GetCandidatesAsync(VectorQuery(products[0].Vector.ToArray(), 20))).Vector;
            Assert.DoesNotContain(old, c => c.Id == products[0].Product.Id || c.Id == products[1].Product.Id);
            Assert.True(index.Graph.Counts.Answered > 0);
            Assert.Equal(0, index.Graph.Counts.Declined);
            Assert.Equal(1500 - 2 + 20, index.Graph.Shape!.Value.Nodes);
        }

        await using (var reopened = LocalProductIndex.Open(_folder.Path, readOnly: true, Graph))
        {
            var check = reopened.CheckVectorGraph();
            Assert.True(check.InStep, check.ToString());
            Assert.Equal(1518, check.LiveProducts);
        }
    }

    [SkippableFact]
    public async Task Search_SavedGraphUnreadable_RebuiltFromStoredVectors()
    {
        var products = Catalog(1200, seed: 6);
        await WriteAsync(Graph, products);
        var graphFile = Directory.GetFiles(Path.Combine(_folder.Path, "hnsw"), "*.usearch").Single();
        await using (var stream = File.OpenWrite(graphFile))
        {
            stream.SetLength(stream.Length / 2);
        }

        var options = Graph with { Hnsw = Graph.Hnsw with { InlineSyncLimit = 100 } };
        await using (var index = LocalProductIndex.Open(_folder.Path, options: options))
        await using (var exact = LocalProductIndex.Open(_folder.Path, readOnly: true, Exact))
        {
            Assert.False(index.CheckVectorGraph().InStep);

            // The first query finds more to do than a query should (InlineSyncLimit): it is answered exactly while the
            // graph is rebuilt in the background, and later queries use the rebuilt graph.
            await index.GetCandidatesAsync(VectorQuery(products[5].Vector.ToArray(), 10));
            await WaitForGraphAsync(index);
            double recall = await RecallAsync(index, exact, new Random(8), queries: 30);
            Assert.True(recall >= 0.95, $"recall@10 {recall}");
        }

        await using var reopened = LocalProductIndex.Open(_folder.Path, readOnly: true, Graph);
        var check = reopened.CheckVectorGraph();
        Assert.True(check.InStep, check.ToString());
    }

    [SkippableTheory]
    [InlineData(HnswScalar.F32)]
    [InlineData(HnswScalar.F16)]
    public async Task Search_EachScalarKind_FindsTheExactNeighboursWithExactScores(HnswScalar scalar)
    {
        var options = Graph with { Hnsw = Graph.Hnsw with { Scalar = scalar } };
        await WriteAsync(options, Catalog(2000, seed: 11));

        await using var index = LocalProductIndex.Open(_folder.Path, readOnly: true, options);
        await using var exact = LocalProductIndex.Open(_folder.Path, readOnly: true, Exact);
        Assert.True(index.CheckVectorGraph().InStep);
        double recall = await RecallAsync(index, exact, new Random(12), queries: 50);

        Assert.True(recall >= 0.95, $"recall@10 {recall}");
        Assert.True(index.Graph.Counts.Answered >= 50);
        var query = VectorQuery(RandomUnit(new Random(13), Dimensions), 10);
        var fromScan = (await exact.GetCandidatesAsync(query)).Vector.ToDictionary(c => c.Id, c => c.Score);
        foreach (var c in (await index.GetCandidatesAsync(query)).Vector.Where(c => fromScan.ContainsKey(c.Id)))
        {
            Assert.Equal(fromScan[c.Id], c.Score);
        }
    }

    [SkippableFact]
    public async Task Open_GraphSavedWithAnotherScalarKind_RebuiltFromStoredVectorsNeverMisread()
    {
        var f32 = Graph with { Hnsw = Graph.Hnsw with { Scalar = HnswScalar.F32 } };
        var f16 = Graph with { Hnsw = Graph.Hnsw with { Scalar = HnswScalar.F16 } };
        var products = Catalog(1200, seed: 14);
        await WriteAsync(f32, products);

        await using (var index = LocalProductIndex.Open(_folder.Path, options: f16))
        await using (var exact = LocalProductIndex.Open(_folder.Path, readOnly: true, Exact))
        {
            // The float32 graph is not loaded as a float16 one: the saved graph counts as unreadable for these settings.
            var check = index.CheckVectorGraph();
            Assert.True(check.Saved);
            Assert.Equal(0, check.GraphProducts);
            Assert.Contains("other settings", index.DescribeVectorGraph()!.Status, StringComparison.Ordinal);

            double recall = await RecallAsync(index, exact, new Random(15), queries: 30);
            Assert.True(recall >= 0.95, $"recall@10 {recall}");
            Assert.True(index.Graph.Counts.Answered >= 30);
        }

        // Saved again as float16, which the float16 settings read as it is and the float32 ones do not.
        await using (var reopened = LocalProductIndex.Open(_folder.Path, readOnly: true, f16))
        {
            Assert.True(reopened.CheckVectorGraph().InStep);
        }

        await using var old = LocalProductIndex.Open(_folder.Path, readOnly: true, f32);
        Assert.Equal(0, old.CheckVectorGraph().GraphProducts);
    }

    [SkippableFact]
    public async Task Open_GraphOfTheFirstFileFormat_RebuiltFromStoredVectorsNeverMisread()
    {
        var products = Catalog(1200, seed: 16);
        await WriteAsync(Graph, products);
        var keys = Directory.GetFiles(Path.Combine(_folder.Path, "hnsw"), "*.keys").Single();

        // Format 1 had no scalar kind in its header (its vectors were float32): mark the file as such.
        var bytes = File.ReadAllBytes(keys);
        int versionAt = 1 + "PSIMHNSW".Length;
        Assert.Equal(2, BitConverter.ToInt32(bytes, versionAt));
        BitConverter.GetBytes(1).CopyTo(bytes, versionAt);
        File.WriteAllBytes(keys, bytes);

        await using (var index = LocalProductIndex.Open(_folder.Path, options: Graph))
        await using (var exact = LocalProductIndex.Open(_folder.Path, readOnly: true, Exact))
        {
            Assert.Equal(0, index.CheckVectorGraph().GraphProducts);
            double recall = await RecallAsync(index, exact, new Random(17), queries: 30);
            Assert.True(recall >= 0.95, $"recall@10 {recall}");
        }

        await using var reopened = LocalProductIndex.Open(_folder.Path, readOnly: true, Graph);
        Assert.True(reopened.CheckVectorGraph().InStep);
    }

    [SkippableFact]
    public async Task Delete_Tombstones_ThenCompactsPastTheRatio()
    {
        var products = Catalog(1000, seed: 9);
        await using var index = LocalProductIndex.Open(_folder.Path, options: Graph);
        await index.UpsertAsync(products);
        await index.CommitAsync();
        Assert.Equal((1000, 0L), index.Graph.Shape);

        // A few deletes: tombstoned, never returned.
        var few = products.Take(50).Select(p => p.Product.Id).ToList();
        await index.DeleteAsync(few);
        await index.CommitAsync();
        Assert.Equal((950, 50L), index.Graph.Shape);
        foreach (var p in products.Take(10))
        {
            var hits = (await index.GetCandidatesAsync(VectorQuery(p.Vector.ToArray(), 10))).Vector;
            Assert.DoesNotContain(hits, c => few.Contains(c.Id));
        }

        // Past 20% tombstones the graph is rebuilt from the live vectors.
        await index.DeleteAsync(products.Skip(50).Take(250).Select(p => p.Product.Id).ToList());
        await index.CommitAsync();
        Assert.Equal((700, 0L), index.Graph.Shape);
        var survivor = products[500];
        var found = (await index.GetCandidatesAsync(VectorQuery(survivor.Vector.ToArray(), 5))).Vector;
        Assert.Equal(survivor.Product.Id, found[0].Id);
        Assert.True(index.CheckVectorGraph() is { Saved: false } or { InStep: true });
    }

    [SkippableFact]
    public async Task Commit_WriterThatOnlyWrites_FollowsItsOwnChangesWithoutLoadingStoredVectors()
    {
        var products = Catalog(1500, seed: 20);
        await using (var writer = LocalProductIndex.Open(_folder.Path, options: Graph))
        {
            await writer.EnsureCreatedAsync(Dimensions);
            for (int i = 0; i < products.Count; i += 300)
            {
                await writer.UpsertAsync(products.Skip(i).Take(300).ToList());
                await writer.CommitAsync();
            }

            // Deletes, a re-embedded product and an unchanged one written again, in one more commit.
            await writer.DeleteAsync([products[0].Product.Id, products[1].Product.Id]);
            await writer.UpsertAsync([products[2] with { Vector = RandomUnit(new Random(21), Dimensions) }, products[3]]);
            await writer.CommitAsync();

            // The first commit past MinProducts builds the graph from the stored vectors; every later one follows the
            // writer's own changes. No segment's vectors stay loaded, and the graph holds exactly the live products.
            Assert.Equal((5L, 1L), writer.Graph.CommitSyncs);
            Assert.Equal(0, writer.VectorMemoryBytes().Matrices);
            Assert.Equal(1498, writer.Graph.Shape!.Value.Nodes);
            Assert.Equal(writer.CheckVectorGraph().Generation, writer.VectorGraphGeneration);
        }

        // Saved at close, in step with the last commit; a reader finds through it what exact search finds.
        await using var index = LocalProductIndex.Open(_folder.Path, readOnly: true, Graph);
        await using var exact = LocalProductIndex.Open(_folder.Path, readOnly: true, Exact);
        var check = index.CheckVectorGraph();
        Assert.True(check.InStep, check.ToString());
        Assert.True(await RecallAsync(index, exact, new Random(22), queries: 30) >= 0.95);
        var moved = (await index.GetCandidatesAsync(VectorQuery(RandomUnit(new Random(21), Dimensions), 1))).Vector;
        Assert.Equal(products[2].Product.Id, moved[0].Id);
    }

    [SkippableFact]
    public async Task DescribeVectorGraph_SavedGraphOfAnOlderCommit_SaysBehindNotInUse()
    {
        await WriteAsync(Graph, Catalog(500, seed: 27));
        await using (var probe = LocalProductIndex.Open(_folder.Path, readOnly: true, Graph))
        {
            var inStep = probe.DescribeVectorGraph()!;
            Assert.True(inStep.InUse, inStep.Status);
            Assert.Equal((500L, 0L), (inStep.Nodes, inStep.Tombstones));
            Assert.True(inStep.DiskBytes > 0 && inStep.MemoryBytes > 0);
        }

        // A writer that keeps no graph commits on top: the saved graph is now one commit behind.
        await using (var writer = LocalProductIndex.Open(_folder.Path, options: Exact))
        {
            await writer.UpsertAsync(Catalog(5, seed: 28, prefix: "n"));
            await writer.CommitAsync();
        }

        await using var index = LocalProductIndex.Open(_folder.Path, readOnly: true, Graph);
        var behind = index.DescribeVectorGraph()!;
        Assert.False(behind.InUse);
        Assert.StartsWith("behind", behind.Status, StringComparison.Ordinal);
        Assert.True(behind.GraphGeneration < behind.CommitGeneration);
        Assert.Equal(505, behind.Products);
    }

    [SkippableFact]
    public async Task Commit_WriterThatOnlyWritesManySmallCommits_FollowsItsChangesThroughMerges()
    {
        // 30 commits make 30 small segments, which Lucene merges as it goes; closing a writer commits its merges.
        var products = Catalog(1500, seed: 29);
        await using (var writer = LocalProductIndex.Open(_folder.Path, options: Graph))
        {
            await writer.EnsureCreatedAsync(Dimensions);
            for (int i = 0; i < products.Count; i += 50)
            {
                await writer.UpsertAsync(products.Skip(i).Take(50).ToList());
                await writer.CommitAsync();
            }

            Assert.Equal(1, writer.Graph.CommitSyncs.FromStoredVectors);
            Assert.Equal(1500, writer.Graph.Shape!.Value.Nodes);
        }

        await using var index = LocalProductIndex.Open(_folder.Path, readOnly: true, Graph);
        var check = index.CheckVectorGraph();
        Assert.True(check.InStep, check.ToString());
    }

    [SkippableFact]
    public async Task Commit_AnotherWriterCommittedBetween_GraphComparedWithStoredVectors()
    {
        var products = Catalog(1000, seed: 23);
        await using var writer = LocalProductIndex.Open(_folder.Path, options: Graph);
        await writer.EnsureCreatedAsync(Dimensions);
        await writer.UpsertAsync(products);
        await writer.CommitAsync();

        // Between this writer's commits another writer (write.lock is free between commits) adds products.
        var others = Catalog(30, seed: 24, prefix: "o");
        await using (var other = LocalProductIndex.Open(_folder.Path, options: Exact))
        {
            await other.UpsertAsync(others);
            await other.CommitAsync();
        }

        // The changes of this writer alone would miss the other's products: the graph is compared with the stored vectors.
        await writer.UpsertAsync(Catalog(10, seed: 25, prefix: "n"));
        await writer.CommitAsync();

        Assert.Equal((0L, 2L), writer.Graph.CommitSyncs);
        Assert.Equal(1040, writer.Graph.Shape!.Value.Nodes);
        var found = (await writer.GetCandidatesAsync(VectorQuery(others[7].Vector.ToArray(), 1))).Vector;
        Assert.Equal(others[7].Product.Id, found[0].Id);
    }

    [SkippableFact]
    public async Task Commit_WriterThatOnlyWritesDeletesPastTheRatio_Compacts()
    {
        var products = Catalog(1000, seed: 26);
        await using var writer = LocalProductIndex.Open(_folder.Path, options: Graph);
        await writer.EnsureCreatedAsync(Dimensions);
        await writer.UpsertAsync(products);
        await writer.CommitAsync();
        await writer.DeleteAsync(products.Take(50).Select(p => p.Product.Id).ToList());
        await writer.CommitAsync();
        Assert.Equal((950, 50L), writer.Graph.Shape);

        await writer.DeleteAsync(products.Skip(50).Take(250).Select(p => p.Product.Id).ToList());
        await writer.CommitAsync();

        Assert.Equal((700, 0L), writer.Graph.Shape);
        Assert.Equal((1L, 2L), writer.Graph.CommitSyncs);
    }

    [SkippableFact]
    public async Task Search_BroadFilter_OversamplesTheGraph()
    {
        // One product in four is in category "Even".
        var products = Catalog(2000, seed: 10, category: i => i % 4 == 0 ? "Even" : "Odd");
        await WriteAsync(Graph, products);
        await using var index = LocalProductIndex.Open(_folder.Path, readOnly: true, Graph);
        await using var exact = LocalProductIndex.Open(_folder.Path, readOnly: true, Exact);
        var random = new Random(11);
        int agree = 0, total = 0;
        for (int q = 0; q < 20; q++)
        {
            var query = VectorQuery(RandomUnit(random, Dimensions), 10) with { Filter = new ProductFilter { Category = "even" } };
            var fromGraph = (await index.GetCandidatesAsync(query)).Vector;
            var fromScan = (await exact.GetCandidatesAsync(query)).Vector.Select(c => c.Id).ToHashSet();
            Assert.Equal(10, fromGraph.Count);
            Assert.All(fromGraph, c => Assert.Equal("Even", products.Single(p => p.Id == c.Id).Product.Category));
            agree += fromGraph.Count(c => fromScan.Contains(c.Id));
            total += 10;
        }

        Assert.Equal(20, index.Graph.Counts.Answered);
        Assert.True(agree >= 0.95 * total, $"{agree}/{total}");
    }

    [SkippableFact]
    public async Task Search_SelectiveFilter_FallsBackToExact()
    {
        // Five products of 2000 (0.25%, under MinFilterFraction) are "Rare".
        var products = Catalog(2000, seed: 12, category: i => i % 400 == 0 ? "Rare" : "Common");
        await WriteAsync(Graph, products);
        await using var index = LocalProductIndex.Open(_folder.Path, readOnly: true, Graph);

        var query = VectorQuery(RandomUnit(new Random(13), Dimensions), 10) with { Filter = new ProductFilter { Category = "Rare" } };
        var hits = (await index.GetCandidatesAsync(query)).Vector;

        Assert.Equal(5, hits.Count);
        Assert.All(hits, c => Assert.Equal("Rare", products.Single(p => p.Id == c.Id).Product.Category));
        Assert.Equal((0L, 1L), index.Graph.Counts);
    }

    [SkippableFact]
    public async Task Search_ExcludedIds_StillFillsTop()
    {
        var products = Catalog(1000, seed: 14);
        await WriteAsync(Graph, products);
        await using var index = LocalProductIndex.Open(_folder.Path, readOnly: true, Graph);
        var self = products[3];

        var query = VectorQuery(self.Vector.ToArray(), 10) with { ExcludeIds = new HashSet<string> { self.Product.Id } };
        var hits = (await index.GetCandidatesAsync(query)).Vector;

        Assert.Equal(10, hits.Count);
        Assert.DoesNotContain(hits, c => c.Id == self.Product.Id);
        Assert.Equal(1, index.Graph.Counts.Answered);
    }

    private static ProductQuery VectorQuery(float[] vector, int top) => new() { Vector = vector, Mode = RankingMode.Vector, Top = top };

    private static List<IndexedProduct> Catalog(int count, int seed, string prefix = "p", Func<int, string>? category = null)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i => P($"{prefix}{i:D5}", $"item {i}", RandomUnit(random, Dimensions), category: category?.Invoke(i)))];
    }

    private async Task WriteAsync(LocalProductIndexOptions options, IReadOnlyList<IndexedProduct> products)
    {
        await using var index = LocalProductIndex.Open(_folder.Path, options: options);
        await index.EnsureCreatedAsync(Dimensions);
        for (int i = 0; i < products.Count; i += 500)
        {
            await index.UpsertAsync(products.Skip(i).Take(500).ToList());
            await index.CommitAsync();
        }
    }

    private static async Task<double> RecallAsync(LocalProductIndex index, LocalProductIndex exact, Random random, int queries)
    {
        int found = 0;
        for (int q = 0; q < queries; q++)
        {
            var query = VectorQuery(RandomUnit(random, Dimensions), 10);
            var truth = (await exact.GetCandidatesAsync(query)).Vector.Select(c => c.Id).ToHashSet();
            found += (await index.GetCandidatesAsync(query)).Vector.Count(c => truth.Contains(c.Id));
        }

        return found / (10.0 * queries);
    }

    private static async Task WaitForGraphAsync(LocalProductIndex index)
    {
        for (int i = 0; i < 600; i++)
        {
            long before = index.Graph.Counts.Answered;
            await index.GetCandidatesAsync(VectorQuery(RandomUnit(new Random(i), Dimensions), 1));
            if (index.Graph.Counts.Answered > before)
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail("the graph was not rebuilt within a minute");
    }
}
