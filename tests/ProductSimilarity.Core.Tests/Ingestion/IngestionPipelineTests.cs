using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Ingestion;
using ProductSimilarity.Core.Tests.Fakes;

namespace ProductSimilarity.Core.Tests.Ingestion;

public sealed class IngestionPipelineTests
{
    private const string Catalog = """
        id,title,brand,price,category,group_id
        A1,Wireless Earbuds Pro,Sonic,59.90,Audio,
        A2,<b>Chef's Knife</b> 20cm,Blade,35.00,Kitchen,
        A3,Rice Cooker 5L,Cookwell,89.00,Kitchen,
        ,Missing Id,Nobody,1.00,Misc,
        A4,Bad Price,Nobody,twelve,Misc,
        A5,Running Shoe 42,Swift,120.00,Shoes,G1
        """;

    [Fact]
    public async Task IngestAsync_NewCatalog_EmbedsGoodRowsAndReportsRejected()
    {
        var (pipeline, index, generator) = Create();
        var errors = new ListRowErrorSink();

        var summary = await pipeline.IngestAsync(Stream(Catalog), "shop.csv", errors);

        Assert.Equal(6, summary.RowsRead);
        Assert.Equal(4, summary.Embedded);
        Assert.Equal(2, summary.Rejected);
        Assert.Equal(0, summary.Unchanged);
        Assert.Equal(4, generator.TextsEmbedded);
        Assert.Equal(["A1", "A2", "A3", "A5"], index.Committed.Select(p => p.Id).Order());
        Assert.Equal("Chef's Knife 20cm", index.Committed.Single(p => p.Id == "A2").Product.Title);
        Assert.Equal(["id", "price"], errors.Errors.Select(e => e.Field!).Order());
        Assert.All(errors.Errors, e => Assert.Equal("shop.csv", e.File));
        Assert.Equal([5L, 6L], errors.Errors.Select(e => e.Line).Order());
        Assert.Equal("bow-test", summary.Model);
    }

    [Fact]
    public async Task IngestAsync_SameCatalogTwice_DoesNotReEmbed()
    {
        var (pipeline, index, generator) = Create();
        await pipeline.IngestAsync(Stream(Catalog), "shop.csv", new ListRowErrorSink());
        var before = generator.TextsEmbedded;

        var summary = await pipeline.IngestAsync(Stream(Catalog), "shop.csv", new ListRowErrorSink());

        Assert.Equal(before, generator.TextsEmbedded);
        Assert.Equal(0, summary.Embedded);
        Assert.Equal(4, summary.Unchanged);
        Assert.Equal(4, index.Committed.Count);
    }

    [Fact]
    public async Task IngestAsync_TitleChanged_ReEmbedsOnlyThatProduct()
    {
        var (pipeline, index, generator) = Create();
        await pipeline.IngestAsync(Stream(Catalog), "shop.csv", new ListRowErrorSink());
        var before = generator.TextsEmbedded;
        var oldVector = index.Committed.Single(p => p.Id == "A1").Vector.ToArray();

        var summary = await pipeline.IngestAsync(Stream(Catalog.Replace("Wireless Earbuds Pro", "Wired Headphones Max", StringComparison.Ordinal)), "shop.csv", new ListRowErrorSink());

        Assert.Equal(1, generator.TextsEmbedded - before);
        Assert.Equal(1, summary.Embedded);
        Assert.Equal(3, summary.Unchanged);
        var a1 = index.Committed.Single(p => p.Id == "A1");
        Assert.Equal("Wired Headphones Max", a1.Product.Title);
        Assert.NotEqual(oldVector, a1.Vector.ToArray());
    }

    [Fact]
    public async Task IngestAsync_OnlyPriceChanged_RewritesWithoutReEmbedding()
    {
        var (pipeline, index, generator) = Create();
        await pipeline.IngestAsync(Stream(Catalog), "shop.csv", new ListRowErrorSink());
        var before = generator.TextsEmbedded;

        var summary = await pipeline.IngestAsync(Stream(Catalog.Replace("89.00", "79.00", StringComparison.Ordinal)), "shop.csv", new ListRowErrorSink());

        Assert.Equal(before, generator.TextsEmbedded);
        Assert.Equal(1, summary.Updated);
        Assert.Equal(79.00m, index.Committed.Single(p => p.Id == "A3").Product.Price);
    }

