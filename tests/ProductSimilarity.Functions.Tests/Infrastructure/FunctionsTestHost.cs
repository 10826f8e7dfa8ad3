using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using ProductSimilarity.Api;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Ingestion;

namespace ProductSimilarity.Functions.Tests.Infrastructure;

/// <summary>
/// The Functions app's services composed as Program.cs composes them (AddProductSimilarity + AddProductApi) over a
/// LocalProductIndex in a temporary folder, with a counting generator and a <see cref="FakeLogCollector"/>.
/// </summary>
public sealed class FunctionsTestHost : IAsyncDisposable
{
    private readonly ServiceProvider _provider;
    private readonly string _indexFolder;

    private FunctionsTestHost(ServiceProvider provider, string indexFolder, CountingEmbeddingGenerator generator)
    {
        this._provider = provider;
        this._indexFolder = indexFolder;
        Generator = generator;
    }

    /// <summary>The services.</summary>
    public IServiceProvider Services => _provider;

    /// <summary>Counts what was embedded.</summary>
    public CountingEmbeddingGenerator Generator { get; }

    /// <summary>Every log record written, at every level.</summary>
    public FakeLogCollector Logs => _provider.GetFakeLogCollector();

    /// <summary>The index.</summary>
    public IProductIndex Index => _provider.GetRequiredService<IProductIndex>();

    /// <summary>The HTTP functions, activated the way the worker activates them.</summary>
    public HttpFunctions HttpFunctions => ActivatorUtilities.CreateInstance<HttpFunctions>(_provider);

    /// <summary>The blob-triggered function.</summary>
    public CatalogIngestionFunction IngestionFunction => ActivatorUtilities.CreateInstance<CatalogIngestionFunction>(_provider);

    /// <summary>Builds a host. <paramref name="settings"/> adds or overrides configuration keys; <paramref name="services"/> registers overrides first.</summary>
    public static FunctionsTestHost Create(
        IEmbeddingGenerator<string, Embedding<float>> embeddings,
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null)
    {
        var folder = Path.Combine(Path.GetTempPath(), "psim-functions-tests", Guid.NewGuid().ToString("N"));
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["ProductSimilarity:Index:Provider"] = "Local",
            ["ProductSimilarity:Index:Local:Path"] = folder,
            ["ProductSimilarity:Embeddings:Provider"] = "Onnx",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var generator = new CountingEmbeddingGenerator(embeddings);
        var collection = new ServiceCollection();
        collection.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddFakeLogging());

        // Registered before AddProductSimilarity, whose TryAdd registrations then keep these.
        collection.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(generator);
        services?.Invoke(collection);
        collection.AddProductSimilarity(configuration);
        collection.AddProductApi();
        var provider = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        return new FunctionsTestHost(provider, folder, generator);
    }

    /// <summary>Ingests a catalog file straight through the pipeline (test set-up for the HTTP tests).</summary>
    public async Task<IngestionSummary> IngestFileAsync(string path)
    {
        await using var stream = File.OpenRead(path);
        return await _provider.GetRequiredService<IngestionPipeline>()
            .IngestAsync(stream, Path.GetFileName(path), new ListRowErrorSink());
    }

    /// <summary>A real HttpContext with this host's services, the query string and an optional JSON body.</summary>
    public HttpContext NewHttpContext(string method, string path, string? query = null, string? body = null)
    {
        var context = new DefaultHttpContext { RequestServices = _provider };
        context.Request.Method = method;
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("localhost");
        context.Request.Path = path;
        if (query is not null)
        {
            context.Request.QueryString = new QueryString(query);
        }

        if (body is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            context.Request.Body = new MemoryStream(bytes);
            context.Request.ContentLength = bytes.Length;
            context.Request.ContentType = "application/json";
        }

        context.Response.Body = new MemoryStream();
        return context;
    }

    /// <summary>Executes a result against its context and reads the response back.</summary>
    public static async Task<TestResponse> ExecuteAsync(IResult result, HttpContext context)
    {
        await result.ExecuteAsync(context);
        context.Response.Body.Position = 0;
        using var reader = new StreamReader(context.Response.Body);
        var text = await reader.ReadToEndAsync();
        return new TestResponse(context.Response.StatusCode, context.Response.ContentType, text);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _provider.DisposeAsync();
        try
        {
            Directory.Delete(_indexFolder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

/// <summary>A response read back from an executed result.</summary>
public sealed record TestResponse(int StatusCode, string? ContentType, string Body)
{
    /// <summary>The body as JSON.</summary>
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
}
