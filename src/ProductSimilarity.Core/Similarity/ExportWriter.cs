using System.Globalization;
using System.Text;
using System.Text.Json;
using Parquet;
using Parquet.Schema;
using ProductSimilarity.Core.Indexing;

namespace ProductSimilarity.Core.Similarity;

/// <summary>
/// Writes the chunks of a similarity export in one format. Each chunk is appended to a stream positioned at the end of
/// what was written before, and must leave a file that the next chunk can extend (see <see cref="SimilarityExporter"/>).
/// </summary>
/// <remarks>
/// <para>Every format carries, for each similar product: its 1-based <c>rank</c>, the fused <c>score</c> the API ranks
/// by, and the <c>vector_score</c> (cosine) and <c>keyword_score</c> (BM25) when that side found it, each rounded to 6
/// decimals as the API returns them.</para>
/// <para>Stateless; thread-safe.</para>
/// </remarks>
public abstract class ExportWriter
{
    private protected ExportWriter()
    {
    }

    /// <summary>The Parquet schema of an export: one row per pair, ordered by <c>product_id</c> (ordinal) then <c>rank</c>.</summary>
    public static ParquetSchema ParquetSchema { get; } = new(
        new DataField<string>("product_id", nullable: false),
        new DataField<int>("rank"),
        new DataField<string>("similar_id", nullable: false),
        new DataField<double>("score"),
        new DataField<double?>("vector_score"),
        new DataField<double?>("keyword_score"));

    /// <summary>The CSV header: the Parquet columns, in the same order.</summary>
    public const string CsvHeader = "product_id,rank,similar_id,score,vector_score,keyword_score";

    /// <summary>The writer for <paramref name="format"/>.</summary>
    public static ExportWriter For(ExportFormat format) => format switch
    {
        ExportFormat.Jsonl => new JsonLinesWriter(),
        ExportFormat.Csv => new CsvWriter(),
        ExportFormat.Parquet => new ParquetExportWriter(),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown export format"),
    };

