using System.Text;

namespace ProductSimilarity.Core.Catalog;

/// <summary>Receives the characters of a line too long to keep, as they stream past.</summary>
internal interface ILineOverflowObserver
{
    void Observe(ReadOnlySpan<char> chars);
}

/// <summary>
/// Scans a JSON Lines line that is too long to parse, without keeping it, to find the top-level string property that
/// makes it too long (so the row error can name the field and its length) and the row's id.
/// </summary>
/// <remarks>
/// Only tracks the structure it needs: nesting depth, strings, escapes, and top-level keys. Lengths are raw JSON
/// characters (an escape such as <c>\n</c> counts as two). Not thread-safe; <see cref="Reset"/> between lines.
/// </remarks>
internal sealed class JsonLineProbe(int maxFieldLength) : ILineOverflowObserver
{
    private const int MaxKeyLength = 256;

    private readonly StringBuilder _key = new();
    private readonly StringBuilder _idValue = new();
    private int _depth;
    private bool _inString;
    private bool _escaped;
    private bool _stringIsKey;
    private bool _expectingKey;
    private bool _capturingId;
    private long _stringLength;
    private string? _currentKey;

    /// <summary>The first top-level property whose string value is longer than the limit, or <c>null</c>.</summary>
    public string? Field { get; private set; }

    /// <summary>The length of <see cref="Field"/>'s value.</summary>
    public long FieldLength { get; private set; }

    /// <summary>The top-level <c>id</c> string value, when short enough to be one.</summary>
    public string? Id { get; private set; }

    public void Reset()
    {
        _key.Clear();
        _idValue.Clear();
        _depth = 0;
        _inString = _escaped = _stringIsKey = _expectingKey = _capturingId = false;
        _stringLength = 0;
        _currentKey = null;
        Field = null;
        FieldLength = 0;
        Id = null;
    }

    public void Observe(ReadOnlySpan<char> chars)
    {
        foreach (var c in chars)
        {
            if (_inString)
            {
                if (_escaped)
                {
                    _escaped = false;
                }
                else if (c == '\\')
                {
                    _escaped = true;
                }
                else if (c == '"')
                {
                    EndString();
                    continue;
                }

                _stringLength++;
                if (_stringIsKey && _key.Length < MaxKeyLength)
                {
                    _key.Append(c);
                }
                else if (_capturingId && _idValue.Length <= CatalogLimits.MaxIdLength)
                {
                    _idValue.Append(c);
                }

                continue;
            }

            switch (c)
            {
                case '"':
                    _inString = true;
                    _stringLength = 0;
                    _stringIsKey = _depth == 1 && _expectingKey;
                    _capturingId = !_stringIsKey && _depth == 1 && string.Equals(_currentKey, "id", StringComparison.OrdinalIgnoreCase);
                    if (_stringIsKey)
                    {
                        _key.Clear();
                    }

                    break;
                case '{' or '[':
                    _depth++;
                    _expectingKey = _depth == 1 && c == '{';
                    break;
                case '}' or ']':
                    _depth--;
                    break;
                case ':' when _depth == 1:
                    _expectingKey = false;
                    break;
                case ',' when _depth == 1:
                    _expectingKey = true;
                    break;
                default:
                    break;
            }
        }
    }

    private void EndString()
    {
        _inString = false;
        if (_stringIsKey)
        {
            _currentKey = _key.ToString();
            return;
        }

        if (_depth == 1 && Field is null && _stringLength > maxFieldLength)
        {
            Field = _currentKey;
            FieldLength = _stringLength;
        }

        if (_capturingId && _idValue.Length is > 0 and <= CatalogLimits.MaxIdLength)
        {
            Id = _idValue.ToString().Trim();
        }

        _capturingId = false;
    }
}
