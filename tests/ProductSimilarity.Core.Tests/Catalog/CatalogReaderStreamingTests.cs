using System.Globalization;
using System.Text;
using ProductSimilarity.Core.Catalog;

namespace ProductSimilarity.Core.Tests.Catalog;

public sealed class CatalogReaderStreamingTests
{
    private const int RowCount = 50_000;

    [Theory]
    [InlineData("catalog.csv")]
    [InlineData("catalog.jsonl")]
    public async Task ReadAsync_LazyNonSeekableStream_YieldsRowsBeforeTheStreamIsExhausted(string fileName)
    {
        var csv = fileName.EndsWith(".csv", StringComparison.Ordinal);
        using var stream = new GeneratingStream(RowCount, csv);
        var reader = new CatalogReader();
        var count = 0;
        var rowsProducedAtFirstYield = -1;

        await foreach (var row in reader.ReadAsync(stream, fileName))
        {
            if (count == 0)
            {
                rowsProducedAtFirstYield = stream.RowsProduced;
            }

            Assert.False(row.IsError, row.Error?.ToString());
            Assert.Equal(count.ToString(CultureInfo.InvariantCulture), row.Product!.Id);
            count++;
        }

        Assert.Equal(RowCount, count);
        Assert.Equal(RowCount, stream.RowsProduced);
        // Only a small window (decoder buffer plus one parse chunk) had been generated when the first row came out.
        Assert.InRange(rowsProducedAtFirstYield, 1, 5_000);
    }

    /// <summary>A forward-only stream that writes catalog rows only when they are read.</summary>
    private sealed class GeneratingStream(int rows, bool csv) : Stream
    {
        private byte[] _pending = csv ? Encoding.UTF8.GetBytes("id,title,description,price,colour\n") : [];
        private int _offset;

        public int RowsProduced { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            while (_offset == _pending.Length)
            {
                if (RowsProduced == rows)
                {
                    return 0;
                }

                var i = RowsProduced++;
                var line = csv
                    ? FormattableString.Invariant($"{i},\"Product {i}, size {i % 10}\",Description for product {i},{i % 100}.99,red\n")
                    : FormattableString.Invariant($"{{\"id\":\"{i}\",\"title\":\"Product {i}\",\"price\":{i % 100}.99,\"colour\":\"red\"}}\n");
                _pending = Encoding.UTF8.GetBytes(line);
                _offset = 0;
            }

            var n = Math.Min(buffer.Length, _pending.Length - _offset);
            _pending.AsSpan(_offset, n).CopyTo(buffer);
            _offset += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
