namespace ProductSimilarity.Core.Catalog;

/// <summary>
/// A forward-only window of decoded characters over a <see cref="TextReader"/>, with push-back (used by the CSV scanner to
/// re-read the lines after a broken quote) and bounded line reading (used for JSON Lines).
/// </summary>
/// <remarks>
/// Holds at most one buffer of characters (64 K, or the pushed-back text when larger), so files of any size stream.
/// Not thread-safe.
/// </remarks>
internal sealed class CatalogCharSource(TextReader reader, string file)
{
    private const int BufferSize = 64 * 1024;

    private char[] _buffer = new char[BufferSize];
    private int _position;
    private int _length;
    private char[] _line = new char[1024];
    private bool _previousWasCarriageReturn;

    /// <summary>The characters read but not yet consumed.</summary>
    public ReadOnlySpan<char> Available => _buffer.AsSpan(_position, _length - _position);

    /// <summary>The last line read by <see cref="ReadLineAsync"/> (at most the requested number of characters).</summary>
    public ReadOnlyMemory<char> Line { get; private set; }

    /// <summary>The full length of the last line read, which is more than <see cref="Line"/>'s when the line was cut.</summary>
    public long LineLength { get; private set; }

    /// <summary>Marks <paramref name="count"/> characters of <see cref="Available"/> as consumed.</summary>
    public void Advance(int count) => _position += count;

    /// <summary>Reads more characters when none are available.</summary>
    /// <returns><c>false</c> at the end of the input.</returns>
    public async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_position < _length)
        {
            return true;
        }

        if (_buffer.Length > BufferSize)
        {
            // A large push-back has been consumed; go back to the normal buffer size.
            _buffer = new char[BufferSize];
        }

        _position = 0;
        try
        {
            _length = await reader.ReadAsync(_buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            // GZipStream reports corrupt or truncated compressed data this way.
            throw new CatalogFormatException(file, 0, "the compressed data is corrupt: " + ex.Message, ex);
        }

        return _length > 0;
    }

    /// <summary>Puts <paramref name="text"/> back in front of the characters not yet consumed.</summary>
    public void PushBack(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return;
        }

        var remaining = _length - _position;
        var combined = new char[Math.Max(BufferSize, text.Length + remaining)];
        text.CopyTo(combined);
        _buffer.AsSpan(_position, remaining).CopyTo(combined.AsSpan(text.Length));
        _buffer = combined;
        _position = 0;
        _length = text.Length + remaining;
    }

    /// <summary>
    /// Reads one physical line (ended by <c>\n</c>, <c>\r\n</c> or <c>\r</c>) into <see cref="Line"/>, keeping at most
    /// <paramref name="maxChars"/> characters; the rest of a longer line is skipped but counted in <see cref="LineLength"/>.
    /// </summary>
    /// <returns><c>false</c> at the end of the input.</returns>
    /// <param name="maxChars">How many characters of the line to keep.</param>
    /// <param name="overflow">When the line is longer than <paramref name="maxChars"/>, sees all of it (kept part first).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public async ValueTask<bool> ReadLineAsync(int maxChars, ILineOverflowObserver? overflow, CancellationToken cancellationToken)
    {
        var kept = 0;
        long total = 0;
        var any = false;
        while (true)
        {
            if (!await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                Line = _line.AsMemory(0, kept);
                LineLength = total;
                return any;
            }

            var span = Available;
            if (_previousWasCarriageReturn)
            {
                _previousWasCarriageReturn = false;
                if (span[0] == '\n')
                {
                    Advance(1);
                    continue;
                }
            }

            any = true;
            var end = span.IndexOfAny('\r', '\n');
            var run = end < 0 ? span.Length : end;
            var keep = (int)Math.Min(run, Math.Max(0, maxChars - kept));
            if (keep > 0)
            {
                if (kept + keep > _line.Length)
                {
                    Array.Resize(ref _line, Math.Max(kept + keep, Math.Min(maxChars, _line.Length * 2)));
                }

                span[..keep].CopyTo(_line.AsSpan(kept));
                kept += keep;
            }

            if (overflow is not null && total + run > maxChars)
            {
                if (total <= maxChars)
                {
                    overflow.Observe(_line.AsSpan(0, kept - keep)); // the part kept before this run
                }

                overflow.Observe(span[..run]);
            }

            total += run;
            if (end < 0)
            {
                Advance(run);
                continue;
            }

            _previousWasCarriageReturn = span[end] == '\r';
            Advance(end + 1);
            Line = _line.AsMemory(0, kept);
            LineLength = total;
            return true;
        }
    }
}
