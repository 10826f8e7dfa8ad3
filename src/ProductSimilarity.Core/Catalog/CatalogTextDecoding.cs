using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.Unicode;

namespace ProductSimilarity.Core.Catalog;

/// <summary>Encoding detection and the decompressed-size bound, applied where the catalog stream becomes text.</summary>
/// <remarks>Stateless; thread-safe.</remarks>
internal static class CatalogTextDecoding
{
    /// <summary>How many leading bytes are examined to tell UTF-8 from GBK.</summary>
    internal const int SniffBytes = 64 * 1024;

    static CatalogTextDecoding() => System.Text.Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>The encoding named <paramref name="name"/>, with the code-page encodings available.</summary>
    /// <exception cref="CatalogFormatException">The name is not an encoding .NET knows.</exception>
    public static Encoding Resolve(string name, string file)
    {
        try
        {
            var encoding = int.TryParse(name, out var codePage)
                ? System.Text.Encoding.GetEncoding(codePage)
                : System.Text.Encoding.GetEncoding(name.Trim());
            return encoding.CodePage == 65001
                ? new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false)
                : encoding;
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
        {
            throw new CatalogFormatException(file, 0, $"unknown text encoding '{name}'; use a name such as utf-8, gbk, gb18030, big5 or windows-1252", ex);
        }
    }

    /// <summary>
    /// Returns the stream to decode (the bytes examined are replayed in front) and its encoding. Without an explicit
    /// encoding, a file with no byte order mark whose first 64 KB are not UTF-8 but decode cleanly as GB18030 with
    /// Chinese characters is refused as a whole, with one message, rather than rejected row by row.
    /// </summary>
    /// <exception cref="CatalogFormatException">The file looks like GBK and no encoding was given.</exception>
    public static async Task<(Stream Stream, Encoding Encoding)> PrepareAsync(
        Stream input, string file, CatalogReadOptions options, CancellationToken cancellationToken)
    {
        if (options.Encoding is { Length: > 0 } name)
        {
            return (input, Resolve(name, file));
        }

        var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);
        var prefix = new byte[SniffBytes];
        var length = 0;
        while (length < prefix.Length)
        {
            var read = await input.ReadAsync(prefix.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            length += read;
        }

        var replay = new PrefixedStream(prefix.AsMemory(0, length), input);
        if (LooksLikeGbk(prefix.AsSpan(0, length), atEnd: length < prefix.Length))
        {
            throw new CatalogFormatException(file, 0,
                "this file is not UTF-8; it looks like GBK; re-save it as UTF-8 or pass `--encoding gbk` (ProductSimilarity:Ingestion:Encoding)");
        }

        return (replay, utf8);
    }

