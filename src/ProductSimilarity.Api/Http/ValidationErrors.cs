using Microsoft.AspNetCore.Http;
using ProductSimilarity.Core.Configuration;

namespace ProductSimilarity.Api.Http;

/// <summary>Collects field errors for one request, checked against <paramref name="limits"/>, and turns them into a 400 ValidationProblem.</summary>
/// <param name="limits">The configured input limits (<c>ProductSimilarity:Limits</c>); the defaults when null.</param>
/// <remarks>Not thread-safe; one per request.</remarks>
internal sealed class ValidationErrors(LimitsOptions? limits = null)
{
    private static readonly LimitsOptions Defaults = new();

    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    /// <summary>The limits the request is checked against.</summary>
    public LimitsOptions Limits { get; } = limits ?? Defaults;

    /// <summary>True when at least one error was added.</summary>
    public bool HasErrors => _errors.Count > 0;

    /// <summary>The number of fields with errors.</summary>
    public int Count => _errors.Count;

    /// <summary>Records an error for a field.</summary>
    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list))
        {
            list = [];
            _errors[field] = list;
        }

        list.Add(message);
    }

    /// <summary>The field errors as a 400 ValidationProblem.</summary>
    public IResult ToResult() => TypedResults.ValidationProblem(
        _errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal),
        title: "The request is not valid.");
}
