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

    private readonly StringBuilder key = new();
    private readonly StringBuilder idValue = new();
    private int depth;
    private bool inString;
    private bool escaped;
    private bool stringIsKey;
    private bool expectingKey;
    private bool capturingId;
    private long stringLength;
    private string? currentKey;

    /// <summary>The first top-level property whose string value is longer than the limit, or <c>null</c>.</summary>
    public string? Field { get; private set; }

    /// <summary>The length of <see cref="Field"/>'s value.</summary>
    public long FieldLength { get; private set; }

    /// <summary>The top-level <c>id</c> string value, when short enough to be one.</summary>
    public string? Id { get; private set; }

    public void Reset()
    {
        key.Clear();
        idValue.Clear();
        depth = 0;
        inString = escaped = stringIsKey = expectingKey = capturingId = false;
        stringLength = 0;
        currentKey = null;
        Field = null;
        FieldLength = 0;
        Id = null;
    }

    public void Observe(ReadOnlySpan<char> chars)
    {
        foreach (var c in chars)
        {
            if (inString)
            {
                if (escaped)
                {
                    escaped = false;
                }
                else if (c == '\\')
                {
                    escaped = true;
                }
                else if (c == '"')
                {
                    EndString();
                    continue;
                }

                stringLength++;
                if (stringIsKey && key.Length < MaxKeyLength)
                {
                    key.Append(c);
                }
                else if (capturingId && idValue.Length <= CatalogLimits.MaxIdLength)
                {
                    idValue.Append(c);
                }

                continue;
            }

            switch (c)
            {
                case '"':
                    inString = true;
                    stringLength = 0;
                    stringIsKey = depth == 1 && expectingKey;
                    capturingId = !stringIsKey && depth == 1 && string.Equals(currentKey, "id", StringComparison.OrdinalIgnoreCase);
                    if (stringIsKey)
                    {
                        key.Clear();
                    }

                    break;
                case '{' or '[':
                    depth++;
                    expectingKey = depth == 1 && c == '{';
                    break;
                case '}' or ']':
                    depth--;
                    break;
                case ':' when depth == 1:
                    expectingKey = false;
                    break;
                case ',' when depth == 1:
                    expectingKey = true;
                    break;
                default:
                    break;
            }
        }
    }

    private void EndString()
    {
        inString = false;
        if (stringIsKey)
        {
            currentKey = key.ToString();
            return;
        }

        if (depth == 1 && Field is null && stringLength > maxFieldLength)
        {
            Field = currentKey;
            FieldLength = stringLength;
        }

        if (capturingId && idValue.Length is > 0 and <= CatalogLimits.MaxIdLength)
        {
            Id = idValue.ToString().Trim();
        }

        capturingId = false;
    }
}
