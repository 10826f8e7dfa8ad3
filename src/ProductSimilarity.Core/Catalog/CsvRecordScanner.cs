using System.Buffers;

namespace ProductSimilarity.Core.Catalog;

/// <summary>What is wrong with a scanned CSV record.</summary>
internal enum CsvProblem
{
    None,

    /// <summary>Text after the closing quote of a quoted field (<c>"a"b</c>).</summary>
    TextAfterQuote,

    /// <summary>The input ended inside a quoted field that started on the record's only line.</summary>
    UnterminatedQuote,

    /// <summary>A quoted field ran over several lines and the record turned out malformed; the lines after the first were re-read.</summary>
    BrokenQuote,

    /// <summary>A field is longer than the raw field limit.</summary>
    FieldTooLong,

    /// <summary>The record is longer than the raw row limit.</summary>
    RowTooLong,
}

/// <summary>
/// Splits a CSV character stream into records (logical rows), tracking physical line numbers and recovering from
/// broken quotes, so that one bad row never swallows the good rows after it.
/// </summary>
/// <remarks>
/// <para>
/// Sep (like most CSV readers) treats every <c>"</c> as a quote toggle and, given an unterminated quote, returns the
/// whole rest of the file as one field of one row, without an error. So record boundaries are found here, with an
/// RFC 4180 state machine that is stricter about quotes: a quote opens a quoted field only at the start of a field
/// (after optional spaces), and a closing quote may only be followed by spaces, the delimiter or the end of the line
/// (else <see cref="CsvProblem.TextAfterQuote"/>). A quote inside an unquoted field (<c>Samsung 55" TV</c>) is text,
/// as in Python's csv module and Excel. The scanner also records where each field ends, so that a well-formed
/// record's fields are unescaped once, straight from its buffer (<see cref="RawField"/>, <see cref="Unescape"/>).
/// </para>
/// <para>
/// Re-synchronisation: a quoted field may legitimately span lines, so a record that does is kept while it is
/// well-formed. It is treated as a broken quote, reported at its first line and skipped, and reading resumes at the
/// physical line after its first line (the lines already consumed are pushed back and scanned again) when: the input
/// ends inside the quotes; the record is flagged as above; its column count differs from the header's; or it grows
/// past the raw field or row limit. An unterminated quote therefore costs at most one re-scan of
/// <see cref="CatalogReader.MaxRawFieldLength"/> characters.
/// </para>
/// <para>
/// Memory is bounded: a field longer than the field limit on the record's first line is counted but not stored
/// (the row is rejected with its length), and a record never stores more than the row limit.
/// </para>
/// <para>Not thread-safe.</para>
/// </remarks>
internal sealed class CsvRecordScanner(CatalogCharSource source, int maxFieldLength, int maxRowLength, char delimiter = ',')
{
    /// <summary>The longest raw field accepted, in characters.</summary>
    public int MaxFieldLength => maxFieldLength;

    /// <summary>The longest raw row accepted, in characters.</summary>
    public int MaxRowLength => maxRowLength;

    private static readonly SearchValues<char> InsideQuotes = SearchValues.Create("\"\r\n");

    private readonly SearchValues<char> _outsideQuotes = SearchValues.Create([delimiter, '"', '\r', '\n']);

    private enum State
    {
        FieldStart,
        Unquoted,
        Quoted,
        AfterQuote,
        AfterQuoteSpace,
    }

    private char[] _record = new char[4096];
    private int[] _fieldEnds = new int[32];
    private int _stored;
    private int _contentLength;
    private long _nextLine = 1;
    private bool _previousWasCarriageReturn;

    private State _state;
    private int _column;
    private long _fieldLength;
    private long _rowLength;
    private bool _started;
    private bool _discardField;
    private bool _discardRow;
    private int _firstLineEnd;
    private int _multiLineColumn;
    private int _idStart;
    private int _idEnd;
    private bool _resyncPending;

    /// <summary>The header's column count, once known; 0 disables the column-count check on multi-line records.</summary>
    public int ExpectedColumns { get; set; }

    /// <summary>The index of the id column, once known, so that rejected rows can still name their id.</summary>
    public int IdColumn { get; set; } = -1;

    /// <summary>1-based physical line where the current record starts.</summary>
    public long StartLine { get; private set; }

