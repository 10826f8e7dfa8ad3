using System.Globalization;
using System.IO.Compression;
using System.Text;
using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Ingestion;
using ProductSimilarity.Core.Tests.Fakes;
using Xunit.Abstractions;

namespace ProductSimilarity.Core.Tests.Catalog;

/// <summary>
/// Property-based fuzzing (CsCheck generators) of the whole ingestion path with random mutations of a valid catalog:
/// byte flips, quote and separator insertions, deletions, truncations, re-encodings and compression. The invariant:
/// no exception escapes except the one documented whole-file refusal (<see cref="CatalogFormatException"/>, naming the
/// file), and every row read is either in the index or in the error report with a line inside the file.
/// </summary>
/// <remarks>
/// The test command runs <see cref="DefaultCases"/> cases from a fixed seed (deterministic); set
/// <c>PSIM_FUZZ_CASES=100000</c> to run more, and <c>PSIM_FUZZ_SEED</c> to start from another seed.
/// </remarks>
public sealed class CatalogFuzzTests(ITestOutputHelper output)
{
    private const int DefaultCases = 3000;

    private static readonly string Csv = BuildCsv();
    private static readonly string JsonLines = BuildJsonLines();

    private enum Wrapping
    {
        None,
        Utf8Bom,
        Utf16LeBom,
        Utf16BeBom,
        Gbk,
        Gzip,
        GzipTruncated,
    }

    // Bytes that matter to a CSV or JSON parser, plus invalid UTF-8 and a GBK pair.
    private static readonly byte[][] Interesting =
    [
        "\""u8.ToArray(), ","u8.ToArray(), "\n"u8.ToArray(), "\r"u8.ToArray(), "\r\n"u8.ToArray(), [0], [0xFF], [0xC3],
        [0xE4, 0xB8], "{"u8.ToArray(), "}"u8.ToArray(), "\\"u8.ToArray(), "\"\""u8.ToArray(), [0xB5, 0xE7], "<script>"u8.ToArray(),
        [0xEF, 0xBB, 0xBF], "\t"u8.ToArray(), "NaN"u8.ToArray(), "-"u8.ToArray(),
    ];

    private static readonly Gen<Mutation> MutationGen = Gen.Frequency(
        (4, Gen.Select(Gen.Int[0, int.MaxValue], Gen.Int[0, 7], (p, b) => new Mutation(MutationKind.FlipBit, p, b))),
        (4, Gen.Select(Gen.Int[0, int.MaxValue], Gen.Int[0, Interesting.Length - 1], (p, b) => new Mutation(MutationKind.Insert, p, b))),
        (2, Gen.Select(Gen.Int[0, int.MaxValue], Gen.Int[1, 40], (p, n) => new Mutation(MutationKind.Delete, p, n))),
        (1, Gen.Int[0, int.MaxValue].Select(p => new Mutation(MutationKind.Truncate, p, 0))),
        (1, Gen.Select(Gen.Int[0, int.MaxValue], Gen.Int[1, 3], (p, n) => new Mutation(MutationKind.DuplicateLine, p, n))));

    private static readonly Gen<FuzzCase> CaseGen = Gen.Select(
        Gen.Bool,
        MutationGen.Array[0, 5],
        Gen.Frequency(
            (12, Gen.Const(Wrapping.None)),
            (2, Gen.Const(Wrapping.Utf8Bom)),
            (2, Gen.Const(Wrapping.Utf16LeBom)),
            (1, Gen.Const(Wrapping.Utf16BeBom)),
            (1, Gen.Const(Wrapping.Gbk)),
            (2, Gen.Const(Wrapping.Gzip)),
            (1, Gen.Const(Wrapping.GzipTruncated))),
        Gen.Int[0, int.MaxValue],
        (jsonl, mutations, wrapping, cut) => new FuzzCase(jsonl, mutations, wrapping, cut));

    private enum MutationKind
    {
        FlipBit,
        Insert,
        Delete,
        Truncate,
        DuplicateLine,
    }

