using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Parquet;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Similarity;
using ProductSimilarity.Core.Tests.Fakes;

namespace ProductSimilarity.Core.Tests.Similarity;

public sealed class SimilarityExporterTests : IDisposable
{
    private const int Products = 60;
    private static readonly string[] Kinds = ["earbuds", "knife", "kettle", "lamp", "backpack", "speaker"];
    private static readonly string[] Words = ["wireless", "steel", "compact", "deluxe", "portable", "black", "smart", "classic"];

    private readonly InMemoryProductIndex _index = new();
    private readonly BagOfWordsEmbeddingGenerator _generator = new();
    private readonly SimilarityService _service;
    private readonly SimilarityExporter _exporter;
    private readonly string _dir = Directory.CreateTempSubdirectory("psim-export-").FullName;

    public SimilarityExporterTests()
    {
        _service = new SimilarityService(_index, _generator, Microsoft.Extensions.Options.Options.Create(new ProductSimilarityOptions()), new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero)));
        _exporter = new SimilarityExporter(_index, _service);
        for (var i = 0; i < Products; i++)
        {
            // Every fifth product is out of stock; pairs of products share a group id (variants).
            var title = $"{Words[i % Words.Length]} {Words[(i / 3) % Words.Length]} {Kinds[i % Kinds.Length]} {i}";
            var product = new Product
            {
                Id = $"P{i:000}",
                Title = title,
                Category = Kinds[i % Kinds.Length],
                Price = 10 + i,
                InStock = i % 5 != 0,
                GroupId = i % 7 == 0 ? $"G{i / 14}" : null,
            };
            _index.UpsertAsync([new IndexedProduct { Product = product, ContentHash = product.Id, Vector = _generator.Embed(title) }]).GetAwaiter().GetResult();
        }

        _index.CommitAsync().GetAwaiter().GetResult();
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(ExportFormat.Jsonl)]
    [InlineData(ExportFormat.Csv)]
    [InlineData(ExportFormat.Parquet)]
    public async Task ExportAsync_EachFormat_OneEntryPerProductAndEveryPair(ExportFormat format)
    {
        var request = new SimilarRequest { Id = string.Empty, Top = 5 };
        var expected = await ExpectedAsync(request);

        var result = await _exporter.ExportAsync(Options(format, request));

        Assert.Equal(Products, result.Products);
        Assert.Equal(expected.Sum(p => p.Hits.Count), result.Rows);
        Assert.Equal(Products * 5, result.Rows);
        Assert.Equal(0, result.ResumedFrom);
        var rows = await ReadAsync(format, result.OutputPath);
        Assert.Equal(result.Rows, rows.Count);
        Assert.Equal(Flatten(expected), rows);
        Assert.False(File.Exists(SimilarityExporter.PartialPath(result.OutputPath)));
        Assert.False(File.Exists(SimilarityExporter.CheckpointPath(result.OutputPath)));
        if (format == ExportFormat.Jsonl)
        {
            Assert.Equal(Products, File.ReadAllLines(result.OutputPath).Length);
        }
        else if (format == ExportFormat.Csv)
        {
            var lines = File.ReadAllLines(result.OutputPath);
            Assert.Equal(ExportWriter.CsvHeader, lines[0]);
            Assert.Equal(Products * 5, lines.Length - 1);
        }
    }

    [Fact]
    public async Task ExportAsync_InStockFilterAndVariants_SameListsAsSimilarForSampledProducts()
    {
        var request = new SimilarRequest { Id = string.Empty, Top = 8, Filter = new ProductFilter { InStock = true } };

        var result = await _exporter.ExportAsync(Options(ExportFormat.Jsonl, request) with { Parallelism = 3, ChunkSize = 7 });

        var lines = File.ReadAllLines(result.OutputPath).Select(l => JsonDocument.Parse(l).RootElement).ToDictionary(e => e.GetProperty("id").GetString()!);
        foreach (var id in new[] { "P000", "P007", "P013", "P014", "P031", "P059" })
        {
            var similar = await _service.SimilarAsync(request with { Id = id });
            var exported = lines[id].GetProperty("similar").EnumerateArray().ToList();
            Assert.Equal(similar.Hits.Select(h => h.Product.Id), exported.Select(e => e.GetProperty("id").GetString()));
            Assert.Equal(similar.Hits.Select(h => Math.Round(h.Score, 6)), exported.Select(e => e.GetProperty("score").GetDouble()));
            Assert.Equal(Enumerable.Range(1, similar.Hits.Count), exported.Select(e => e.GetProperty("rank").GetInt32()));
            Assert.All(similar.Hits, h => Assert.True(h.Product.Product.InStock));
            Assert.DoesNotContain(exported, e => e.GetProperty("id").GetString() == id);
        }

        // P000 and P007 are variants of one group: neither lists the other.
        Assert.DoesNotContain(lines["P000"].GetProperty("similar").EnumerateArray(), e => e.GetProperty("id").GetString() == "P007");
    }

    [Theory]
    [InlineData(ExportFormat.Jsonl)]
    [InlineData(ExportFormat.Csv)]
    [InlineData(ExportFormat.Parquet)]
    public async Task ExportAsync_CancelledMidRunThenRerun_ResumesToTheSameFileAsAnUninterruptedRun(ExportFormat format)
    {
        var request = new SimilarRequest { Id = string.Empty, Top = 4 };
        var reference = await _exporter.ExportAsync(Options(format, request) with { OutputPath = Path.Combine(_dir, "reference." + format) });
        var options = Options(format, request) with { ChunkSize = 9, Parallelism = 4 };

        using var cancel = new CancellationTokenSource();
        var seen = new List<long>();
        var progress = new SyncProgress(p =>
        {
            seen.Add(p.Done);
            if (p.Done >= 18)
            {
                cancel.Cancel();
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _exporter.ExportAsync(options, progress, cancel.Token));

        Assert.False(File.Exists(options.OutputPath));
        Assert.True(File.Exists(SimilarityExporter.PartialPath(options.OutputPath)));
        Assert.True(File.Exists(SimilarityExporter.CheckpointPath(options.OutputPath)));
        Assert.Equal([0, 9, 18], seen);

        var resumed = await _exporter.ExportAsync(options);

        Assert.Equal(18, resumed.ResumedFrom);
        Assert.Equal(Products, resumed.Products);
        Assert.Equal(reference.Rows, resumed.Rows);
        Assert.Equal(await ReadAsync(format, reference.OutputPath), await ReadAsync(format, resumed.OutputPath));
        if (format != ExportFormat.Parquet)
        {
            Assert.Equal(File.ReadAllBytes(reference.OutputPath), File.ReadAllBytes(resumed.OutputPath));
        }
    }

    [Theory]
    [InlineData(ExportFormat.Jsonl)]
    [InlineData(ExportFormat.Csv)]
    [InlineData(ExportFormat.Parquet)]
    public async Task ExportAsync_KilledAfterWritingAChunkBeforeItsCheckpoint_ResumeDropsTheTornChunk(ExportFormat format)
    {
        var request = new SimilarRequest { Id = string.Empty, Top = 3 };
        var reference = await _exporter.ExportAsync(Options(format, request) with { OutputPath = Path.Combine(_dir, "reference." + format) });
        var options = Options(format, request) with { ChunkSize = 10 };
        using var cancel = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            _exporter.ExportAsync(options, new SyncProgress(p => { if (p.Done >= 20) { cancel.Cancel(); } }), cancel.Token));

        // What a process killed in the middle of its next write leaves: bytes past the checkpoint, a row cut in two.
        await File.AppendAllTextAsync(SimilarityExporter.PartialPath(options.OutputPath), "P020,1,P0");

        var resumed = await _exporter.ExportAsync(options);

        Assert.Equal(20, resumed.ResumedFrom);
        Assert.Equal(await ReadAsync(format, reference.OutputPath), await ReadAsync(format, resumed.OutputPath));
    }

    [Fact]
    public async Task ExportAsync_CheckpointOfOtherSettings_RefusesUntilRestart()
    {
        var options = Options(ExportFormat.Csv, new SimilarRequest { Id = string.Empty, Top = 3 }) with { ChunkSize = 10 };
        using var cancel = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            _exporter.ExportAsync(options, new SyncProgress(p => { if (p.Done >= 10) { cancel.Cancel(); } }), cancel.Token));

        var other = options with { Request = options.Request with { Top = 4 } };
        var refused = await Assert.ThrowsAsync<ExportResumeException>(() => _exporter.ExportAsync(other));
        Assert.Contains("--restart", refused.Message, StringComparison.Ordinal);

        var restarted = await _exporter.ExportAsync(other with { Restart = true });
        Assert.Equal(0, restarted.ResumedFrom);
        Assert.Equal(Products * 4, restarted.Rows);
    }

    [Fact]
    public async Task ExportAsync_ParquetWithNoPairs_IsAValidEmptyFile()
    {
        var request = new SimilarRequest { Id = string.Empty, Top = 3, Filter = new ProductFilter { Category = "no such category" } };

        var result = await _exporter.ExportAsync(Options(ExportFormat.Parquet, request));

        Assert.Equal(Products, result.Products);
        Assert.Equal(0, result.Rows);
        Assert.Empty(await ReadAsync(ExportFormat.Parquet, result.OutputPath));
    }

    private ExportOptions Options(ExportFormat format, SimilarRequest request) => new()
    {
        OutputPath = Path.Combine(_dir, "export." + format.ToString().ToLowerInvariant()),
        Format = format,
        Request = request,
        Parallelism = 4,
        ChunkSize = 16,
    };

    private async Task<List<ExportedProduct>> ExpectedAsync(SimilarRequest request)
    {
        var expected = new List<ExportedProduct>();
        await foreach (var id in _index.GetAllIdsAsync())
        {
            expected.Add(new ExportedProduct(id, (await _service.SimilarAsync(request with { Id = id })).Hits));
        }

        return [.. expected.OrderBy(p => p.Id, StringComparer.Ordinal)];
    }

    private static List<Row> Flatten(IEnumerable<ExportedProduct> products) =>
        [.. products.SelectMany(p => p.Hits.Select((h, i) => new Row(p.Id, i + 1, h.Product.Id, Math.Round(h.Score, 6), Round(h.VectorScore), Round(h.KeywordScore))))];

    /// <summary>Reads an export back into pairs, whatever its format.</summary>
    private static async Task<List<Row>> ReadAsync(ExportFormat format, string path)
    {
        switch (format)
        {
            case ExportFormat.Jsonl:
                return [.. File.ReadLines(path).SelectMany(line =>
                {
                    var e = JsonDocument.Parse(line).RootElement;
                    var id = e.GetProperty("id").GetString()!;
                    return e.GetProperty("similar").EnumerateArray().Select(s => new Row(
                        id,
                        s.GetProperty("rank").GetInt32(),
                        s.GetProperty("id").GetString()!,
                        s.GetProperty("score").GetDouble(),
                        s.TryGetProperty("vectorScore", out var v) ? v.GetDouble() : null,
                        s.TryGetProperty("keywordScore", out var k) ? k.GetDouble() : null)).ToList();
                })];
            case ExportFormat.Csv:
                return [.. File.ReadLines(path).Skip(1).Select(line =>
                {
                    var f = line.Split(',');
                    return new Row(f[0], int.Parse(f[1], CultureInfo.InvariantCulture), f[2], double.Parse(f[3], CultureInfo.InvariantCulture),
                        f[4].Length > 0 ? double.Parse(f[4], CultureInfo.InvariantCulture) : null,
                        f[5].Length > 0 ? double.Parse(f[5], CultureInfo.InvariantCulture) : null);
                })];
            default:
                var rows = new List<Row>();
                await using (var stream = File.OpenRead(path))
                {
                    await using var reader = await ParquetReader.CreateAsync(stream);
                    Assert.Equal(
                        ExportWriter.ParquetSchema.DataFields.Select(f => (f.Name, f.ClrType, f.IsNullable)),
                        reader.Schema.DataFields.Select(f => (f.Name, f.ClrType, f.IsNullable)));
                    var fields = reader.Schema.DataFields;
                    for (var g = 0; g < reader.RowGroupCount; g++)
                    {
                        using var group = reader.OpenRowGroupReader(g);
                        var n = (int)group.RowCount;
                        var products = new string?[n];
                        var ranks = new int[n];
                        var similar = new string?[n];
                        var scores = new double[n];
                        var vectors = new double?[n];
                        var keywords = new double?[n];
                        await group.ReadAsync(fields[0], products.AsMemory());
                        await group.ReadAsync<int>(fields[1], ranks.AsMemory());
                        await group.ReadAsync(fields[2], similar.AsMemory());
                        await group.ReadAsync<double>(fields[3], scores.AsMemory());
                        await group.ReadAsync<double>(fields[4], vectors.AsMemory());
                        await group.ReadAsync<double>(fields[5], keywords.AsMemory());
                        rows.AddRange(Enumerable.Range(0, n).Select(i => new Row(products[i]!, ranks[i], similar[i]!, scores[i], vectors[i], keywords[i])));
                    }
                }

                return rows;
        }
    }

    private static double? Round(double? score) => score is { } v ? Math.Round(v, 6) : null;

    private sealed record Row(string Product, int Rank, string Similar, double Score, double? VectorScore, double? KeywordScore);

    /// <summary>Reports on the exporter's thread, at once (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SyncProgress(Action<ExportProgress> report) : IProgress<ExportProgress>
    {
        public void Report(ExportProgress value) => report(value);
    }
}
