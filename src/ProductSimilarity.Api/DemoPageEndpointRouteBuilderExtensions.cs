using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using ProductSimilarity.Api.Demo;

namespace ProductSimilarity.Api;

/// <summary>Maps the demo page onto an ASP.NET Core app (<c>psim serve</c>).</summary>
public static class DemoPageEndpointRouteBuilderExtensions
{
    /// <summary>Maps <c>GET /</c> (the page) and <c>GET /demo/{file}</c> (its script and style sheet).</summary>
    public static IEndpointRouteBuilder MapDemoPage(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/", (HttpRequest request) => DemoPage.Serve(request, "index.html")).ExcludeFromDescription();
        endpoints.MapGet("/demo/{file}", (HttpRequest request, string file) => DemoPage.Serve(request, file)).ExcludeFromDescription();
        return endpoints;
    }
}
