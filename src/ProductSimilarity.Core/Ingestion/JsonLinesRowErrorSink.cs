using System.Text;
using System.Text.Json;
using ProductSimilarity.Core.Catalog;

namespace ProductSimilarity.Core.Ingestion;

/// <summary>
/// Writes rejected rows as JSON Lines: <c>{"file","line","field","reason","id"}</c>, one per line, plus <c>"sheet"</c>
/// for a spreadsheet and <c>"severity":"warning"</c> for a problem that did not reject its row.
/// </summary>
/// <remarks>Not thread-safe; one ingestion run writes to it.</remarks>
public sealed class JsonLinesRowErrorSink(Stream output) : IRowErrorSink, IAsyncDisposable
{
    private readonly StreamWriter _writer = new(output, new UTF8Encoding(false), 64 * 1024);

    /// <summary>Number of rows written.</summary>
    public long Count { get; private set; }

    /// <inheritdoc/>
    public async ValueTask WriteAsync(RowError error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(error);
        var line = JsonSerializer.Serialize(new RowErrorRecord(error.File, error.Line, error.Field, error.Reason, error.Id, error.Sheet, error.IsWarning ? "warning" : null), RowErrorJson.Options);
        await _writer.WriteLineAsync(line.AsMemory(), cancellationToken).ConfigureAwait(false);
        Count++;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _writer.FlushAsync().ConfigureAwait(false);
        await _writer.DisposeAsync().ConfigureAwait(false);
    }

    private sealed record RowErrorRecord(string File, long Line, string? Field, string Reason, string? Id, string? Sheet, string? Severity);
}

/// <summary>JSON settings for error reports and status documents: camelCase, nulls omitted.</summary>
public static class RowErrorJson
{
    /// <summary>The shared options.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };
}

/// <summary>Collects rejected rows in memory (tests, small catalogs).</summary>
/// <remarks>Not thread-safe.</remarks>
public sealed class ListRowErrorSink : IRowErrorSink
{
    /// <summary>The rows collected.</summary>
    public List<RowError> Errors { get; } = [];

    /// <inheritdoc/>
    public ValueTask WriteAsync(RowError error, CancellationToken cancellationToken = default)
    {
        Errors.Add(error);
        return ValueTask.CompletedTask;
    }
}