    [Fact]
    public async Task IngestAsync_ModelReportsTokenCoverage_RecordsEachProductsUnknownShareAlsoOnRewrite()
    {
        var index = new InMemoryProductIndex();
        var generator = new DigitsUnknownGenerator(new BagOfWordsEmbeddingGenerator());
        var pipeline = new IngestionPipeline(index, generator, Options.Create(new ProductSimilarityOptions()), NullLogger<IngestionPipeline>.Instance);
        await pipeline.IngestAsync(Stream(Catalog), "shop.csv", new ListRowErrorSink());

        await pipeline.IngestAsync(Stream(Catalog.Replace("89.00", "79.00", StringComparison.Ordinal)), "shop.csv", new ListRowErrorSink());

        Assert.All(index.Committed, p => Assert.Equal(generator.UnknownTokenShare(ProductSimilarity.Core.Text.ProductText.ForEmbedding(p.Product)), p.UnknownTokenShare));
        Assert.Equal(0.0, index.Committed.Single(p => p.Id == "A1").UnknownTokenShare);
        Assert.True(index.Committed.Single(p => p.Id == "A3").UnknownTokenShare > 0); // "5L", rewritten for its new price
        Assert.Equal(79.00m, index.Committed.Single(p => p.Id == "A3").Product.Price);
    }

    [Fact]
    public async Task IngestAsync_ModelCannotReportTokenCoverage_RecordsNoShare()
    {
        var (pipeline, index, _) = Create();

        await pipeline.IngestAsync(Stream(Catalog), "shop.csv", new ListRowErrorSink());

        Assert.All(index.Committed, p => Assert.Null(p.UnknownTokenShare));
    }

    [Fact]
    public async Task IngestAsync_ManyPricesChanged_OneFieldUpdatePerBatchAndNoGet()
    {
        var (pipeline, index, generator) = Create();
        await pipeline.IngestAsync(Stream(Catalog), "shop.csv", new ListRowErrorSink());
        var vectorBefore = index.Committed.Single(p => p.Id == "A1").Vector.ToArray();
        var embeddedBefore = generator.TextsEmbedded;
        var changed = Catalog.Replace("59.90", "49.90", StringComparison.Ordinal)
            .Replace("35.00", "30.00", StringComparison.Ordinal)
            .Replace("89.00", "79.00", StringComparison.Ordinal);

        var summary = await pipeline.IngestAsync(Stream(changed), "shop.csv", new ListRowErrorSink());

        Assert.Equal(3, summary.Updated);
        Assert.Equal(0, summary.Embedded);
        Assert.Equal(embeddedBefore, generator.TextsEmbedded);
        Assert.Equal(1, index.FieldUpdateCalls);
        Assert.Equal(0, index.Gets);
        Assert.Equal(49.90m, index.Committed.Single(p => p.Id == "A1").Product.Price);
        Assert.Equal(vectorBefore, index.Committed.Single(p => p.Id == "A1").Vector.ToArray());
    }

    [Fact]
    public async Task IngestAsync_ModelChanged_ReEmbedsEverything()
    {
        var (pipeline, index, _) = Create();
        await pipeline.IngestAsync(Stream(Catalog), "shop.csv", new ListRowErrorSink());
        var other = new BagOfWordsEmbeddingGenerator(modelId: "bow-test-v2");
        var pipeline2 = new IngestionPipeline(index, other, Options.Create(new ProductSimilarityOptions()), NullLogger<IngestionPipeline>.Instance);

        var summary = await pipeline2.IngestAsync(Stream(Catalog), "shop.csv", new ListRowErrorSink());

        Assert.Equal(4, summary.Embedded);
        Assert.Equal(4, other.TextsEmbedded);
    }

