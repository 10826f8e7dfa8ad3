using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Ingestion;

namespace ProductSimilarity.Api.Ingestion;

/// <summary>
/// Collects rejected rows as JSON Lines in a temporary file (deleted on dispose), then uploads the file as one blob.
/// A report of millions of rows therefore never sits in memory, and the blob appears whole or not at all.
/// </summary>
/// <remarks>Not thread-safe: one ingestion run writes to it, then calls <see cref="UploadAsync"/> once.</remarks>
public sealed class BlobRowErrorSink : IRowErrorSink, IAsyncDisposable
{
    private readonly FileStream _buffer;
    private readonly JsonLinesRowErrorSink _writer;
    private bool _writerClosed;

    /// <summary>Creates a sink buffering to a new temporary file.</summary>
    public BlobRowErrorSink()
    {
        var path = Path.Combine(Path.GetTempPath(), $"psim-errors-{Guid.NewGuid():N}.jsonl");
        _buffer = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024,
            FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        _writer = new JsonLinesRowErrorSink(new NonClosingStream(_buffer));
    }

    /// <summary>Rows written so far.</summary>
    public long Count => _writer.Count;

    /// <inheritdoc/>
    public ValueTask WriteAsync(RowError error, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_writerClosed, this);
        return _writer.WriteAsync(error, cancellationToken);
    }

    /// <summary>
    /// Uploads the report to <paramref name="target"/> when rows were rejected, or deletes a stale report there when
    /// none were (so the report always belongs to the latest run). Returns true when a report was uploaded.
    /// </summary>
    public async Task<bool> UploadAsync(BlobClient target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (!_writerClosed)
        {
            await _writer.DisposeAsync().ConfigureAwait(false); // flushes into the file
            _writerClosed = true;
        }

        if (Count == 0)
        {
            await target.DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return false;
        }

        _buffer.Position = 0;
        await target.UploadAsync(_buffer, new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/x-ndjson; charset=utf-8" },
        }, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (!_writerClosed)
        {
            await _writer.DisposeAsync().ConfigureAwait(false);
            _writerClosed = true;
        }

        await _buffer.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Keeps the temporary file open when the JSON Lines writer is disposed, so it can be uploaded.</summary>
    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => throw new NotSupportedException();
        }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            inner.WriteAsync(buffer, offset, count, cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Flush();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.FlushAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }
}
