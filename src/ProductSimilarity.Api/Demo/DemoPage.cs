using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace ProductSimilarity.Api.Demo;

/// <summary>One file of the demo page.</summary>
/// <param name="Content">The file's bytes.</param>
/// <param name="ContentType">Its media type, with the charset.</param>
/// <param name="ETag">A strong entity tag for conditional requests.</param>
public sealed record DemoPageFile(ReadOnlyMemory<byte> Content, string ContentType, string ETag);

/// <summary>
/// The demo page (<c>index.html</c>, <c>app.css</c>, <c>app.js</c>): plain files embedded in this assembly, so every
/// host that references the API can serve them without a wwwroot folder or a build step.
/// </summary>
/// <remarks>Loaded once; thread-safe.</remarks>
public static class DemoPage
{
    private const string ResourcePrefix = "demo/";

    private static readonly Lazy<FrozenDictionary<string, DemoPageFile>> Files = new(Load);

    /// <summary>The names of the embedded files (<c>index.html</c>, <c>app.css</c>, <c>app.js</c>).</summary>
    public static IEnumerable<string> Names => Files.Value.Keys;

    /// <summary>Gets an embedded file by name, or null.</summary>
    public static DemoPageFile? Get(string? name) =>
        name is not null && Files.Value.TryGetValue(name, out var file) ? file : null;

    /// <summary>Serves one file as an <see cref="IResult"/>: 200 with the content, 304 when the client has it, 404 when there is no such file.</summary>
    public static IResult Serve(HttpRequest request, string name)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Get(name) is not { } file)
        {
            return TypedResults.NotFound();
        }

        var headers = request.HttpContext.Response.Headers;
        headers.ETag = file.ETag;
        headers.CacheControl = "no-cache"; // revalidate: a new psim build must show its new page at once
        headers.XContentTypeOptions = "nosniff";
        if (name.EndsWith(".html", StringComparison.Ordinal))
        {
            // Scripts and styles from this origin only; the API may live elsewhere (a Functions app), so connect-src is open.
            headers.ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src *; frame-ancestors 'none'";
        }

        if (request.Headers.IfNoneMatch.Contains(file.ETag))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        return TypedResults.Bytes(file.Content, file.ContentType);
    }

    private static FrozenDictionary<string, DemoPageFile> Load()
    {
        var assembly = typeof(DemoPage).Assembly;
        var files = new Dictionary<string, DemoPageFile>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var bytes = buffer.ToArray();
            var name = resource[ResourcePrefix.Length..];
            var etag = $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]}\"";
            files[name] = new DemoPageFile(bytes, ContentType(name), etag);
        }

        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}
