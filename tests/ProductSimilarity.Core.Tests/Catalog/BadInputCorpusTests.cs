using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Ingestion;
using ProductSimilarity.Core.Tests.Fakes;

namespace ProductSimilarity.Core.Tests.Catalog;

/// <summary>
/// Runs every file of the bad-input corpus (TestData/bad-input, expected outcomes in its manifest.json) through the
/// reader and through the whole ingestion pipeline: every good row indexed, every rejected row reported with its line,
/// or the whole file refused with one clear message.
/// </summary>
public sealed class BadInputCorpusTests
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in Manifest().Cases)
        {
            data.Add(c.Key);
        }

        return data;
    }

    [Fact]
    public void Manifest_CoversEveryFileInTheCorpus()
    {
        var listed = Manifest().Cases.Select(c => c.File).ToHashSet(StringComparer.Ordinal);
        var files = Directory.GetFiles(CatalogTestData.TestDataPath("bad-input")).Select(Path.GetFileName).Where(f => f != "manifest.json").ToList();

        Assert.True(files.Count >= 35, $"the corpus should hold at least 35 catalogs, not {files.Count}");
        Assert.All(files, f => Assert.Contains(f!, listed));
        Assert.All(listed, f => Assert.Contains(f, files));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Reader_CorpusCase_MatchesManifest(string key)
    {
        var c = Manifest().Cases.Single(x => x.Key == key);
        var bytes = await File.ReadAllBytesAsync(CatalogTestData.TestDataPath(Path.Combine("bad-input", c.File)));
        var reader = new CatalogReader();

        if (c.Outcome == "refused")
        {
            var ex = await Assert.ThrowsAsync<CatalogFormatException>(async () =>
            {
                await foreach (var _ in reader.ReadAsync(new MemoryStream(bytes), c.File, c.ReaderOptions()))
                {
                }
            });
            Assert.Contains(c.Message!, ex.Message, StringComparison.Ordinal);
            Assert.StartsWith(c.File + ":", ex.Message, StringComparison.Ordinal);
            return;
        }

        var rows = new List<CatalogRow>();
        await foreach (var row in reader.ReadAsync(new MemoryStream(bytes), c.File, c.ReaderOptions()))
        {
            rows.Add(row);
        }

        var errors = rows.Errors();
        Assert.True(c.Products == rows.Products().Count && c.Rejected == errors.Count,
            $"{c.Case}: expected {c.Products} products and {c.Rejected} rejected, got {rows.Products().Count} and {errors.Count}: " + string.Join(" | ", errors));
        Assert.All(errors, e =>
        {
            Assert.Equal(c.File, e.File);
            Assert.True(e.Line >= 1, e.ToString());
            Assert.False(string.IsNullOrWhiteSpace(e.Reason));
        });
        if (c.Errors is { } expected)
        {
            Assert.Equal(expected.Select(e => (e.Line, e.Field)), errors.Select(e => (e.Line, e.Field)));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Pipeline_CorpusCase_EveryRowIndexedOrReported(string key)
    {
        var c = Manifest().Cases.Single(x => x.Key == key);
        var index = new InMemoryProductIndex();
        var pipeline = Pipeline(index, c.ReaderOptions());
        var errors = new ListRowErrorSink();
        await using var stream = File.OpenRead(CatalogTestData.TestDataPath(Path.Combine("bad-input", c.File)));

        if (c.Outcome == "refused")
        {
            var ex = await Assert.ThrowsAsync<CatalogFormatException>(() => pipeline.IngestAsync(stream, c.File, errors));
            Assert.Contains(c.Message!, ex.Message, StringComparison.Ordinal);
            Assert.True(errors.Errors.Count <= 1, "a refused file is one message, never a pile of row errors");
            Assert.Empty(index.Committed);
            return;
        }

        var summary = await pipeline.IngestAsync(stream, c.File, errors);

        var deleted = summary.Deleted; // rows marked deleted remove nothing from an empty index but are good rows
        Assert.Equal(summary.RowsRead, index.Committed.Count + errors.Errors.Count + CountDeletedRows(c));
        Assert.Equal(c.Rejected, summary.Rejected);
        Assert.Equal(0, deleted);
        var products = index.Committed.ToDictionary(p => p.Id, p => p.Product);
        if (c.Checks is { } checks)
        {
            if (checks.Ids is { } ids)
            {
                Assert.Equal(ids.Order(StringComparer.Ordinal), products.Keys.Order(StringComparer.Ordinal));
            }

            foreach (var (id, title) in checks.TitleOf ?? [])
            {
                Assert.Equal(title, products[id].Title);
            }

            foreach (var (id, price) in checks.PriceOf ?? [])
            {
                Assert.Equal(price, products[id].Price);
            }

            foreach (var p in products.Values)
            {
                foreach (var text in checks.DescriptionExcludes ?? [])
                {
                    Assert.DoesNotContain(text, p.Description ?? string.Empty, StringComparison.OrdinalIgnoreCase);
                }

                if (checks.NoControlCharacters)
                {
                    Assert.DoesNotContain(p.Title + p.Description, ch => char.IsControl(ch));
                }
            }

            foreach (var text in checks.DescriptionIncludes ?? [])
            {
                Assert.Contains(products.Values, p => p.Description?.Contains(text, StringComparison.Ordinal) == true);
            }
        }
    }

    [Fact]
    public async Task Reader_TenMegabyteField_RowRejectedOthersKept()
    {
        var sb = new StringBuilder("id,title,description\nP1,Kettle,short\nP2,Huge,");
        sb.Append('x', 10 * 1024 * 1024).Append("\nP3,Pan,short\n");

        var rows = await CatalogTestData.ReadAsync(sb.ToString());

        Assert.Equal(["P1", "P3"], rows.Ids());
        var error = rows.SingleError();
        Assert.Equal(3, error.Line);
        Assert.Equal("P2", error.Id);
    }

    [Fact]
    public async Task Pipeline_HundredThousandCharacterTitle_KeptAndCapped()
    {
        var index = new InMemoryProductIndex();
        var catalog = "id,title\nP1," + string.Concat(Enumerable.Repeat("kettle ", 100_000 / 7)) + "\nP2,Pan\n";
        var errors = new ListRowErrorSink();

        var summary = await Pipeline(index).IngestAsync(new MemoryStream(Encoding.UTF8.GetBytes(catalog)), "long.csv", errors);

        Assert.Equal(2, index.Committed.Count);
        Assert.Empty(errors.Errors);
        Assert.Equal(2, summary.RowsRead);
        Assert.True(index.Committed.Single(p => p.Id == "P1").Product.Title.Length <= 512);
    }

    [Fact]
    public async Task Reader_MillionOneCharacterRows_EachReportedWithItsLine()
    {
        const int Rows = 1_000_000;
        var bytes = new byte["id,title\n".Length + (2 * Rows)];
        "id,title\n"u8.CopyTo(bytes);
        for (var i = 9; i < bytes.Length; i += 2)
        {
            bytes[i] = (byte)'a';
            bytes[i + 1] = (byte)'\n';
        }

        long count = 0;
        long lastLine = 0;
        await foreach (var row in new CatalogReader().ReadAsync(new MemoryStream(bytes), "million.csv"))
        {
            count++;
            lastLine = row.Line;
            Assert.True(row.IsError && row.Error!.Line == row.Line, "a one-character row has no title");
        }

        Assert.Equal(Rows, count);
        Assert.Equal(Rows + 1, lastLine);
    }

    private static int CountDeletedRows(CorpusCase c) => c.File == "deleted-rows.csv" ? 1 : 0;

    private static IngestionPipeline Pipeline(InMemoryProductIndex index, CatalogReadOptions? reader = null)
    {
        var options = Options.Create(new ProductSimilarityOptions
        {
            Ingestion = new IngestionOptions
            {
                BatchSize = 4,
                CommitEvery = 1,
                Encoding = reader?.Encoding,
                MaxDecompressedBytes = reader?.MaxDecompressedBytes ?? CatalogReadOptions.DefaultMaxDecompressedBytes,
            },
        });
        return new IngestionPipeline(index, new BagOfWordsEmbeddingGenerator(), options, NullLogger<IngestionPipeline>.Instance);
    }

    private static CorpusManifest Manifest()
    {
        var json = File.ReadAllText(CatalogTestData.TestDataPath(Path.Combine("bad-input", "manifest.json")));
        return JsonSerializer.Deserialize<CorpusManifest>(json, JsonOptions)!;
    }

    internal sealed record CorpusManifest(string Description, List<CorpusCase> Cases);

    internal sealed record CorpusCase(
        string File, string Case, string Outcome, int Products, int Rejected, string? Message,
        List<ExpectedError>? Errors, CorpusOptions? Options, CorpusChecks? Checks)
    {
        public string Key => File + (Options is null ? string.Empty : $" [{Options.Encoding}{Options.MaxDecompressedBytes}]");

        public CatalogReadOptions ReaderOptions() => new()
        {
            Encoding = Options?.Encoding,
            MaxDecompressedBytes = Options?.MaxDecompressedBytes ?? CatalogReadOptions.DefaultMaxDecompressedBytes,
        };
    }

    internal sealed record ExpectedError(long Line, string? Field);

    internal sealed record CorpusOptions(string? Encoding, long? MaxDecompressedBytes);

    internal sealed record CorpusChecks(
        List<string>? Ids, Dictionary<string, string>? TitleOf, Dictionary<string, decimal>? PriceOf, List<string>? DescriptionExcludes, List<string>? DescriptionIncludes, bool NoControlCharacters);
}