    /// <summary>How many columns the current record has (by this scanner's rules).</summary>
    public int ColumnCount { get; private set; }

    /// <summary>The first problem found in the current record.</summary>
    public CsvProblem Problem { get; private set; }

    /// <summary>The 0-based column of <see cref="Problem"/>, or -1 for the whole row.</summary>
    public int ProblemColumn { get; private set; }

    /// <summary>For <see cref="CsvProblem.FieldTooLong"/> and <see cref="CsvProblem.RowTooLong"/>: the length counted.</summary>
    public long ProblemLength { get; private set; }

    /// <summary>For <see cref="CsvProblem.FieldTooLong"/>: the over-long field was quoted and not closed on its line.</summary>
    public bool ProblemQuoteLeftOpen { get; private set; }

    /// <summary>The record's text without its line terminator (valid until the next read).</summary>
    public ReadOnlySpan<char> Content => _record.AsSpan(0, _contentLength);

    /// <summary>The field separator.</summary>
    public char Delimiter => delimiter;

    /// <summary>
    /// The raw text of field <paramref name="index"/> (quotes and escapes still in) of a record without a
    /// <see cref="Problem"/>; valid until the next read. <see cref="Unescape"/> turns it into the value.
    /// </summary>
    public ReadOnlySpan<char> RawField(int index)
    {
        var start = index == 0 ? 0 : _fieldEnds[index - 1] + 1;
        return _record.AsSpan(start, _fieldEnds[index] - start);
    }

    /// <summary>
    /// The value of a raw field from <see cref="RawField"/>: spaces and tabs around it are trimmed, and a quoted field
    /// loses its quotes and has its doubled quotes undone. A quote inside an unquoted field is kept as it is.
    /// </summary>
    public static string Unescape(ReadOnlySpan<char> raw)
    {
        raw = raw.Trim(" \t");
        if (raw.Length < 2 || raw[0] != '"' || raw[^1] != '"')
        {
            return raw.IsEmpty ? string.Empty : new string(raw);
        }

        var inner = raw[1..^1];
        var quote = inner.IndexOf('"');
        if (quote < 0)
        {
            return new string(inner);
        }

        // Each "" stands for one "; the scanner has checked that quotes inside come in pairs.
        var buffer = inner.Length <= 512 ? stackalloc char[inner.Length] : new char[inner.Length];
        var written = 0;
        for (var i = 0; i < inner.Length; i++)
        {
            buffer[written++] = inner[i];
            if (inner[i] == '"' && i + 1 < inner.Length && inner[i + 1] == '"')
            {
                i++;
            }
        }

        return new string(buffer[..written]);
    }

    /// <summary>Reads the next non-blank record.</summary>
    /// <returns><c>false</c> at the end of the input.</returns>
    public async ValueTask<bool> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Begin();
            while (true)
            {
                if (source.Available.IsEmpty && !await source.FillAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (!_started)
                    {
                        return false;
                    }

                    EndAtEndOfInput();
                    break;
                }

                if (Scan())
                {
                    break;
                }
            }

            if (Problem == CsvProblem.None && Content.Trim(" \t").IsEmpty)
            {
                continue; // blank line
            }

