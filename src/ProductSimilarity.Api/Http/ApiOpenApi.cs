using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.OpenApi;

namespace ProductSimilarity.Api.Http;

/// <summary>One query-string parameter of the HTTP API, as the OpenAPI document describes it.</summary>
/// <param name="Name">The parameter name.</param>
/// <param name="Description">What it means.</param>
/// <param name="Type">Its JSON type.</param>
/// <remarks>Immutable; thread-safe.</remarks>
public sealed record ApiQueryParameter(string Name, string Description, JsonSchemaType Type)
{
    /// <summary>Whether the request must carry it.</summary>
    public bool Required { get; init; }

    /// <summary>Inclusive lower bound of a number.</summary>
    public decimal? Minimum { get; init; }

    /// <summary>Inclusive upper bound of a number.</summary>
    public decimal? Maximum { get; init; }

    /// <summary>Longest accepted text.</summary>
    public int? MaxLength { get; init; }

    /// <summary>The value used when the request does not say.</summary>
    public string? Default { get; init; }

    /// <summary>The accepted values of an enumeration.</summary>
    public IReadOnlyList<string>? Values { get; init; }

    internal OpenApiParameter ToOpenApi()
    {
        var schema = new OpenApiSchema
        {
            Type = Type,
            Minimum = Minimum?.ToString(CultureInfo.InvariantCulture),
            Maximum = Maximum?.ToString(CultureInfo.InvariantCulture),
            MaxLength = MaxLength,
        };
        if (Default is not null)
        {
            schema.Default = Type == JsonSchemaType.Integer ? JsonValue.Create(int.Parse(Default, CultureInfo.InvariantCulture)) : JsonValue.Create(Default);
        }

        if (Values is not null)
        {
            schema.Enum = [.. Values.Select(v => (JsonNode)JsonValue.Create(v))];
        }

        return new OpenApiParameter { Name = Name, In = ParameterLocation.Query, Required = Required, Description = Description, Schema = schema };
    }
}

/// <summary>
/// The OpenAPI description of the HTTP API: the query parameters with their limits (from <see cref="ApiLimits"/>, the
/// same constants <see cref="RequestParsing"/> checks) and the conventions that attach them to the endpoints mapped by
/// <see cref="ProductApiEndpointRouteBuilderExtensions.MapProductApi"/>.
/// </summary>
/// <remarks>Stateless; thread-safe.</remarks>
public static class ApiOpenApi
{
    /// <summary>The OpenAPI document name.</summary>
    public const string DocumentName = "v1";

