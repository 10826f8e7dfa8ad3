using System.ComponentModel.DataAnnotations;
using ProductSimilarity.Core.Catalog;

namespace ProductSimilarity.Core.Configuration;

/// <summary>
/// <c>ProductSimilarity:Limits</c>: the input limits of the query API (<c>psim serve</c>, the Functions app) and of the
/// similarity service. A request outside them gets a 400 ProblemDetails naming the field (413 for a body that is too
/// large); a command, a one-line error. Catalog limits (file size, rows, field length, decompressed size) are in
/// <see cref="IngestionOptions"/>.
/// </summary>
/// <remarks>Bound once at start; read-only afterwards, so thread-safe.</remarks>
public sealed class LimitsOptions
{
    /// <summary>Default <see cref="MaxTop"/>.</summary>
    public const int DefaultMaxTop = 100;

    /// <summary>Default <see cref="MaxHistory"/>.</summary>
    public const int DefaultMaxHistory = 200;

    /// <summary>Default <see cref="MaxRequestBodyBytes"/>: 1 MiB.</summary>
    public const int DefaultMaxRequestBodyBytes = 1024 * 1024;

    /// <summary>Default <see cref="MaxQueryLength"/>.</summary>
    public const int DefaultMaxQueryLength = 1_000;

    /// <summary>Default <see cref="MaxFilterLength"/>.</summary>
    public const int DefaultMaxFilterLength = 256;

    /// <summary>Largest <c>top</c> a request may ask for.</summary>
    [Range(1, 1000)]
    public int MaxTop { get; set; } = DefaultMaxTop;

    /// <summary>Longest product id a request may name. The catalog refuses ids longer than <see cref="CatalogLimits.MaxIdLength"/>, so a larger value would admit nothing more.</summary>
    [Range(1, CatalogLimits.MaxIdLength)]
    public int MaxIdLength { get; set; } = CatalogLimits.MaxIdLength;

    /// <summary>Most history events in one recommendation request.</summary>
    [Range(1, 10_000)]
    public int MaxHistory { get; set; } = DefaultMaxHistory;

    /// <summary>Largest request body, in bytes.</summary>
    [Range(1024, 256 * 1024 * 1024)]
    public int MaxRequestBodyBytes { get; set; } = DefaultMaxRequestBodyBytes;

    /// <summary>Longest search text, in characters.</summary>
    [Range(1, 100_000)]
    public int MaxQueryLength { get; set; } = DefaultMaxQueryLength;

    /// <summary>Longest category or brand filter, in characters.</summary>
    [Range(1, 10_000)]
    public int MaxFilterLength { get; set; } = DefaultMaxFilterLength;
}
