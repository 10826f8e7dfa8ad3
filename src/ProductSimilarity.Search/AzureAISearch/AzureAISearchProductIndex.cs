using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Identity;
using Azure.Search.Documents;
using Azure.Search.Documents.Indexes;
using Azure.Search.Documents.Indexes.Models;
using Azure.Search.Documents.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Ranking;

namespace ProductSimilarity.Search.AzureAISearch;

/// <summary>
/// <see cref="IProductIndex"/> on Azure AI Search: HNSW (cosine) vectors plus BM25 text in one index. A hybrid query is
/// two concurrent requests (keyword, vector) whose lists the Core fuses, as it does for the embedded index.
/// </summary>
/// <remarks>
/// <para>Thread-safe: the underlying <see cref="SearchClient"/> is thread-safe and the only mutable state is the cached
/// vector dimensions, written atomically. Register one instance per index as a singleton.</para>
/// <para>Writes are sent in batches of at most <see cref="MaxDocumentsPerBatch"/> documents and
/// <see cref="MaxBatchBytes"/> bytes of JSON (the service takes 1,000 documents or about 16 MB per request). Documents
/// that fail with a retryable status (409, 422, 429, 503) are re-sent alone, with bounded exponential backoff; whole
/// requests that fail with 429 or 503 are retried by the SDK pipeline (<see cref="CreateClientOptions"/>).</para>
/// <para>Store errors surface as <see cref="ProductIndexException"/> naming the index, the operation, the HTTP status
/// and the service error code.</para>
/// </remarks>
public sealed class AzureAISearchProductIndex : IProductIndex
{
    /// <summary>Most documents sent in one indexing request (the service limit).</summary>
    public const int MaxDocumentsPerBatch = 1000;

    /// <summary>Most bytes of document JSON sent in one indexing request: below the service's 16 MB request limit,
    /// with headroom for the request envelope and serializer differences.</summary>
    public const long MaxBatchBytes = 15_000_000;

    // {"@search.action":"mergeOrUpload", plus the separating comma, around each serialized document.
    private const int ActionOverheadBytes = 40;
    private const int LookupChunkSize = 500;
    private const int IdPageSize = 1000;
    private const int MinimumNeighbors = 50;

    // The SDK's serializer (when none is configured) is System.Text.Json with default options: the same escaping.
    private static readonly JsonSerializerOptions SizeEstimateJson = new();

    private readonly SearchIndexClient _indexClient;
    private readonly SearchClient _searchClient;
    private readonly string _indexName;
    private readonly string _analyzer;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private int _dimensions;