    [Fact]
    public async Task IngestAsync_DeletedColumn_RemovesProduct()
    {
        var (pipeline, index, _) = Create();
        await pipeline.IngestAsync(Stream(Catalog), "shop.csv", new ListRowErrorSink());

        var summary = await pipeline.IngestAsync(Stream("id,title,deleted\nA2,Chef's Knife,true\n"), "delete.csv", new ListRowErrorSink());

        Assert.Equal(1, summary.Deleted);
        Assert.DoesNotContain(index.Committed, p => p.Id == "A2");
        Assert.Equal(3, index.Committed.Count);
    }

    [Fact]
    public async Task IngestAsync_SnapshotMode_RemovesProductsMissingFromFileButKeepsRejectedIds()
    {
        var (pipeline, index, _) = Create();
        await pipeline.IngestAsync(Stream(Catalog), "shop.csv", new ListRowErrorSink());
        const string snapshot = "id,title,price\nA1,Wireless Earbuds Pro,59.90\nA3,Rice Cooker 5L,not-a-price\n";

        var summary = await pipeline.IngestAsync(Stream(snapshot), "snap.csv", new ListRowErrorSink(), mode: IngestionMode.Snapshot);

        Assert.Equal(2, summary.Deleted); // A2 and A5; A3 was rejected, so it is kept
        Assert.Equal(["A1", "A3"], index.Committed.Select(p => p.Id).Order());
    }

    [Fact]
    public async Task IngestAsync_CrashMidRunThenRerun_EveryProductExactlyOnce()
    {
        var rows = new StringBuilder("id,title,brand\n");
        for (var i = 0; i < 100; i++)
        {
            rows.Append(System.Globalization.CultureInfo.InvariantCulture, $"P{i:000},Product number {i} widget,Brand{i % 7}\n");
        }

        var index = new InMemoryProductIndex { FailOnUpsertCall = 6 };
        var generator = new BagOfWordsEmbeddingGenerator();
        var options = Options.Create(new ProductSimilarityOptions { Ingestion = new IngestionOptions { BatchSize = 10, CommitEvery = 2 } });
        var pipeline = new IngestionPipeline(index, generator, options, NullLogger<IngestionPipeline>.Instance);

        await Assert.ThrowsAsync<IOException>(() => pipeline.IngestAsync(Stream(rows.ToString()), "big.csv", new ListRowErrorSink()));
        index.Crash();
        Assert.Equal(40, index.Committed.Count); // two checkpoints of two batches each survived

        var summary = await pipeline.IngestAsync(Stream(rows.ToString()), "big.csv", new ListRowErrorSink());

        Assert.Equal(40, summary.Unchanged);
        Assert.Equal(60, summary.Embedded);
        Assert.Equal(100, index.Committed.Count);
        Assert.Equal(100, index.Committed.Select(p => p.Id).Distinct().Count());
    }

