using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Similarity;

namespace ProductSimilarity.Api.Http;

/// <summary>Reads and validates route values, query strings and bodies against the configured limits (<see cref="ValidationErrors.Limits"/>).</summary>
/// <remarks>
/// Stateless; thread-safe. Messages name the field and the limit but never echo the value: a history id is the user's
/// private data, and echoing input makes error responses a reflection vector.
/// </remarks>
internal static class RequestParsing
{
    /// <summary>JSON settings for request bodies: camelCase, case-insensitive names, comments and trailing commas allowed.</summary>
    public static JsonSerializerOptions BodyOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        MaxDepth = 16,
    };

    /// <summary>Checks a product id: present, not blank, at most <c>Limits:MaxIdLength</c> characters.</summary>
    public static void ValidateId(string? id, string field, ValidationErrors errors)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            errors.Add(field, "A product id is required.");
        }
        else if (id.Length > errors.Limits.MaxIdLength)
        {
            errors.Add(field, $"A product id has at most {errors.Limits.MaxIdLength} characters.");
        }
    }

    /// <summary>Reads <c>top</c> from the query string (default <see cref="ApiLimits.DefaultTop"/>).</summary>
    public static int ParseTop(IQueryCollection query, ValidationErrors errors)
    {
        var raw = Single(query, "top", errors);
        if (raw is null)
        {
            return ApiLimits.DefaultTop;
        }

        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var top))
        {
            errors.Add("top", $"top must be a whole number from {ApiLimits.MinTop} to {errors.Limits.MaxTop}.");
            return ApiLimits.DefaultTop;
        }

        return ValidateTop(top, "top", errors);
    }

    /// <summary>Checks a <c>top</c> value (default <see cref="ApiLimits.DefaultTop"/>).</summary>
    public static int ValidateTop(int? top, string field, ValidationErrors errors)
    {
        if (top is null)
        {
            return ApiLimits.DefaultTop;
        }

        if (top < ApiLimits.MinTop || top > errors.Limits.MaxTop)
        {
            errors.Add(field, $"{field} must be from {ApiLimits.MinTop} to {errors.Limits.MaxTop}.");
        }

        return top.Value;
    }

    /// <summary>The prefix of an attribute filter in a query string: <c>attr.color=black</c>.</summary>
    public const string AttributePrefix = "attr.";

    /// <summary>
    /// Reads the filters <c>category</c>, <c>brand</c>, <c>minPrice</c>, <c>maxPrice</c>, <c>inStock</c>, <c>source</c>
    /// and <c>attr.NAME</c> (any catalog column) from the query string.
    /// </summary>
    public static ProductFilter ParseFilter(IQueryCollection query, ValidationErrors errors)
    {
        var category = Text(Single(query, "category", errors), "category", errors);
        var brand = Text(Single(query, "brand", errors), "brand", errors);
        var source = Text(Single(query, "source", errors), "source", errors);
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in query.Keys)
        {
            if (key.StartsWith(AttributePrefix, StringComparison.OrdinalIgnoreCase))
            {
                AddAttribute(attributes, key[AttributePrefix.Length..], Single(query, key, errors), key, errors);
            }
        }

        var minPrice = Price(Single(query, "minPrice", errors), "minPrice", errors);
        var maxPrice = Price(Single(query, "maxPrice", errors), "maxPrice", errors);
        bool? inStock = null;
        if (Single(query, "inStock", errors) is { } rawStock)
        {
            if (bool.TryParse(rawStock, out var parsed))
            {
                inStock = parsed;
            }
            else
            {
                errors.Add("inStock", "inStock must be true or false.");
            }
        }

        CheckPriceRange(minPrice, maxPrice, "maxPrice", errors);
        return new ProductFilter { Category = category, Brand = brand, MinPrice = minPrice, MaxPrice = maxPrice, InStock = inStock, Source = source, Attributes = attributes };
    }

    /// <summary>
    /// Reads the result shaping of <c>similar</c> and <c>search</c>: <c>fallback</c> (<c>true</c> or <c>false</c>),
    /// <c>mmr</c> (the MMR lambda, 0 to 1) and <c>dedupe</c> (<c>true</c> or <c>false</c>); each absent value takes the
    /// configured default.
    /// </summary>
    public static ResultShaping ParseShaping(IQueryCollection query, ValidationErrors errors)
    {
        var fallback = OptionalFlag(query, "fallback", errors);
        var dedupe = OptionalFlag(query, "dedupe", errors);
        double? mmr = null;
        if (Single(query, "mmr", errors) is { } raw)
        {
            if (double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var lambda) && lambda is >= 0 and <= 1)
            {
                mmr = lambda;
            }
            else
            {
                errors.Add("mmr", "mmr must be a number from 0 (most diverse) to 1 (most relevant), with '.' for decimals.");
            }
        }

        return new ResultShaping { Fallback = fallback, MmrLambda = mmr, SuppressNearDuplicates = dedupe };
    }

    /// <summary>Checks filters that came in a JSON body.</summary>
    public static ProductFilter ToFilter(FilterBody? body, ValidationErrors errors)
    {
        if (body is null)
        {
            return new ProductFilter();
        }

        var category = Text(body.Category, "filters.category", errors);
        var brand = Text(body.Brand, "filters.brand", errors);
        if (body.MinPrice < 0)
        {
            errors.Add("filters.minPrice", "filters.minPrice must not be negative.");
        }

        if (body.MaxPrice < 0)
        {
            errors.Add("filters.maxPrice", "filters.maxPrice must not be negative.");
        }

        CheckPriceRange(body.MinPrice, body.MaxPrice, "filters.maxPrice", errors);
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in body.Attributes ?? new Dictionary<string, string?>())
        {
            AddAttribute(attributes, name, value, $"filters.attributes.{name}", errors);
        }

        return new ProductFilter
        {
            Category = category,
            Brand = brand,
            MinPrice = body.MinPrice,
            MaxPrice = body.MaxPrice,
            InStock = body.InStock,
            Source = Text(body.Source, "filters.source", errors),
            Attributes = attributes,
        };
    }

    /// <summary>Reads the optional flag <c>explain</c> (<c>true</c> or <c>false</c>, default false).</summary>
    public static bool ParseExplain(IQueryCollection query, ValidationErrors errors) => ParseFlag(query, "explain", false, errors);

    /// <summary>Reads an optional boolean query parameter.</summary>
    public static bool ParseFlag(IQueryCollection query, string name, bool defaultValue, ValidationErrors errors)
    {
        if (Single(query, name, errors) is not { } raw)
        {
            return defaultValue;
        }

        if (bool.TryParse(raw, out var value))
        {
            return value;
        }

        errors.Add(name, $"{name} must be true or false.");
        return defaultValue;
    }

    private static bool? OptionalFlag(IQueryCollection query, string name, ValidationErrors errors)
    {
        if (Single(query, name, errors) is not { } raw)
        {
            return null;
        }

        if (bool.TryParse(raw, out var value))
        {
            return value;
        }

        errors.Add(name, $"{name} must be true or false.");
        return null;
    }

    /// <summary>Reads the optional ranking override <c>mode</c> (<c>vector</c>, <c>keyword</c> or <c>hybrid</c>).</summary>
    public static RankingMode? ParseMode(IQueryCollection query, ValidationErrors errors)
    {
        var raw = Single(query, "mode", errors);
        if (raw is null)
        {
            return null;
        }

        if (!raw.Any(char.IsDigit) && Enum.TryParse<RankingMode>(raw, ignoreCase: true, out var mode) && Enum.IsDefined(mode))
        {
            return mode;
        }

        errors.Add("mode", "mode must be vector, keyword or hybrid.");
        return null;
    }

    /// <summary>Reads the search text <c>q</c>: required, at most <c>Limits:MaxQueryLength</c> characters.</summary>
    public static string ParseSearchText(IQueryCollection query, ValidationErrors errors)
    {
        var raw = Single(query, "q", errors);
        if (string.IsNullOrWhiteSpace(raw))
        {
            errors.Add("q", "q (the search text) is required.");
            return string.Empty;
        }

        if (raw.Length > errors.Limits.MaxQueryLength)
        {
            errors.Add("q", $"q has at most {errors.Limits.MaxQueryLength} characters.");
        }

        return raw.Trim();
    }

    /// <summary>
    /// Reads a JSON body of at most <paramref name="maxBytes"/> bytes (<c>Limits:MaxRequestBodyBytes</c>). Returns the
    /// value, or an error result (400 for a missing or malformed body, 413 for one that is too large).
    /// </summary>
    public static async Task<(T? Value, IResult? Error)> ReadJsonBodyAsync<T>(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
        where T : class
    {
        if (request.ContentLength > maxBytes)
        {
            return (null, TooLarge(maxBytes));
        }

        // Bounded copy: a body without Content-Length (chunked) cannot make us buffer more than the limit.
        var buffer = new ArrayBufferWriter<byte>(4096);
        while (true)
        {
            var memory = buffer.GetMemory(8192);
            var read = await request.Body.ReadAsync(memory, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > maxBytes)
            {
                return (null, TooLarge(maxBytes));
            }
        }

        var errors = new ValidationErrors();
        if (buffer.WrittenCount == 0)
        {
            errors.Add("body", "A JSON body is required.");
            return (null, errors.ToResult());
        }

        try
        {
            var value = JsonSerializer.Deserialize<T>(buffer.WrittenSpan, BodyOptions);
            if (value is null)
            {
                errors.Add("body", "The body must be a JSON object.");
                return (null, errors.ToResult());
            }

            return (value, null);
        }
        catch (JsonException ex)
        {
            // The exception message can quote the input; report only where it broke.
            errors.Add(ex.Path is { Length: > 0 } path ? path : "body",
                $"The body is not valid JSON for this route (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}).");
            return (null, errors.ToResult());
        }
    }

    /// <summary>Turns a recommendation body into a service request, checking every limit.</summary>
    public static RecommendationRequest ToRecommendationRequest(RecommendationBody body, ValidationErrors errors)
    {
        var history = new List<HistoryEvent>();
        if (body.History is not { Count: > 0 })
        {
            // An empty or missing history is a cold start: the configured fallback answers.
        }
        else if (body.History.Count > errors.Limits.MaxHistory)
        {
            errors.Add("history", $"history holds at most {errors.Limits.MaxHistory} events.");
        }
        else
        {
            for (var i = 0; i < body.History.Count; i++)
            {
                var item = body.History[i];
                var field = $"history[{i}]";
                if (item is null)
                {
                    errors.Add(field, "An event must be an object.");
                    continue;
                }

                ValidateId(item.Id, field + ".id", errors);
                var kind = InteractionKind.View;
                if (item.Event is not null && !HistoryEventText.TryParseKind(item.Event, out kind))
                {
                    errors.Add(field + ".event", "event must be view, cart, purchase or not_interested.");
                }

                if (item.Category is { } itemCategory && itemCategory.Length > errors.Limits.MaxFilterLength)
                {
                    errors.Add(field + ".category", $"category is at most {errors.Limits.MaxFilterLength} characters.");
                }

                if (item.Id is not null)
                {
                    history.Add(new HistoryEvent(item.Id, kind, item.At, string.IsNullOrWhiteSpace(item.Category) ? null : item.Category.Trim()));
                }
            }
        }

        var exclude = new List<string>();
        if (body.Exclude is { } excluded)
        {
            if (excluded.Count > ApiLimits.MaxExclude)
            {
                errors.Add("exclude", $"exclude holds at most {ApiLimits.MaxExclude} ids.");
            }
            else
            {
                for (var i = 0; i < excluded.Count; i++)
                {
                    ValidateId(excluded[i], $"exclude[{i}]", errors);
                    if (excluded[i] is { } id)
                    {
                        exclude.Add(id);
                    }
                }
            }
        }

        var top = ValidateTop(body.Top, "top", errors);
        var filter = ToFilter(body.Filters, errors);
        if (body.Replenish is { } replenish && body.ExcludePurchased is { } excludePurchased && replenish == excludePurchased)
        {
            errors.Add("replenish", "replenish and excludePurchased contradict each other; give one of them.");
        }

        RecommendationStrategy? strategy = null;
        if (body.Strategy is { } strategyName)
        {
            if (HistoryEventText.TryParseStrategy(strategyName, out var parsed))
            {
                strategy = parsed;
            }
            else
            {
                errors.Add("strategy", "strategy must be multiInterest or centroid.");
            }
        }

        return new RecommendationRequest
        {
            History = history,
            Exclude = exclude,
            Top = top,
            Filter = filter,
            ExcludePurchased = body.Replenish is { } asked ? !asked : body.ExcludePurchased ?? true,
            Strategy = strategy,
            Explain = body.Explain ?? false,
        };
    }

    private static string? Single(IQueryCollection query, string name, ValidationErrors errors)
    {
        if (!query.TryGetValue(name, out StringValues values) || values.Count == 0)
        {
            return null;
        }

        if (values.Count > 1)
        {
            errors.Add(name, $"{name} may be given once.");
            return null;
        }

        return string.IsNullOrEmpty(values[0]) ? null : values[0];
    }

    // One attribute condition: a column name without '=' and a value, each within MaxFilterLength, at most
    // MaxAttributeFilters of them. Blank values are ignored like the other filters.
    private static void AddAttribute(Dictionary<string, string> attributes, string name, string? value, string field, ValidationErrors errors)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Contains('=', StringComparison.Ordinal) || name.Length > errors.Limits.MaxFilterLength)
        {
            errors.Add(field, $"An attribute filter is attr.NAME=value, with a column NAME of 1 to {errors.Limits.MaxFilterLength} characters and no '='.");
            return;
        }

        if (Text(value, field, errors) is not { } text)
        {
            return;
        }

        if (attributes.Count == ApiLimits.MaxAttributeFilters)
        {
            errors.Add(field, $"At most {ApiLimits.MaxAttributeFilters} attribute filters are allowed.");
            return;
        }

        attributes[name.Trim()] = text;
    }

    private static string? Text(string? value, string field, ValidationErrors errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (value.Length > errors.Limits.MaxFilterLength)
        {
            errors.Add(field, $"{field} has at most {errors.Limits.MaxFilterLength} characters.");
        }

        return value.Trim();
    }

    private static decimal? Price(string? raw, string field, ValidationErrors errors)
    {
        if (raw is null)
        {
            return null;
        }

        if (!decimal.TryParse(raw, NumberStyles.Number, CultureInfo.InvariantCulture, out var price) || price < 0)
        {
            errors.Add(field, $"{field} must be a number of at least 0 (use '.' for decimals).");
            return null;
        }

        return price;
    }

    private static void CheckPriceRange(decimal? min, decimal? max, string field, ValidationErrors errors)
    {
        if (min is { } lo && max is { } hi && lo > hi)
        {
            errors.Add(field, "maxPrice must not be below minPrice.");
        }
    }

    private static IResult TooLarge(int maxBytes) => TypedResults.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "The request body is too large.",
        detail: $"The body may have at most {maxBytes} bytes.");
}