    /// <summary>Writes what comes before the first chunk into an empty stream.</summary>
    public virtual Task WriteHeaderAsync(Stream stream, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Appends one chunk, in order. Returns the number of pairs written.</summary>
    public abstract Task<long> WriteChunkAsync(Stream stream, IReadOnlyList<ExportedProduct> products, CancellationToken cancellationToken);

    /// <summary>Finishes the file after the last chunk.</summary>
    public virtual Task CompleteAsync(Stream stream, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Scores are rounded to 6 decimals, as the API returns them.</summary>
    internal static double Round(double score) => Math.Round(score, 6);

    internal static double? Round(double? score) => score is { } v ? Round(v) : null;

    private static string Number(double value) => Round(value).ToString("R", CultureInfo.InvariantCulture);

    private sealed class JsonLinesWriter : ExportWriter
    {
        public override async Task<long> WriteChunkAsync(Stream stream, IReadOnlyList<ExportedProduct> products, CancellationToken cancellationToken)
        {
            long rows = 0;
            using var buffer = new MemoryStream();
            foreach (var product in products)
            {
                using (var json = new Utf8JsonWriter(buffer))
                {
                    json.WriteStartObject();
                    json.WriteString("id", product.Id);
                    json.WriteStartArray("similar");
                    var rank = 0;
                    foreach (var hit in product.Hits)
                    {
                        json.WriteStartObject();
                        json.WriteString("id", hit.Product.Id);
                        json.WriteNumber("rank", ++rank);
                        json.WriteNumber("score", Round(hit.Score));
                        WriteOptional(json, "vectorScore", hit.VectorScore);
                        WriteOptional(json, "keywordScore", hit.KeywordScore);
                        json.WriteEndObject();
                    }

                    json.WriteEndArray();
                    json.WriteEndObject();
                }

                buffer.WriteByte((byte)'\n');
                rows += product.Hits.Count;
            }

            buffer.Position = 0;
            await buffer.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
            return rows;
        }

        private static void WriteOptional(Utf8JsonWriter json, string name, double? value)
        {
            if (value is { } v)
            {
                json.WriteNumber(name, Round(v));
            }
        }
    }

    private sealed class CsvWriter : ExportWriter
    {
        public override async Task WriteHeaderAsync(Stream stream, CancellationToken cancellationToken) =>
            await stream.WriteAsync(Encoding.UTF8.GetBytes(CsvHeader + "\n"), cancellationToken).ConfigureAwait(false);

        public override async Task<long> WriteChunkAsync(Stream stream, IReadOnlyList<ExportedProduct> products, CancellationToken cancellationToken)
        {
            long rows = 0;
            var text = new StringBuilder();
            foreach (var product in products)
            {
                var rank = 0;
                foreach (var hit in product.Hits)
                {
                    text.Append(Quote(product.Id)).Append(',')
                        .Append((++rank).ToString(CultureInfo.InvariantCulture)).Append(',')
                        .Append(Quote(hit.Product.Id)).Append(',')
                        .Append(Number(hit.Score)).Append(',')
                        .Append(hit.VectorScore is { } vector ? Number(vector) : string.Empty).Append(',')
                        .Append(hit.KeywordScore is { } keyword ? Number(keyword) : string.Empty).Append('\n');
                    rows++;
                }
            }

            await stream.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), cancellationToken).ConfigureAwait(false);
            return rows;
        }

        /// <summary>RFC 4180 quoting, only where a field needs it.</summary>
        private static string Quote(string field) =>
            field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    private sealed class ParquetExportWriter : ExportWriter
    {
        public override async Task<long> WriteChunkAsync(Stream stream, IReadOnlyList<ExportedProduct> products, CancellationToken cancellationToken)
        {
            var rows = products.Sum(p => p.Hits.Count);
            if (rows == 0)
            {
                return 0;
            }

            var productIds = new string[rows];
            var ranks = new int[rows];
            var similarIds = new string[rows];
            var scores = new double[rows];
            var vectorScores = new double?[rows];
            var keywordScores = new double?[rows];
            var row = 0;
            foreach (var product in products)
            {
                var rank = 0;
                foreach (var hit in product.Hits)
                {
                    productIds[row] = product.Id;
                    ranks[row] = ++rank;
                    similarIds[row] = hit.Product.Id;
                    scores[row] = Round(hit.Score);
                    vectorScores[row] = Round(hit.VectorScore);
                    keywordScores[row] = Round(hit.KeywordScore);
                    row++;
                }
            }

            // One row group per chunk, and the writer closed after it: the file ends with a valid footer after every
            // chunk, and the next chunk opens it in append mode.
            var fields = ParquetSchema.DataFields;
            await using (var writer = await ParquetWriter.CreateAsync(ParquetSchema, stream, append: stream.Length > 0, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                using var group = writer.CreateRowGroup();
                await group.WriteAsync(fields[0], productIds).ConfigureAwait(false);
                await group.WriteAsync<int>(fields[1], ranks, cancellationToken: cancellationToken).ConfigureAwait(false);
                await group.WriteAsync(fields[2], similarIds).ConfigureAwait(false);
                await group.WriteAsync<double>(fields[3], scores, cancellationToken: cancellationToken).ConfigureAwait(false);
                await group.WriteAsync<double>(fields[4], vectorScores, cancellationToken: cancellationToken).ConfigureAwait(false);
                await group.WriteAsync<double>(fields[5], keywordScores, cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            return rows;
        }

        public override async Task CompleteAsync(Stream stream, CancellationToken cancellationToken)
        {
            if (stream.Length == 0)
            {
                // No pairs at all: still a valid Parquet file, with the schema and no row groups.
                await using var writer = await ParquetWriter.CreateAsync(ParquetSchema, stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
