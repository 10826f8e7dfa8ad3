namespace ProductSimilarity.Core.Ingestion;

/// <summary>
/// A read-only pass-through stream that counts the bytes read, for progress reporting, and optionally fails with
/// <c>overLimit</c>'s exception once more than <c>limit</c> bytes have been read (the catalog size limit).
/// </summary>
/// <remarks>Not thread-safe, like the stream it wraps.</remarks>
internal sealed class CountingStream(Stream inner, long limit = long.MaxValue, Func<Exception>? overLimit = null) : Stream
{
    public long BytesRead { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => inner.Length;

    public override long Position
    {
        get => BytesRead;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private int Count(int read)
    {
        BytesRead += read;
        return BytesRead > limit && overLimit is not null ? throw overLimit() : read;
    }
}