    /// <summary>Creates the index adapter over an existing <see cref="SearchIndexClient"/> (dependency injection, tests).</summary>
    /// <param name="indexClient">The service client; its options (retry, transport) apply to every call.</param>
    /// <param name="indexName">The index name.</param>
    /// <param name="analyzer">Analyzer for title, description and brand, e.g. <c>en.lucene</c>, <c>zh-Hans.lucene</c>, <c>standard.lucene</c>.</param>
    /// <param name="logger">Optional logger.</param>
    /// <param name="timeProvider">Clock for the per-document retry backoff; <see cref="TimeProvider.System"/> by default.</param>
    public AzureAISearchProductIndex(
        SearchIndexClient indexClient,
        string indexName,
        string analyzer,
        ILogger<AzureAISearchProductIndex>? logger = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(indexClient);
        ArgumentException.ThrowIfNullOrWhiteSpace(indexName);
        ArgumentException.ThrowIfNullOrWhiteSpace(analyzer);
        _indexClient = indexClient;
        _indexName = indexName;
        _analyzer = analyzer;
        _searchClient = indexClient.GetSearchClient(indexName);
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The index name.</summary>
    public string IndexName => _indexName;

    /// <summary>When true, query results carry the stored vectors too (costly: dimensions x 4+ bytes per hit). Off by default;
    /// <see cref="GetAsync"/> always returns the vector.</summary>
    public bool IncludeVectorsInResults { get; init; }

    /// <summary>How many times a document that failed with a retryable status is re-sent.</summary>
    internal int MaxDocumentRetries { get; init; } = 4;

    /// <summary>First backoff delay before re-sending failed documents; doubles on each retry.</summary>
    internal TimeSpan DocumentRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Upper bound of the per-document backoff delay.</summary>
    internal TimeSpan DocumentRetryMaxDelay { get; init; } = TimeSpan.FromSeconds(16);

    /// <summary>
    /// The vector field's dimensions. Read from the index definition on first use (one synchronous request) and cached;
    /// null while the index does not exist.
    /// </summary>
    /// <exception cref="ProductIndexException">The index definition could not be read.</exception>
    public int? Dimensions
    {
        get
        {
            int known = Volatile.Read(ref _dimensions);
            if (known > 0)
            {
                return known;
            }

            int? read;
            try
            {
                read = AzureAISearchSchema.ReadDimensions(_indexClient.GetIndex(_indexName).Value);
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                return null;
            }
            catch (RequestFailedException ex)
            {
                throw Translate(ex, "read index definition");
            }

            if (read is > 0)
            {
                Volatile.Write(ref _dimensions, read.Value);
            }

            return read;
        }
    }

    /// <summary>
    /// Creates the adapter from configuration. With <see cref="AzureAISearchIndexOptions.ApiKey"/> set it authenticates with
    /// that admin key; otherwise with <paramref name="credential"/>, or <see cref="DefaultAzureCredential"/> (managed identity) when none is given.
    /// </summary>
    /// <param name="options">Endpoint (https), index name and analyzer.</param>
    /// <param name="credential">Token credential to use when no API key is configured.</param>
    /// <param name="clientOptions">SDK options (transport, retry); <see cref="CreateClientOptions"/> when null.</param>
    /// <exception cref="ArgumentException">The endpoint is missing or not https, or the index name or analyzer is empty.</exception>
    public static AzureAISearchProductIndex Create(
        AzureAISearchIndexOptions options,
        TokenCredential? credential = null,
        SearchClientOptions? clientOptions = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Endpoint is null)
        {
            throw new ArgumentException("ProductSimilarity:Index:AzureAISearch:Endpoint is required, e.g. https://my-search.search.windows.net.", nameof(options));
        }

        if (!string.Equals(options.Endpoint.Scheme, Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"ProductSimilarity:Index:AzureAISearch:Endpoint must use https (got '{options.Endpoint}'): the Azure AI Search SDK accepts no other scheme.", nameof(options));
        }

        if (string.IsNullOrWhiteSpace(options.IndexName))
        {
            throw new ArgumentException("ProductSimilarity:Index:AzureAISearch:IndexName is required.", nameof(options));
        }

        if (string.IsNullOrWhiteSpace(options.Analyzer))
        {
            throw new ArgumentException("ProductSimilarity:Index:AzureAISearch:Analyzer is required (en.lucene, zh-Hans.lucene or standard.lucene).", nameof(options));
        }

        clientOptions ??= CreateClientOptions(options.MaxRetries, TimeSpan.FromSeconds(options.TimeoutSeconds));
        SearchIndexClient client = string.IsNullOrEmpty(options.ApiKey)
            ? new SearchIndexClient(options.Endpoint, credential ?? new DefaultAzureCredential(), clientOptions)
            : new SearchIndexClient(options.Endpoint, new AzureKeyCredential(options.ApiKey), clientOptions);
        return new AzureAISearchProductIndex(client, options.IndexName, options.Analyzer);
    }