    /// <summary><c>top</c>: the number of results.</summary>
    public static ApiQueryParameter Top { get; } = new("top", "Number of results.", JsonSchemaType.Integer)
    {
        Minimum = ApiLimits.MinTop,
        Maximum = ApiLimits.MaxTop,
        Default = ApiLimits.DefaultTop.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>The structured filters of the similar-items and search routes.</summary>
    public static IReadOnlyList<ApiQueryParameter> Filters { get; } =
    [
        new("category", "Exact category, case-insensitive (for example `Electronics > Audio`).", JsonSchemaType.String) { MaxLength = ApiLimits.MaxFilterLength },
        new("brand", "Exact brand, case-insensitive.", JsonSchemaType.String) { MaxLength = ApiLimits.MaxFilterLength },
        new("minPrice", "Inclusive lower price bound; not negative; at most maxPrice.", JsonSchemaType.Number) { Minimum = 0 },
        new("maxPrice", "Inclusive upper price bound; not negative.", JsonSchemaType.Number) { Minimum = 0 },
        new("inStock", "Only products with this stock flag.", JsonSchemaType.Boolean),
        new("source", "Only products from this source (exact).", JsonSchemaType.String) { MaxLength = ApiLimits.MaxFilterLength },
        new(
            "attr.{name}",
            $"Attribute filter on any catalog column: `attr.color=black` (name and value case-insensitive, exact); at most {ApiLimits.MaxAttributeFilters} of them.",
            JsonSchemaType.String) { MaxLength = ApiLimits.MaxFilterLength },
    ];

    /// <summary>The filter fallback and diversity options of the similar-items and search routes.</summary>
    public static IReadOnlyList<ApiQueryParameter> Shaping { get; } =
    [
        new("fallback", "When fewer than top items pass the filters, relax them in the configured order (ProductSimilarity:Results:RelaxOrder) and fill the list; relaxed items say which filters they miss in `relaxed`. Default from ProductSimilarity:Results:Fallback (true).", JsonSchemaType.Boolean),
        new("mmr", "MMR diversity: the lambda from 0 (most diverse) to 1 (most relevant); absent: off unless ProductSimilarity:Results:MmrLambda is set.", JsonSchemaType.Number) { Minimum = 0, Maximum = 1 },
        new("dedupe", "Leave out near-duplicates (stored vectors above ProductSimilarity:Results:NearDuplicateThreshold, 0.97, to an item already listed). Default from ProductSimilarity:Results:SuppressNearDuplicates (false).", JsonSchemaType.Boolean),
    ];

    /// <summary><c>mode</c>: the ranking override.</summary>
    public static ApiQueryParameter Mode { get; } = new("mode", "Ranking: vector, keyword or hybrid; default from ProductSimilarity:Ranking:Mode.", JsonSchemaType.String)
    {
        Values = ["vector", "keyword", "hybrid"],
    };

    /// <summary><c>q</c>: the search text.</summary>
    public static ApiQueryParameter SearchText { get; } = new("q", "The search text (any language; Chinese is matched with CJK bigrams).", JsonSchemaType.String)
    {
        Required = true,
        MaxLength = ApiLimits.MaxQueryLength,
    };

    /// <summary><c>ids</c>: the products to explain.</summary>
    public static ApiQueryParameter ExplainIds { get; } = new("ids", $"Comma-separated product ids to compare with {{id}}, at most {ApiLimits.MaxExplainIds}.", JsonSchemaType.String)
    {
        Required = true,
    };

    /// <summary><c>limit</c>: how many products the map projects.</summary>
    public static ApiQueryParameter MapLimit { get; } = new("limit", "Most products to project (in the index's id order).", JsonSchemaType.Integer)
    {
        Minimum = 1,
        Maximum = ApiLimits.MaxMapProducts,
        Default = ApiLimits.DefaultMapProducts.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Adds query parameters to an endpoint's OpenAPI operation, and the limit of the <c>{id}</c> route value when there is one.</summary>
    public static TBuilder WithQueryParameters<TBuilder>(this TBuilder builder, params IEnumerable<ApiQueryParameter> parameters)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var list = parameters.ToList();
        return builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            foreach (var parameter in operation.Parameters)
            {
                if (parameter is OpenApiParameter { Name: "id", In: ParameterLocation.Path } id)
                {
                    id.Description = "The product id (URL-encoded).";
                    if (id.Schema is OpenApiSchema schema)
                    {
                        schema.MinLength = 1;
                        schema.MaxLength = ApiLimits.MaxIdLength;
                    }
                }
            }

            foreach (var parameter in list)
            {
                operation.Parameters.Add(parameter.ToOpenApi());
            }

            return Task.CompletedTask;
        });
    }

    /// <summary>The error responses every validating route can give: 400 ValidationProblem.</summary>
    public static RouteHandlerBuilder WithValidationErrors(this RouteHandlerBuilder builder) =>
        builder.ProducesValidationProblem(StatusCodes.Status400BadRequest);

    /// <summary>The 404 ProblemDetails of a route with a product id.</summary>
    public static RouteHandlerBuilder WithProductNotFound(this RouteHandlerBuilder builder) =>
        builder.ProducesProblem(StatusCodes.Status404NotFound);
}