            return true;
        }
    }

    /// <summary>The id of a rejected record when its id column could be read; <c>null</c> otherwise.</summary>
    public string? TryGetId()
    {
        if (_idStart < 0 || _idEnd < _idStart || _idEnd > _contentLength)
        {
            return null;
        }

        var raw = _record.AsSpan(_idStart, _idEnd - _idStart).Trim(' ');
        if (raw.Length >= 2 && raw[0] == '"' && raw[^1] == '"')
        {
            raw = raw[1..^1];
        }

        var id = raw.ToString().Replace("\"\"", "\"", StringComparison.Ordinal).Trim();
        return id.Length == 0 || id.Length > CatalogLimits.MaxIdLength ? null : id;
    }

    private void Begin()
    {
        StartLine = _nextLine;
        _stored = 0;
        _contentLength = 0;
        _state = State.FieldStart;
        _column = 0;
        _fieldLength = 0;
        _rowLength = 0;
        _started = false;
        _discardField = false;
        _discardRow = false;
        _firstLineEnd = -1;
        _multiLineColumn = -1;
        _idStart = IdColumn == 0 ? 0 : -1;
        _idEnd = -1;
        _resyncPending = false;
        ColumnCount = 0;
        Problem = CsvProblem.None;
        ProblemColumn = -1;
        ProblemLength = 0;
        ProblemQuoteLeftOpen = false;
    }

    /// <summary>Consumes available characters; returns <c>true</c> when the record has ended.</summary>
    private bool Scan()
    {
        var span = source.Available;
        var i = 0;
        var done = false;
        while (i < span.Length && !done)
        {
            var c = span[i];
            if (_previousWasCarriageReturn)
            {
                _previousWasCarriageReturn = false;
                if (c == '\n')
                {
                    // Second half of a CRLF: part of a quoted field when the record goes on, else the previous terminator.
                    if (_started && !Take(span.Slice(i, 1)))
                    {
                        done = true;
                        break;
                    }

                    i++;
                    continue;
                }
            }

            _started = true;
            switch (_state)
            {
                case State.Quoted:
                    {
                        var run = RunLength(span[i..], InsideQuotes);
                        if (run > 0)
                        {
                            if (!Take(span.Slice(i, run)))
                            {
                                done = true;
                                break;
                            }

                            i += run;
                        }
                        else if (c == '"')
                        {
                            if (!Take(span.Slice(i, 1)))
                            {
                                done = true;
                                break;
                            }

                            i++;
                            _state = State.AfterQuote;
                        }
                        else if (_discardField || _discardRow)
                        {
                            // An over-long quoted field on the record's first line runs on to the next line: stop here and
                            // resume at the next line rather than swallowing more lines.
                            ProblemQuoteLeftOpen = true;
                            i++;
                            _previousWasCarriageReturn = c == '\r';
                            _nextLine++;
                            EndRecord(storeTerminator: null);
                            done = true;
                        }
                        else
                        {
                            if (!Take(span.Slice(i, 1)))
                            {
                                done = true;
                                break;
                            }

                            i++;
                            _previousWasCarriageReturn = c == '\r';
                            _nextLine++;
                            if (_firstLineEnd < 0)
                            {
                                _firstLineEnd = _stored;
                                _multiLineColumn = _column;
                            }
                        }

                        break;
                    }

                case State.Unquoted:
                    {
                        var run = RunLength(span[i..], _outsideQuotes);
                        if (run > 0)
                        {
                            if (!Take(span.Slice(i, run)))
                            {
                                done = true;
                                break;
                            }

                            i += run;
                        }
                        else if (c == '"')
                        {
                            // A quote inside an unquoted field (55" TV) is text, as in Python's csv and Excel.
                            if (!Take(span.Slice(i, 1)))
                            {
                                done = true;
                                break;
                            }

                            i++;
                        }
                        else
                        {
                            i++;
                            done = EndOfField(c);
                        }

                        break;
                    }

                case State.FieldStart:
                    if (c == '"' || c == ' ')
                    {
                        if (!Take(span.Slice(i, 1)))
                        {
                            done = true;
                            break;
                        }

                        i++;
                        _state = c == '"' ? State.Quoted : State.FieldStart;
                    }
                    else if (c == delimiter || c is '\r' or '\n')
                    {
                        i++;
                        done = EndOfField(c);
                    }
                    else
                    {
                        _state = State.Unquoted;
                    }

                    break;

                default: // AfterQuote, AfterQuoteSpace
                    if (c == delimiter || c is '\r' or '\n')
                    {
                        i++;
                        done = EndOfField(c);
                        break;
                    }

                    if (c == ' ')
                    {
                        _state = State.AfterQuoteSpace;
                    }
                    else if (c == '"' && _state == State.AfterQuote)
                    {
                        _state = State.Quoted; // an escaped quote ("")
                    }
                    else
                    {
                        SetProblem(CsvProblem.TextAfterQuote, _column);
                        _state = State.Unquoted;
                    }

                    if (!Take(span.Slice(i, 1)))
                    {
                        done = true;
                        break;
                    }

                    i++;
                    break;
            }
        }

        source.Advance(i);
        if (_resyncPending)
        {
            Resync();
        }

        return done;
    }

    private static int RunLength(ReadOnlySpan<char> span, SearchValues<char> stops)
    {
        var index = span.IndexOfAny(stops);
        return index < 0 ? span.Length : index;
    }

    /// <summary>Handles a delimiter or line break outside quotes; returns <c>true</c> when the record ended.</summary>
    private bool EndOfField(char c)
    {
        if (c == delimiter)
        {
            EndField();
            Store(c);
            _rowLength++;
            _column++;
            _fieldLength = 0;
            _discardField = false;
            _state = State.FieldStart;
            if (_column == IdColumn)
            {
                _idStart = _stored;
            }

            return false;
        }

        _previousWasCarriageReturn = c == '\r';
        _nextLine++;
        EndRecord(storeTerminator: c);
        return true;
    }

    /// <summary>Counts and (within the limits) stores characters; <c>false</c> aborts the record for re-synchronisation.</summary>
    private bool Take(ReadOnlySpan<char> chars)
    {
        _fieldLength += chars.Length;
        _rowLength += chars.Length;
        if (_fieldLength > maxFieldLength || _rowLength > maxRowLength)
        {
            if (_firstLineEnd >= 0)
            {
                // Past the first line nothing is dropped, so that the lines can be pushed back and read again.
                _contentLength = _stored;
                ColumnCount = _column + 1;
                Problem = CsvProblem.BrokenQuote;
                ProblemColumn = _multiLineColumn;
                _resyncPending = true;
                return false;
            }

            if (_fieldLength > maxFieldLength && !_discardField)
            {
                _discardField = true;
                SetProblem(CsvProblem.FieldTooLong, _column);
            }

            if (_rowLength > maxRowLength && !_discardRow)
            {
                _discardRow = true;
                SetProblem(CsvProblem.RowTooLong, -1);
            }
        }

        if (!_discardField && !_discardRow)
        {
            Store(chars);
        }

        return true;
    }

    private void Store(char c) => Store([c]);

    private void Store(ReadOnlySpan<char> chars)
    {
        if (_discardRow)
        {
            return;
        }

        if (_stored + chars.Length > _record.Length)
        {
            Array.Resize(ref _record, Math.Max(_stored + chars.Length, _record.Length * 2));
        }

        chars.CopyTo(_record.AsSpan(_stored));
        _stored += chars.Length;
    }

    private void EndField()
    {
        if (_column >= _fieldEnds.Length)
        {
            Array.Resize(ref _fieldEnds, _fieldEnds.Length * 2);
        }

        _fieldEnds[_column] = _stored;
        if (_column == IdColumn)
        {
            _idEnd = _discardField || _discardRow ? -1 : _stored;
        }

        if (Problem == CsvProblem.FieldTooLong && ProblemColumn == _column)
        {
            ProblemLength = _fieldLength;
        }
    }

    private void EndRecord(char? storeTerminator)
    {
        EndField();
        _contentLength = _stored;
        if (Problem == CsvProblem.RowTooLong)
        {
            ProblemLength = _rowLength;
        }

        if (storeTerminator is { } terminator)
        {
            Store(terminator); // kept (after the content) so that a re-synchronisation pushes back exact text
        }

        ColumnCount = _column + 1;
        CheckMultiLine();
    }

    private void EndAtEndOfInput()
    {
        if (_state == State.Quoted)
        {
            SetProblem(CsvProblem.UnterminatedQuote, _column);
        }

        EndRecord(storeTerminator: null);
        if (_resyncPending)
        {
            Resync();
        }
    }

    private void CheckMultiLine()
    {
        if (_firstLineEnd < 0)
        {
            return;
        }

        var quoteProblem = Problem is CsvProblem.TextAfterQuote or CsvProblem.UnterminatedQuote;
        if (quoteProblem || (ExpectedColumns > 0 && ColumnCount != ExpectedColumns))
        {
            Problem = CsvProblem.None;
            SetProblem(CsvProblem.BrokenQuote, _multiLineColumn);
            _resyncPending = true;
        }
    }

    private void SetProblem(CsvProblem problem, int problemColumn)
    {
        if (Problem == CsvProblem.None)
        {
            Problem = problem;
            ProblemColumn = problemColumn;
        }
    }

    /// <summary>Skips the record and makes the line after its first line the next one read.</summary>
    private void Resync()
    {
        _resyncPending = false;
        source.PushBack(_record.AsSpan(_firstLineEnd, _stored - _firstLineEnd));
        _previousWasCarriageReturn = _record[_firstLineEnd - 1] == '\r';
        _nextLine = StartLine + 1;
        _contentLength = Math.Min(_contentLength, _firstLineEnd);
    }
}