    /// <summary>True when the bytes have no BOM, are mostly not valid UTF-8, and decode as GB18030 into Chinese text.</summary>
    internal static bool LooksLikeGbk(ReadOnlySpan<byte> bytes, bool atEnd)
    {
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) || bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE])
            || bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            return false;
        }

        if (!atEnd)
        {
            // Do not judge a multi-byte character cut by the end of the sample.
            var cut = bytes.Length;
            while (cut > 0 && bytes.Length - cut < 4 && bytes[cut - 1] >= 0x80)
            {
                cut--;
            }

            bytes = bytes[..cut];
        }

        if (Utf8.IsValid(bytes))
        {
            return false;
        }

        // A UTF-8 file with a few damaged bytes still has mostly valid multi-byte characters; a GBK file has almost none.
        var valid = 0;
        var invalid = 0;
        for (var i = 0; i < bytes.Length;)
        {
            if (bytes[i] < 0x80)
            {
                i++;
                continue;
            }

            var status = Rune.DecodeFromUtf8(bytes[i..], out _, out var consumed);
            if (status == System.Buffers.OperationStatus.Done)
            {
                valid++;
            }
            else
            {
                invalid++;
            }

            i += Math.Max(consumed, 1);
        }

        if (valid * 4 >= invalid)
        {
            return false;
        }

        var gb18030 = System.Text.Encoding.GetEncoding(54936, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);
        string text;
        try
        {
            text = gb18030.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        var han = 0;
        foreach (var c in text)
        {
            if (c is >= '\u4E00' and <= '\u9FFF')
            {
                han++;
            }
        }

        return han >= 2;
    }

    /// <summary>
    /// Decompresses gzip <paramref name="raw"/> (left open), refusing the file when it inflates past
    /// <paramref name="limit"/> bytes (a gzip bomb), when the data is corrupt, or when it ends before the gzip trailer
    /// (a truncated upload, which .NET's <see cref="GZipStream"/> otherwise reports as a normal end).
    /// </summary>
    /// <remarks>
    /// Truncation is detected by comparing the trailer's ISIZE (decompressed length modulo 2^32) with the bytes
    /// produced, so a multi-member gzip file (several members concatenated, as bgzip writes) is checked against its last
    /// member only and is refused; recompress such a file as one member.
    /// </remarks>
    public static Stream OpenGzip(Stream raw, long limit, string file) => new GzipInput(raw, limit, file);

    /// <summary>Replays a buffered prefix, then the rest of the inner stream. Forward-only.</summary>
    private sealed class PrefixedStream(ReadOnlyMemory<byte> prefix, Stream inner) : ReadOnlyForwardStream
    {
        private ReadOnlyMemory<byte> _prefix = prefix;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (!_prefix.IsEmpty)
            {
                var n = Math.Min(buffer.Length, _prefix.Length);
                _prefix.Span[..n].CopyTo(buffer);
                _prefix = _prefix[n..];
                return n;
            }

            return inner.Read(buffer);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!_prefix.IsEmpty)
            {
                return Read(buffer.Span);
            }

            return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Remembers the last eight bytes read from the compressed input: the gzip trailer once it is all read.</summary>
    private sealed class TailStream(Stream inner) : ReadOnlyForwardStream
    {
        private readonly byte[] _tail = new byte[8];

        public int TailLength { get; private set; }

        public long TrailerSize => TailLength < 8 ? -1 : BinaryPrimitives.ReadUInt32LittleEndian(_tail.AsSpan(4));

        public override int Read(byte[] buffer, int offset, int count) => Record(buffer.AsSpan(offset, inner.Read(buffer, offset, count)));

        public override int Read(Span<byte> buffer) => Record(buffer[..inner.Read(buffer)]);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            return Record(buffer.Span[..n]);
        }

        private int Record(ReadOnlySpan<byte> read)
        {
            if (read.Length >= 8)
            {
                read[^8..].CopyTo(_tail);
                TailLength = 8;
            }
            else if (read.Length > 0)
            {
                var keep = Math.Min(TailLength, 8 - read.Length);
                _tail.AsSpan(TailLength - keep, keep).CopyTo(_tail);
                read.CopyTo(_tail.AsSpan(keep));
                TailLength = keep + read.Length;
            }

            return read.Length;
        }
    }

    private sealed class GzipInput : ReadOnlyForwardStream
    {
        private readonly TailStream _compressed;
        private readonly GZipStream _gzip;
        private readonly long _limit;
        private readonly string _file;
        private long _total;

        public GzipInput(Stream raw, long limit, string file)
        {
            _compressed = new TailStream(raw);
            _gzip = new GZipStream(_compressed, CompressionMode.Decompress, leaveOpen: true);
            _limit = limit;
            _file = file;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            try
            {
                return Check(_gzip.Read(buffer), buffer.Length);
            }
            catch (InvalidDataException ex)
            {
                throw Corrupt(ex);
            }
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return Check(await _gzip.ReadAsync(buffer, cancellationToken).ConfigureAwait(false), buffer.Length);
            }
            catch (InvalidDataException ex)
            {
                throw Corrupt(ex);
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _gzip.Dispose();
            }

            base.Dispose(disposing);
        }

        private CatalogFormatException Corrupt(Exception ex) =>
            new(_file, 0, "the compressed data is corrupt: " + ex.Message, ex);

        private int Check(int read, int requested)
        {
            _total += read;
            if (_total > _limit)
            {
                throw new CatalogFormatException(_file, 0,
                    $"the catalog decompresses to more than {_limit:N0} bytes (ProductSimilarity:Ingestion:MaxDecompressedBytes); the file was refused");
            }

            if (read == 0 && requested > 0 && _compressed.TailLength > 0 && _compressed.TrailerSize != (_total & uint.MaxValue))
            {
                throw new CatalogFormatException(_file, 0,
                    $"the compressed data ends early after {_total:N0} decompressed bytes (a truncated or damaged gzip file); upload it again");
            }

            return read;
        }
    }

    private abstract class ReadOnlyForwardStream : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
