namespace ProductSimilarity.Core.Catalog;

/// <summary>A rejected catalog row: the file, the 1-based line, the field and why.</summary>
/// <param name="File">The catalog file (or blob) name.</param>
/// <param name="Line">1-based physical line where the row starts (for JSON Lines, the line number).</param>
/// <param name="Field">The offending field, or <c>null</c> when the whole row is bad.</param>
/// <param name="Reason">A human-readable reason.</param>
/// <param name="Id">The row's id when it could be read.</param>
public sealed record RowError(string File, long Line, string? Field, string Reason, string? Id = null)
{
    /// <summary>The worksheet of a spreadsheet catalog (the line is then its row number); <c>null</c> for text files.</summary>
    public string? Sheet { get; init; }

    /// <summary>True for a problem that did not reject the row (for example an invalid GTIN, which is left out).</summary>
    public bool IsWarning { get; init; }

    /// <summary>Where the row is: <c>12</c> for a text file, <c>Sheet1!row 12</c> for a spreadsheet.</summary>
    public string Location => Sheet is null ? Line.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{Sheet}!row {Line}";

    /// <inheritdoc/>
    public override string ToString()
    {
        var warning = IsWarning ? "warning: " : string.Empty;
        return Field is null ? $"{File}:{Location}: {warning}{Reason}" : $"{File}:{Location}: {warning}field '{Field}': {Reason}";
    }
}

/// <summary>One row out of a catalog: either a product or an error, with its line.</summary>
/// <param name="Line">1-based line where the row starts.</param>
/// <param name="Product">The product, when the row was good.</param>
/// <param name="Error">The error, when the row was rejected.</param>
public readonly record struct CatalogRow(long Line, Product? Product, RowError? Error)
{
    /// <summary>Problems that did not reject the row (<see cref="RowError.IsWarning"/>); empty for most rows.</summary>
    public IReadOnlyList<RowError> Warnings { get; init; } = [];

    /// <summary>True when the row was rejected.</summary>
    public bool IsError => Error is not null;
}

/// <summary>The whole file could not be read (empty, no header, not UTF-8 at all, unknown format).</summary>
public sealed class CatalogFormatException(string file, long line, string message, Exception? inner = null)
    : Exception($"{file}:{line}: {message}", inner)
{
    /// <summary>The file name.</summary>
    public string File { get; } = file;

    /// <summary>The 1-based line, or 0 when it concerns the whole file.</summary>
    public long Line { get; } = line;
}
