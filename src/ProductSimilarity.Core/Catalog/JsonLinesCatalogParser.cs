using System.Runtime.CompilerServices;
using System.Text.Json;

namespace ProductSimilarity.Core.Catalog;

/// <summary>
/// Reads a JSON Lines catalog: one object per physical line, parsed with <see cref="JsonDocument"/>. Blank lines are
/// skipped; a line that is not valid JSON, or not an object, is a row error and reading goes on with the next line.
/// </summary>
/// <remarks>
/// Strings, numbers and booleans are accepted for every field (numbers keep their JSON text, so <c>"id": 42</c> is the id
/// <c>42</c>); <c>null</c> is the same as absent; objects and arrays are only accepted as attributes, kept as raw JSON
/// text. A line longer than <see cref="CatalogReadOptions.MaxRowLength"/> characters is rejected without being kept in
/// memory; <see cref="JsonLineProbe"/> watches it stream past so the error can still name an over-long top-level field
/// and its length. Stateless; thread-safe.
/// </remarks>
internal static class JsonLinesCatalogParser
{
    public static async IAsyncEnumerable<CatalogRow> ReadAsync(
        CatalogCharSource source, string file, CatalogReadOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var builder = new ProductRowBuilder(file, options.PriceCulture);
        var limits = (Field: options.MaxFieldLength, Row: options.MaxRowLength);
        var raw = new RawRow();
        var names = new List<string>();
        long line = 0;
        var sawContent = false;
        var probe = new JsonLineProbe(limits.Field);
        while (await source.ReadLineAsync(limits.Row, probe, cancellationToken).ConfigureAwait(false))
        {
            line++;
            cancellationToken.ThrowIfCancellationRequested();
            if (source.LineLength > limits.Row)
            {
                sawContent = true;
                yield return TooLong(line, builder, probe, source.LineLength, limits);
                probe.Reset();
                continue;
            }

            if (source.Line.Span.IsWhiteSpace())
            {
                continue;
            }

            sawContent = true;
            yield return ParseLine(source.Line, line, builder, raw, names, limits.Field);
        }

        if (!sawContent)
        {
            throw new CatalogFormatException(file, 0, "file is empty");
        }
    }

    /// <summary>A line too long to parse: names the over-long field when the probe found one.</summary>
    private static CatalogRow TooLong(long line, ProductRowBuilder builder, JsonLineProbe probe, long lineLength, (int Field, int Row) limits)
    {
        if (probe.Field is { } name)
        {
            var field = CatalogFields.Resolve([name])[0] is { } known ? CatalogFields.NameOf(known) : name;
            return builder.Error(line, field, FormattableString.Invariant(
                $"field is {probe.FieldLength:N0} characters long; the limit is {limits.Field:N0}"), probe.Id);
        }

        return builder.Error(line, null, FormattableString.Invariant(
            $"line is {lineLength:N0} characters long; the limit is {limits.Row:N0}"), probe.Id);
    }

    private static CatalogRow ParseLine(ReadOnlyMemory<char> text, long line, ProductRowBuilder builder, RawRow raw, List<string> names, int maxFieldLength)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException ex)
        {
            return builder.Error(line, null, "invalid JSON: " + ex.Message);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return builder.Error(line, null, $"expected a JSON object, found {root.ValueKind.ToString().ToLowerInvariant()}");
            }

            raw.Clear();
            names.Clear();
            foreach (var property in root.EnumerateObject())
            {
                names.Add(property.Name);
            }

            var roles = CatalogFields.Resolve(names);
            var duplicate = FindDuplicate(names);
            string? errorField = null;
            string? errorReason = null;
            var index = 0;
            foreach (var property in root.EnumerateObject())
            {
                var role = roles[index];
                var name = role is { } known ? CatalogFields.NameOf(known) : property.Name;
                if (errorReason is null && index == duplicate.Index)
                {
                    var first = roles[duplicate.First] is { } firstField ? CatalogFields.NameOf(firstField) : names[duplicate.First];
                    (errorField, errorReason) = (first, $"property '{property.Name}' appears more than once");
                }

                index++;
                var value = property.Value;
                string? textValue;
                switch (value.ValueKind)
                {
                    case JsonValueKind.String:
                        textValue = value.GetString();
                        break;
                    case JsonValueKind.Number:
                        textValue = value.GetRawText();
                        break;
                    case JsonValueKind.True:
                        textValue = "true";
                        break;
                    case JsonValueKind.False:
                        textValue = "false";
                        break;
                    case JsonValueKind.Object or JsonValueKind.Array when role is null:
                        textValue = value.GetRawText();
                        break;
                    case JsonValueKind.Object or JsonValueKind.Array:
                        textValue = null;
                        if (errorReason is null)
                        {
                            (errorField, errorReason) = (name, $"expected a string, number or boolean, found {value.ValueKind.ToString().ToLowerInvariant()}");
                        }

                        break;
                    default:
                        textValue = null;
                        break;
                }

                if (textValue is null)
                {
                    continue;
                }

                if (textValue.Length > maxFieldLength && errorReason is null)
                {
                    (errorField, errorReason) = (name, FormattableString.Invariant(
                        $"field is {textValue.Length:N0} characters long; the limit is {maxFieldLength:N0}"));
                    continue;
                }

                if (role is { } field)
                {
                    raw.Values[(int)field] = textValue;
                }
                else if (!string.IsNullOrWhiteSpace(textValue))
                {
                    raw.Attributes.Add(new(property.Name, textValue));
                }
            }

            if (errorReason is not null)
            {
                var id = raw.Values[(int)CatalogField.Id]?.Trim();
                return builder.Error(line, errorField, errorReason, string.IsNullOrEmpty(id) || id.Length > CatalogLimits.MaxIdLength ? null : id);
            }

            return builder.Build(line, raw);
        }
    }

    /// <summary>The first property whose name (ignoring case) appeared before it, and that earlier one; (-1, -1) when none.</summary>
    private static (int Index, int First) FindDuplicate(List<string> names)
    {
        if (names.Count <= 16)
        {
            for (var i = 1; i < names.Count; i++)
            {
                for (var j = 0; j < i; j++)
                {
                    if (string.Equals(names[i], names[j], StringComparison.OrdinalIgnoreCase))
                    {
                        return (i, j);
                    }
                }
            }

            return (-1, -1);
        }

        var seen = new Dictionary<string, int>(names.Count, StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < names.Count; i++)
        {
            if (!seen.TryAdd(names[i], i))
            {
                return (i, seen[names[i]]);
            }
        }

        return (-1, -1);
    }
}