    /// <summary>
    /// SDK options with the retry policy this adapter expects: exponential backoff, 4 retries, 1 s first delay, 30 s cap,
    /// and a 30 s timeout per try, so that a hung connection is abandoned and retried instead of waiting 100 s.
    /// The SDK pipeline retries whole requests answered with 408, 429, 500, 502, 503 or 504, and timed-out tries.
    /// </summary>
    /// <param name="maxRetries">Retries after the first try (<c>Index:AzureAISearch:MaxRetries</c>).</param>
    /// <param name="networkTimeout">The limit of one try (<c>Index:AzureAISearch:TimeoutSeconds</c>); 30 s when null.</param>
    public static SearchClientOptions CreateClientOptions(int maxRetries = 4, TimeSpan? networkTimeout = null)
    {
        var options = new SearchClientOptions();
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = maxRetries;
        options.Retry.Delay = TimeSpan.FromSeconds(1);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(30);
        options.Retry.NetworkTimeout = networkTimeout ?? TimeSpan.FromSeconds(30);
        return options;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Creates or updates the index definition (CreateOrUpdateIndex). Adding fields to an existing index works; changing
    /// the vector dimensions or an analyzer of an existing index is refused by the service and surfaces as
    /// <see cref="ProductIndexException"/>: rebuild into a new index name instead.
    /// </remarks>
    public async Task EnsureCreatedAsync(int dimensions, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimensions);
        SearchIndex definition = AzureAISearchSchema.Build(_indexName, _analyzer, dimensions);
        try
        {
            Response<SearchIndex> response = await _indexClient
                .CreateOrUpdateIndexAsync(definition, allowIndexDowntime: false, onlyIfUnchanged: false, cancellationToken)
                .ConfigureAwait(false);
            int stored = AzureAISearchSchema.ReadDimensions(response.Value) ?? dimensions;
            Volatile.Write(ref _dimensions, stored);
        }
        catch (RequestFailedException ex)
        {
            throw Translate(ex, "create or update index",
                $"; requested {dimensions} vector dimensions and analyzer {_analyzer} (an existing index cannot change either in place)");
        }

        AzureAISearchLog.IndexEnsured(_logger, _indexName, dimensions);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Sends <c>mergeOrUpload</c> actions carrying every field, so a product is fully replaced. When the same id occurs
    /// more than once, the last occurrence wins. All batches are attempted; documents that still fail are listed in one
    /// <see cref="ProductIndexException"/> at the end, so good products are never held back by a bad one.
    /// </remarks>
    public async Task UpsertAsync(IReadOnlyList<IndexedProduct> products, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(products);
        if (products.Count == 0)
        {
            return;
        }

        int known = Volatile.Read(ref _dimensions);
        var order = new List<string>(products.Count);
        var latest = new Dictionary<string, IndexedProduct>(products.Count, StringComparer.Ordinal);
        foreach (IndexedProduct item in products)
        {
            ArgumentNullException.ThrowIfNull(item, nameof(products));
            if (string.IsNullOrEmpty(item.Id))
            {
                throw new ArgumentException("Every product needs an id.", nameof(products));
            }

            if (item.Vector.Length == 0)
            {
                throw new ArgumentException($"Product '{item.Id}' has no vector.", nameof(products));
            }

            if (known > 0 && item.Vector.Length != known)
            {
                throw new ArgumentException(
                    $"Product '{item.Id}' has a {item.Vector.Length}-dimension vector; index '{_indexName}' stores {known} dimensions.", nameof(products));
            }

            if (!latest.ContainsKey(item.Id))
            {
                order.Add(item.Id);
            }

            latest[item.Id] = item;
        }

        var actions = new List<PendingAction<AzureAISearchDocument>>(order.Count);
        foreach (string id in order)
        {
            AzureAISearchDocument document = AzureAISearchDocument.From(latest[id]);
            long bytes = JsonSerializer.SerializeToUtf8Bytes(document, SizeEstimateJson).LongLength + ActionOverheadBytes;
            actions.Add(new PendingAction<AzureAISearchDocument>(id, IndexDocumentsAction.MergeOrUpload(document), bytes));
        }

        await WriteAsync(actions, "upsert", isSuccess: static status => status is >= 200 and < 300, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>Sends <c>delete</c> actions in the same batches as <see cref="UpsertAsync"/>. The service does not say
    /// whether a key existed, so the count is the number of distinct ids requested.</remarks>
    public async Task<int> DeleteAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var distinct = new List<string>(ids.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string id in ids)
        {
            if (!string.IsNullOrEmpty(id) && seen.Add(id))
            {
                distinct.Add(id);
            }
        }

        if (distinct.Count == 0)
        {
            return 0;
        }

        var actions = new List<PendingAction<SearchDocument>>(distinct.Count);
        foreach (string id in distinct)
        {
            long bytes = (Encoding.UTF8.GetByteCount(id) * 6L) + ActionOverheadBytes + AzureAISearchSchema.Id.Length + 8;
            actions.Add(new PendingAction<SearchDocument>(id, IndexDocumentsAction.Delete(AzureAISearchSchema.Id, id), bytes));
        }

        // A delete of an unknown key is not an error for this port.
        await WriteAsync(actions, "delete", isSuccess: static status => status is (>= 200 and < 300) or 404, cancellationToken).ConfigureAwait(false);
        return distinct.Count;
    }

    /// <inheritdoc/>
    /// <remarks>No-op: Azure AI Search stores every accepted indexing batch durably when it answers, and makes it
    /// searchable within seconds. There is nothing left to flush.</remarks>
    public Task CommitAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <inheritdoc/>
    public async Task<IndexedProduct?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        try
        {
            Response<AzureAISearchDocument> response = await _searchClient
                .GetDocumentAsync<AzureAISearchDocument>(id, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            return response.Value.ToIndexedProduct();
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
        catch (RequestFailedException ex)
        {
            throw Translate(ex, "get document");
        }
    }

    /// <inheritdoc/>
    /// <remarks>One filtered query per 500 ids (<c>search.in(id, ...)</c>) selecting only id and content hash. A missing
    /// index has no hashes.</remarks>
    public async Task<IReadOnlyDictionary<string, string>> GetContentHashesAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        List<string> distinct = [.. ids.Where(id => !string.IsNullOrEmpty(id)).Distinct(StringComparer.Ordinal)];
        foreach (string[] chunk in distinct.Chunk(LookupChunkSize))
        {
            var options = new SearchOptions
            {
                Filter = AzureAISearchQuerySyntax.In(AzureAISearchSchema.Id, chunk),
                Size = chunk.Length,
                Select = { AzureAISearchSchema.Id, AzureAISearchSchema.ContentHash },
            };
            List<AzureAISearchDocument>? page = await SearchFirstPageAsync(options, "get content hashes", cancellationToken).ConfigureAwait(false);
            if (page is null)
            {
                return result;
            }

            foreach (AzureAISearchDocument document in page)
            {
                if (document.ContentHash is not null)
                {
                    result[document.Id] = document.ContentHash;
                }
            }
        }

        return result;
    }

    /// <inheritdoc/>
    /// <remarks>Pages of 1,000 ids ordered by id, each page starting after the last id seen (<c>id gt 'last'</c>), so it is
    /// not bound by the service's 100,000 <c>skip</c> limit. A missing index has no ids.</remarks>
    public async IAsyncEnumerable<string> GetAllIdsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? last = null;
        while (true)
        {
            var options = new SearchOptions
            {
                Size = IdPageSize,
                Filter = last is null ? null : $"{AzureAISearchSchema.Id} gt {AzureAISearchQuerySyntax.Literal(last)}",
                Select = { AzureAISearchSchema.Id },
                OrderBy = { AzureAISearchSchema.Id + " asc" },
            };
            List<AzureAISearchDocument>? page = await SearchFirstPageAsync(options, "list ids", cancellationToken).ConfigureAwait(false);
            if (page is null)
            {
                yield break;
            }

            foreach (AzureAISearchDocument document in page)
            {
                yield return document.Id;
            }

            if (page.Count < IdPageSize)
            {
                yield break;
            }

            last = page[^1].Id;
        }
    }

    /// <inheritdoc/>
    /// <remarks>A missing index counts 0.</remarks>
    public async Task<long> CountAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return (await _searchClient.GetDocumentCountAsync(cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return 0;
        }
        catch (RequestFailedException ex)
        {
            throw Translate(ex, "count documents");
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// <para>The keyword list and the vector list are two search requests, sent concurrently (a hybrid query costs two
    /// queries against the service's query rate, not one), so that the Core fuses them exactly as it fuses the embedded
    /// index's lists. The service's own hybrid RRF is not used.</para>
    /// <para>Keyword: simple query syntax with <c>searchMode=any</c>; operator characters in the text are removed, so user text
    /// cannot fail to parse. The score is the BM25 <c>@search.score</c>.</para>
    /// <para>Vector: a vector query alone, <c>k = max(50, candidates)</c>. The service reports <c>1 / (1 + cosine distance)</c>;
    /// it is converted back to the cosine similarity.</para>
    /// <para>Both requests carry the same OData filter (<see cref="AzureAISearchQuerySyntax.BuildFilter"/>); the vector
    /// query is pre-filtered so filters never empty the top k.</para>
    /// </remarks>
    public async Task<CandidateLists> GetCandidatesAsync(ProductQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Validate();
        int size = query.CandidatesPerList;
        string? text = query.UsesKeyword ? AzureAISearchQuerySyntax.ToSimpleQueryText(query.Text) : null;
        ReadOnlyMemory<float>? vector = query.UsesVector ? query.Vector : null;
        if (size == 0 || (text is null && vector is null))
        {
            return CandidateLists.Empty;
        }

        string? filter = AzureAISearchQuerySyntax.BuildFilter(query.Filter, query.ExcludeIds, query.ExcludeGroupIds);
        Task<List<ScoredCandidate>> keyword = text is null
            ? Task.FromResult(new List<ScoredCandidate>())
            : CandidatesAsync(text, KeywordOptions(size, filter), static score => score, cancellationToken);
        Task<List<ScoredCandidate>> nearest = vector is not { } v
            ? Task.FromResult(new List<ScoredCandidate>())
            : CandidatesAsync(null, VectorOptions(v, size, filter), ScoreToCosine, cancellationToken);
        await Task.WhenAll(keyword, nearest).ConfigureAwait(false);
        return new CandidateLists(await nearest.ConfigureAwait(false), await keyword.ConfigureAwait(false));
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>The cosine similarity behind a vector <c>@search.score</c> of <c>1 / (1 + (1 - cosine))</c>.</summary>
    internal static double ScoreToCosine(double score) => score > 0 ? 2 - (1 / score) : -1;

    private SearchOptions KeywordOptions(int size, string? filter)
    {
        var options = ResultOptions(size, filter);
        options.QueryType = SearchQueryType.Simple;
        options.SearchMode = SearchMode.Any;
        return options;
    }

    private SearchOptions VectorOptions(ReadOnlyMemory<float> vector, int size, string? filter)
    {
        var options = ResultOptions(size, filter);
        options.VectorSearch = new VectorSearchOptions
        {
            Queries = { new VectorizedQuery(vector) { KNearestNeighborsCount = Math.Max(MinimumNeighbors, size), Fields = { AzureAISearchSchema.Vector } } },
            FilterMode = filter is null ? (VectorFilterMode?)null : VectorFilterMode.PreFilter,
        };
        return options;
    }

    private SearchOptions ResultOptions(int size, string? filter)
    {
        var options = new SearchOptions { Size = size, Filter = filter };
        foreach (string field in AzureAISearchSchema.ResultFields)
        {
            options.Select.Add(field);
        }

        if (IncludeVectorsInResults)
        {
            options.Select.Add(AzureAISearchSchema.Vector);
        }

        return options;
    }

    // One ranked list: at most options.Size results, best first, each with its raw score mapped by toScore.
    private async Task<List<ScoredCandidate>> CandidatesAsync(string? text, SearchOptions options, Func<double, double> toScore, CancellationToken cancellationToken)
    {
        int size = options.Size ?? 0;
        var candidates = new List<ScoredCandidate>(size);
        try
        {
            Response<SearchResults<AzureAISearchDocument>> response = await _searchClient
                .SearchAsync<AzureAISearchDocument>(text, options, cancellationToken)
                .ConfigureAwait(false);
            await foreach (SearchResult<AzureAISearchDocument> result in response.Value.GetResultsAsync().WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                candidates.Add(new ScoredCandidate(result.Document.ToIndexedProduct(), toScore(result.Score ?? 0)));
                if (candidates.Count >= size)
                {
                    break;
                }
            }
        }
        catch (RequestFailedException ex)
        {
            throw Translate(ex, "search");
        }

        return candidates;
    }

    private static bool IsRetryable(int status) => status is 409 or 422 or 429 or 503;

    private async Task<List<AzureAISearchDocument>?> SearchFirstPageAsync(SearchOptions options, string operation, CancellationToken cancellationToken)
    {
        try
        {
            Response<SearchResults<AzureAISearchDocument>> response = await _searchClient
                .SearchAsync<AzureAISearchDocument>("*", options, cancellationToken)
                .ConfigureAwait(false);
            var documents = new List<AzureAISearchDocument>();
            await foreach (Page<SearchResult<AzureAISearchDocument>> page in response.Value.GetResultsAsync().AsPages().WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                foreach (SearchResult<AzureAISearchDocument> result in page.Values)
                {
                    documents.Add(result.Document);
                }

                // Callers page themselves (by key or by chunk); never let the SDK follow a skip-based continuation.
                break;
            }

            return documents;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
        catch (RequestFailedException ex)
        {
            throw Translate(ex, operation);
        }
    }

    private async Task WriteAsync<T>(
        List<PendingAction<T>> actions,
        string operation,
        Func<int, bool> isSuccess,
        CancellationToken cancellationToken)
    {
        var failures = new List<KeyFailure>();
        var batch = new List<PendingAction<T>>();
        long batchBytes = 0;
        foreach (PendingAction<T> action in actions)
        {
            if (action.Bytes > MaxBatchBytes)
            {
                failures.Add(new KeyFailure(action.Key, 413,
                    $"the document is about {action.Bytes.ToString(CultureInfo.InvariantCulture)} bytes of JSON, over the {MaxBatchBytes.ToString(CultureInfo.InvariantCulture)}-byte request budget; it was not sent"));
                continue;
            }

            if (batch.Count == MaxDocumentsPerBatch || batchBytes + action.Bytes > MaxBatchBytes)
            {
                await SendBatchAsync(batch, batchBytes, operation, isSuccess, failures, cancellationToken).ConfigureAwait(false);
                batch = [];
                batchBytes = 0;
            }

            batch.Add(action);
            batchBytes += action.Bytes;
        }

        if (batch.Count > 0)
        {
            await SendBatchAsync(batch, batchBytes, operation, isSuccess, failures, cancellationToken).ConfigureAwait(false);
        }

        if (failures.Count > 0)
        {
            AzureAISearchLog.KeysFailed(_logger, _indexName, failures.Count, operation);
            throw new ProductIndexException(DescribeFailures(operation, failures));
        }
    }

    private async Task SendBatchAsync<T>(
        List<PendingAction<T>> batch,
        long batchBytes,
        string operation,
        Func<int, bool> isSuccess,
        List<KeyFailure> failures,
        CancellationToken cancellationToken)
    {
        List<PendingAction<T>> pending = batch;
        for (int attempt = 0; ; attempt++)
        {
            AzureAISearchLog.SendingBatch(_logger, _indexName, operation, pending.Count, batchBytes);
            IndexDocumentsBatch<T> request = IndexDocumentsBatch.Create([.. pending.Select(p => p.Action)]);
            IndexDocumentsResult result;
            try
            {
                result = (await _searchClient
                    .IndexDocumentsAsync(request, new IndexDocumentsOptions { ThrowOnAnyError = false }, cancellationToken)
                    .ConfigureAwait(false)).Value;
            }
            catch (RequestFailedException ex)
            {
                throw Translate(ex, operation);
            }

            var byKey = new Dictionary<string, PendingAction<T>>(pending.Count, StringComparer.Ordinal);
            foreach (PendingAction<T> p in pending)
            {
                byKey[p.Key] = p;
            }

            var retry = new List<PendingAction<T>>();
            foreach (IndexingResult item in result.Results)
            {
                if (item.Succeeded || isSuccess(item.Status))
                {
                    continue;
                }

                if (IsRetryable(item.Status) && attempt < MaxDocumentRetries && byKey.TryGetValue(item.Key, out PendingAction<T> again))
                {
                    retry.Add(again);
                }
                else
                {
                    failures.Add(new KeyFailure(item.Key, item.Status, item.ErrorMessage));
                }
            }

            if (retry.Count == 0)
            {
                return;
            }

            TimeSpan delay = TimeSpan.FromTicks(Math.Min(
                DocumentRetryMaxDelay.Ticks,
                DocumentRetryDelay.Ticks * (1L << Math.Min(attempt, 20))));
            AzureAISearchLog.RetryingKeys(_logger, _indexName, retry.Count, operation, attempt + 1, delay.TotalMilliseconds);
            await Task.Delay(delay, _timeProvider, cancellationToken).ConfigureAwait(false);
            pending = retry;
            batchBytes = retry.Sum(p => p.Bytes);
        }
    }

    private string DescribeFailures(string operation, List<KeyFailure> failures)
    {
        const int Listed = 20;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Azure AI Search index '{_indexName}': {operation} failed for {failures.Count} document(s): ");
        for (int i = 0; i < Math.Min(Listed, failures.Count); i++)
        {
            KeyFailure f = failures[i];
            if (i > 0)
            {
                sb.Append("; ");
            }

            sb.Append(CultureInfo.InvariantCulture, $"'{f.Key}' (HTTP {f.Status}): {f.Message ?? "no message"}");
        }

        if (failures.Count > Listed)
        {
            sb.Append(CultureInfo.InvariantCulture, $"; and {failures.Count - Listed} more");
        }

        return sb.ToString();
    }

    private ProductIndexException Translate(RequestFailedException ex, string operation, string? detail = null)
    {
        string firstLine = ex.Message.Split('\n', 2)[0].Trim();
        string code = string.IsNullOrEmpty(ex.ErrorCode) ? "no error code" : ex.ErrorCode;
        return new ProductIndexException(
            $"Azure AI Search index '{_indexName}': {operation} failed with HTTP {ex.Status.ToString(CultureInfo.InvariantCulture)} ({code}){detail}: {firstLine}",
            ex);
    }

    private readonly record struct PendingAction<T>(string Key, IndexDocumentsAction<T> Action, long Bytes);

    private readonly record struct KeyFailure(string Key, int Status, string? Message);
}
