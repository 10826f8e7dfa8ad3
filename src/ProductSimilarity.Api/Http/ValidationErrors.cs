using Microsoft.AspNetCore.Http;

namespace ProductSimilarity.Api.Http;

/// <summary>Collects field errors for one request and turns them into a 400 ValidationProblem.</summary>
/// <remarks>Not thread-safe; one per request.</remarks>
internal sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

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
