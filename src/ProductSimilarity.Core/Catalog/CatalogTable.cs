namespace ProductSimilarity.Core.Catalog;

/// <summary>
/// A table's header (CSV, TSV, xlsx): its column names and what each maps to, through the generic field names (with
/// the column map) or a platform layout. Shared by the CSV and spreadsheet readers, so that both apply the same rules.
/// </summary>
/// <remarks>One instance per file (a platform layout remembers earlier rows). Not thread-safe.</remarks>
internal sealed class CatalogTable
{
    private readonly TableRecordView? _view;

    private CatalogTable(string[] names, CatalogField?[] roles, PlatformLayout? layout, TableRecordView? view)
    {
        Names = names;
        Roles = roles;
        Layout = layout;
        _view = view;
        IdColumn = layout is null ? Array.IndexOf(roles, CatalogField.Id) : view!.IndexOf(layout.IdKey);
    }

    /// <summary>The column names, trimmed; a blank one is named <c>column N</c>.</summary>
    public string[] Names { get; }

    /// <summary>The field of each column under the generic layout; all <c>null</c> under a platform layout.</summary>
    public CatalogField?[] Roles { get; }

    /// <summary>The platform layout, or <c>null</c> for the generic one.</summary>
    public PlatformLayout? Layout { get; }

    /// <summary>The column holding the id, or -1.</summary>
    public int IdColumn { get; }

    /// <summary>The name used in errors and as the attribute key: the canonical name for known fields, else the header text.</summary>
    public string NameAt(int column) =>
        column >= Names.Length ? FormattableString.Invariant($"column {column + 1}")
        : Roles[column] is { } field ? CatalogFields.NameOf(field)
        : Names[column];

    /// <summary>Checks a header row and resolves its columns.</summary>
    /// <exception cref="CatalogFormatException">Invalid UTF-8, a repeated column, or no id/title column.</exception>
    public static CatalogTable Create(string[] names, string file, long line, CatalogReadOptions options)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < names.Length; i++)
        {
            var name = names[i].Trim();
            if (name.Contains('\uFFFD', StringComparison.Ordinal))
            {
                throw new CatalogFormatException(file, line, FormattableString.Invariant($"the header row has invalid UTF-8 in column {i + 1}"));
            }

            if (name.Length == 0)
            {
                name = FormattableString.Invariant($"column {i + 1}");
            }

            if (!seen.Add(name))
            {
                throw new CatalogFormatException(file, line, $"the header row has the column '{name}' twice");
            }

            names[i] = name;
        }

        var platform = options.Platform == CatalogPlatform.Auto ? PlatformLayout.Detect(names) : options.Platform;
        if (platform != CatalogPlatform.Generic)
        {
            var view = new TableRecordView(names);
            return new CatalogTable(names, new CatalogField?[names.Length], PlatformLayout.Create(platform, view, options, file), view);
        }

        var roles = CatalogFields.Resolve(names, options.Columns);
        var hasId = Array.IndexOf(roles, CatalogField.Id) >= 0;
        var hasTitle = Array.IndexOf(roles, CatalogField.Title) >= 0;
        if (!hasId || !hasTitle)
        {
            var missing = !hasId && !hasTitle ? "'id' or 'title'" : !hasId ? "'id'" : "'title'";
            var found = ProductRowBuilder.Shorten(string.Join(", ", names));
            throw new CatalogFormatException(file, line, $"the header row has no {missing} column (found: {found}); name them with a column map (--map id=SKU,title=Name)");
        }

        return new CatalogTable(names, roles, null, null);
    }

    /// <summary>Maps one row's values (by column) into <paramref name="raw"/>; <c>false</c> when a platform layout skips the row.</summary>
    public bool Map(IReadOnlyList<string?> values, RawRow raw)
    {
        raw.Clear();
        if (Layout is not null)
        {
            for (var i = 0; i < Names.Length; i++)
            {
                _view!.Values[i] = i < values.Count ? values[i] : null;
            }

            return Layout.Map(_view!, raw);
        }

        for (var i = 0; i < Names.Length && i < values.Count; i++)
        {
            var value = values[i];
            if (string.IsNullOrWhiteSpace(value))
            {
                continue;
            }

            if (Roles[i] is { } role)
            {
                raw.Values[(int)role] = value;
            }
            else
            {
                raw.Attributes.Add(new(Names[i], value));
            }
        }

        return true;
    }
}