    [Fact]
    public async Task Ingest_MutatedCatalogs_NoExceptionEscapesAndEveryRowIsIndexedOrReported()
    {
        var cases = int.TryParse(Environment.GetEnvironmentVariable("PSIM_FUZZ_CASES"), CultureInfo.InvariantCulture, out var n) && n > 0 ? n : DefaultCases;
        var seed = ulong.TryParse(Environment.GetEnvironmentVariable("PSIM_FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : 20261130UL;
        var pcg = new PCG(7, seed);
        var refused = 0;
        var rowsRead = 0L;
        var rejected = 0L;
        for (var i = 0; i < cases; i++)
        {
            var fuzz = CaseGen.Generate(pcg, null, out _);
            var (name, bytes, plain) = fuzz.Build();
            try
            {
                var result = await CheckAsync(name, bytes, plain);
                refused += result.Refused ? 1 : 0;
                rowsRead += result.RowsRead;
                rejected += result.Rejected;
            }
            catch (Exception ex)
            {
                var path = Path.Combine(Path.GetTempPath(), $"psim-fuzz-{seed}-{i}-{name}");
                await File.WriteAllBytesAsync(path, bytes);
                Assert.Fail($"fuzz case {i} (seed {seed}) broke the invariant; input saved to {path}: {fuzz}\n{ex}");
            }
        }

        output.WriteLine($"{cases} fuzz cases (seed {seed}): {rowsRead} rows read, {rejected} rejected, {refused} files refused as a whole");
        Assert.True(rejected > 0 && rowsRead > rejected, "the mutations should produce both good and rejected rows");
    }

    private static async Task<(bool Refused, long RowsRead, long Rejected)> CheckAsync(string name, byte[] bytes, byte[] plain)
    {
        var index = new InMemoryProductIndex();
        var errors = new ListRowErrorSink();
        var options = Options.Create(new ProductSimilarityOptions
        {
            Ingestion = new IngestionOptions { BatchSize = 8, CommitEvery = 1, MaxDecompressedBytes = 1 << 20 },
        });
        var pipeline = new IngestionPipeline(index, new BagOfWordsEmbeddingGenerator(16), options, NullLogger<IngestionPipeline>.Instance);
        IngestionSummary summary;
        try
        {
            summary = await pipeline.IngestAsync(new MemoryStream(bytes, writable: false), name, errors);
        }
        catch (CatalogFormatException ex)
        {
            Assert.StartsWith(name + ":", ex.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', ex.Message);
            return (true, 0, 0);
        }

        var maxLine = plain.Count(b => b == '\n') + plain.Count(b => b == '\r') + 1;
        Assert.Equal(summary.Rejected, errors.Errors.Count);
        Assert.Equal(summary.RowsRead, index.Committed.Count + errors.Errors.Count);
        Assert.Equal(index.Committed.Count, index.Committed.Select(p => p.Id).Distinct(StringComparer.Ordinal).Count());
        Assert.All(errors.Errors, e =>
        {
            Assert.Equal(name, e.File);
            Assert.InRange(e.Line, 1, maxLine);
            Assert.False(string.IsNullOrWhiteSpace(e.Reason));
        });
        Assert.All(index.Committed, p => Assert.False(string.IsNullOrWhiteSpace(p.Product.Title)));
        return (false, summary.RowsRead, summary.Rejected);
    }

    private static string BuildCsv()
    {
        var sb = new StringBuilder("id,title,brand,price,in_stock,description\n");
        for (var i = 0; i < 16; i++)
        {
            var title = (i % 4) switch
            {
                0 => $"Steel kettle {i}",
                1 => $"\"Pan, non-stick {i}\"",
                2 => $"电热水壶 {i} 升",
                _ => $"\"12\"\" pizza tray {i}\"",
            };
            sb.Append(CultureInfo.InvariantCulture, $"P{i:000},{title},Brand{i % 3},{10 + i}.5,{(i % 2 == 0 ? "yes" : "0")},\"Line one\nline two {i}\"\n");
        }

        return sb.ToString();
    }

    private static string BuildJsonLines()
    {
        var sb = new StringBuilder();
        for (var i = 0; i < 16; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $$"""{"id":"J{{i:000}}","title":"Kettle \"{{i}}\" 水壶","price":{{10 + i}}.5,"in_stock":true,"tags":["a","b"]}""").Append('\n');
        }

        return sb.ToString();
    }

    private readonly record struct Mutation(MutationKind Kind, int Position, int Argument);

    private sealed record FuzzCase(bool JsonLines, Mutation[] Mutations, Wrapping Wrapping, int Cut)
    {
        public (string Name, byte[] Bytes, byte[] Plain) Build()
        {
            var text = JsonLines ? CatalogFuzzTests.JsonLines : Csv;
            var bytes = Wrapping switch
            {
                Wrapping.Utf16LeBom => [0xFF, 0xFE, .. Encoding.Unicode.GetBytes(text)],
                Wrapping.Utf16BeBom => [0xFE, 0xFF, .. Encoding.BigEndianUnicode.GetBytes(text)],
                Wrapping.Utf8Bom => [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(text)],
                Wrapping.Gbk => CodePages.GetEncoding(936).GetBytes(text),
                _ => Encoding.UTF8.GetBytes(text),
            };
            var list = new List<byte>(bytes);
            foreach (var m in Mutations)
            {
                Apply(list, m);
            }

            bytes = [.. list];
            var plain = bytes;
            if (Wrapping is Wrapping.Gzip or Wrapping.GzipTruncated)
            {
                bytes = CatalogTestData.Gzip(bytes);
                if (Wrapping == Wrapping.GzipTruncated)
                {
                    bytes = bytes[..(Cut % bytes.Length)];
                }
            }

            var name = (JsonLines ? "fuzz.jsonl" : "fuzz.csv") + (Wrapping is Wrapping.Gzip or Wrapping.GzipTruncated ? ".gz" : string.Empty);
            return (name, bytes, plain);
        }

        public override string ToString() =>
            $"{(JsonLines ? "jsonl" : "csv")} {Wrapping} cut {Cut}: " + string.Join(", ", Mutations.Select(m => $"{m.Kind}@{m.Position}/{m.Argument}"));

        private static void Apply(List<byte> bytes, Mutation m)
        {
            if (bytes.Count == 0)
            {
                return;
            }

            var at = m.Position % bytes.Count;
            switch (m.Kind)
            {
                case MutationKind.FlipBit:
                    bytes[at] ^= (byte)(1 << m.Argument);
                    break;
                case MutationKind.Insert:
                    bytes.InsertRange(at, Interesting[m.Argument]);
                    break;
                case MutationKind.Delete:
                    bytes.RemoveRange(at, Math.Min(m.Argument, bytes.Count - at));
                    break;
                case MutationKind.Truncate:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case MutationKind.DuplicateLine:
                    var start = bytes.LastIndexOf((byte)'\n', at) + 1;
                    var end = bytes.IndexOf((byte)'\n', at);
                    if (end > start)
                    {
                        var line = bytes.GetRange(start, end - start + 1);
                        for (var k = 0; k < m.Argument; k++)
                        {
                            bytes.InsertRange(end + 1, line);
                        }
                    }

                    break;
            }
        }
    }

    private static class CodePages
    {
        static CodePages() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

        public static Encoding GetEncoding(int codePage) => Encoding.GetEncoding(codePage);
    }
}