    [Fact]
    public async Task IngestAsync_EmbeddingBlocked_LaterBatchesLookedUpMeanwhileButNoMoreThanTheChannelsHold()
    {
        var index = new InMemoryProductIndex();
        using var generator = new GatedEmbeddingGenerator(new BagOfWordsEmbeddingGenerator());
        var options = Options.Create(new ProductSimilarityOptions { Ingestion = new IngestionOptions { BatchSize = 10, CommitEvery = 1 } });
        var pipeline = new IngestionPipeline(index, generator, options, NullLogger<IngestionPipeline>.Instance);

        var run = pipeline.IngestAsync(Stream(Rows(1000)), "big.csv", new ListRowErrorSink());

        // While the first batch is held in the model, the lookup stage works ahead: the batch in the model, two queued
        // for it and one the lookup stage holds while it waits to hand it on. Back-pressure stops it there, far short
        // of the file's 100 batches.
        await generator.FirstCallStarted.WaitAsync(TimeSpan.FromSeconds(30));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (index.HashLookups < 4 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        await Task.Delay(300);
        Assert.Equal(4, index.HashLookups);
        Assert.Empty(index.Committed);

        generator.Release();
        var summary = await run;
        Assert.Equal(1000, summary.Embedded);
        Assert.Equal(1000, index.Committed.Count);
        Assert.Equal(100, index.HashLookups);
    }

    [Fact]
    public async Task IngestAsync_IndexBusyCommitting_EmbeddingGoesOnForOneCheckpointButNoFurther()
    {
        var commit = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var index = new InMemoryProductIndex { CommitGate = commit.Task };
        using var generator = new GatedEmbeddingGenerator(new BagOfWordsEmbeddingGenerator());
        generator.Release();
        var options = Options.Create(new ProductSimilarityOptions { Ingestion = new IngestionOptions { BatchSize = 10, CommitEvery = 4 } });
        var pipeline = new IngestionPipeline(index, generator, options, NullLogger<IngestionPipeline>.Instance);

        var run = pipeline.IngestAsync(Stream(Rows(1000)), "big.csv", new ListRowErrorSink());

        // The write stage wrote four batches and waits in the first commit. Meanwhile the model embeds one checkpoint more
        // (four batches queued for the writer) and one it holds while it waits to hand it on; then back-pressure stops it.
        await index.CommitStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (generator.Calls < 9 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        await Task.Delay(300);
        Assert.Equal(9, generator.Calls);
        Assert.Empty(index.Committed);

        commit.SetResult();
        var summary = await run;
        Assert.Equal(1000, summary.Embedded);
        Assert.Equal(1000, index.Committed.Count);
    }

    [Fact]
    public async Task IngestAsync_EmbeddingFailsOnThirdBatch_EarlierBatchesCommittedAndFailureThrown()
    {
        var index = new InMemoryProductIndex();
        using var generator = new GatedEmbeddingGenerator(new BagOfWordsEmbeddingGenerator()) { FailOnCall = 3 };
        generator.Release();
        var options = Options.Create(new ProductSimilarityOptions { Ingestion = new IngestionOptions { BatchSize = 10, CommitEvery = 1 } });
        var pipeline = new IngestionPipeline(index, generator, options, NullLogger<IngestionPipeline>.Instance);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.IngestAsync(Stream(Rows(100)), "big.csv", new ListRowErrorSink()));

        Assert.Contains("injected", ex.Message, StringComparison.Ordinal);
        Assert.Equal(20, index.Committed.Count); // the two batches embedded before the failure, as a batch-by-batch loop
        Assert.Equal(3, generator.Calls); // nothing embedded after the failure
        index.Crash();
        generator.FailOnCall = 0;
        var summary = await pipeline.IngestAsync(Stream(Rows(100)), "big.csv", new ListRowErrorSink());
        Assert.Equal(20, summary.Unchanged);
        Assert.Equal(80, summary.Embedded);
        Assert.Equal(100, index.Committed.Count);
    }

    [Fact]
    public async Task IngestAsync_CallerCancelsWhileEmbedding_ThrowsCanceledAndKeepsOnlyCommittedBatches()
    {
        var index = new InMemoryProductIndex();
        using var generator = new GatedEmbeddingGenerator(new BagOfWordsEmbeddingGenerator());
        var options = Options.Create(new ProductSimilarityOptions { Ingestion = new IngestionOptions { BatchSize = 10, CommitEvery = 1 } });
        var pipeline = new IngestionPipeline(index, generator, options, NullLogger<IngestionPipeline>.Instance);
        using var cancel = new CancellationTokenSource();

        var run = pipeline.IngestAsync(Stream(Rows(100)), "big.csv", new ListRowErrorSink(), cancellationToken: cancel.Token);
        await generator.FirstCallStarted.WaitAsync(TimeSpan.FromSeconds(30));
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Empty(index.Committed);
    }

    [Fact]
    public async Task IngestAsync_BadRowsAmongManyBatches_ReportedInFileOrderWithLineAndFieldAndGoodRowsKept()
    {
        var rows = new StringBuilder("id,title,price\n");
        for (var i = 0; i < 500; i++)
        {
            var price = i % 50 == 7 ? "twelve" : "9.50";
            rows.Append(System.Globalization.CultureInfo.InvariantCulture, $"P{i:000},Product number {i} widget,{price}\n");
        }

        var (pipeline, index, _) = Create(batchSize: 8);
        var errors = new ListRowErrorSink();

        var summary = await pipeline.IngestAsync(Stream(rows.ToString()), "shop.csv", errors);

        Assert.Equal(10, summary.Rejected);
        Assert.Equal(490, index.Committed.Count);
        Assert.Equal(Enumerable.Range(0, 10).Select(k => (long)(k * 50 + 7 + 2)), errors.Errors.Select(e => e.Line));
        Assert.All(errors.Errors, e => Assert.Equal(("shop.csv", "price"), (e.File, e.Field!)));
    }

    [Fact]
    public async Task IngestAsync_ReportsProgress()
    {
        var (pipeline, _, _) = Create(batchSize: 2);
        var reports = new List<IngestionProgress>();

        await pipeline.IngestAsync(Stream(Catalog), "shop.csv", new ListRowErrorSink(), new SynchronousProgress(reports.Add));

        Assert.NotEmpty(reports);
        Assert.Equal(6, reports[^1].RowsRead);
        Assert.True(reports[^1].BytesRead > 0);
    }

    private static (IngestionPipeline Pipeline, InMemoryProductIndex Index, BagOfWordsEmbeddingGenerator Generator) Create(int batchSize = 64)
    {
        var index = new InMemoryProductIndex();
        var generator = new BagOfWordsEmbeddingGenerator();
        var options = Options.Create(new ProductSimilarityOptions { Ingestion = new IngestionOptions { BatchSize = batchSize } });
        return (new IngestionPipeline(index, generator, options, NullLogger<IngestionPipeline>.Instance), index, generator);
    }

    private static string Rows(int count)
    {
        var rows = new StringBuilder("id,title,brand\n");
        for (var i = 0; i < count; i++)
        {
            rows.Append(System.Globalization.CultureInfo.InvariantCulture, $"P{i:0000},Product number {i} widget,Brand{i % 7}\n");
        }

        return rows.ToString();
    }

    // A model whose tokenizer does not know words holding a digit: its unknown share is the share of such words.
    private sealed class DigitsUnknownGenerator(BagOfWordsEmbeddingGenerator inner)
        : DelegatingEmbeddingGenerator<string, Embedding<float>>(inner), ProductSimilarity.Core.Text.ITokenCoverage
    {
        public double UnknownTokenShare(string text)
        {
            var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return words.Length == 0 ? 0 : (double)words.Count(w => w.Any(char.IsDigit)) / words.Length;
        }

        public override object? GetService(Type serviceType, object? serviceKey = null)
            => serviceType == typeof(ProductSimilarity.Core.Text.ITokenCoverage) ? this : base.GetService(serviceType, serviceKey);
    }

    private static MemoryStream Stream(string text) => new(Encoding.UTF8.GetBytes(text.ReplaceLineEndings("\n")));

    /// <summary>Holds every call until <see cref="Release"/>; fails from call <see cref="FailOnCall"/> on (1-based; 0 never).</summary>
    private sealed class GatedEmbeddingGenerator(IEmbeddingGenerator<string, Embedding<float>> inner)
        : DelegatingEmbeddingGenerator<string, Embedding<float>>(inner)
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _firstCall = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _calls;

        public int FailOnCall { get; set; }

        public int Calls => Volatile.Read(ref _calls);

        public Task FirstCallStarted => _firstCall.Task;

        public void Release() => _gate.TrySetResult();

        public override async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
            IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            var call = Interlocked.Increment(ref _calls);
            _firstCall.TrySetResult();
            await _gate.Task.WaitAsync(cancellationToken);
            if (FailOnCall > 0 && call >= FailOnCall)
            {
                throw new InvalidOperationException($"injected failure on embedding call {call}");
            }

            return await base.GenerateAsync(values, options, cancellationToken);
        }
    }

    private sealed class SynchronousProgress(Action<IngestionProgress> report) : IProgress<IngestionProgress>
    {
        public void Report(IngestionProgress value) => report(value);
    }
}
