using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Search.Documents;
using Azure.Search.Documents.Indexes;
using Azure.Search.Documents.Indexes.Models;
using Azure.Search.Documents.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Ranking;
using ProductSimilarity.Core.Text;

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

    private readonly SearchIndexClient _indexClient;
    private readonly SearchClient _searchClient;
    private readonly string _indexName;
    private readonly string _analyzer;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    // The schema's vector dimensions: null until first asked; a task holding null means "no index" (404).
    private Task<int?>? _dimensions;

    /// <summary>Creates the index adapter over the registered clients (see <see cref="AzureAISearchServiceCollectionExtensions"/>).</summary>
    /// <param name="indexClient">The service client (schema); its options (retry, transport) apply to every call.</param>
    /// <param name="searchClient">The client of the index's documents; its <see cref="SearchClient.IndexName"/> is the index.</param>
    /// <param name="analyzer">Analyzer for title, description and brand, e.g. <c>en.lucene</c>, <c>zh-Hans.lucene</c>, <c>standard.lucene</c>.</param>
    /// <param name="logger">Logger; <see cref="NullLogger"/> when null.</param>
    /// <param name="timeProvider">Clock for the per-document retry backoff; <see cref="TimeProvider.System"/> by default.</param>
    public AzureAISearchProductIndex(
        SearchIndexClient indexClient,
        SearchClient searchClient,
        string analyzer,
        ILogger<AzureAISearchProductIndex>? logger = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(indexClient);
        ArgumentNullException.ThrowIfNull(searchClient);
        ArgumentException.ThrowIfNullOrWhiteSpace(analyzer);
        _indexClient = indexClient;
        _searchClient = searchClient;
        _indexName = searchClient.IndexName;
        _analyzer = analyzer;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Creates the index adapter over a <see cref="SearchIndexClient"/> and the search client it makes for
    /// <paramref name="indexName"/> (tests, tools).</summary>
    /// <param name="indexClient">The service client; its options (retry, transport) apply to every call.</param>
    /// <param name="indexName">The index name.</param>
    /// <param name="analyzer">Analyzer for title, description and brand.</param>
    /// <param name="logger">Logger; <see cref="NullLogger"/> when null.</param>
    /// <param name="timeProvider">Clock for the per-document retry backoff.</param>
    public AzureAISearchProductIndex(
        SearchIndexClient indexClient,
        string indexName,
        string analyzer,
        ILogger<AzureAISearchProductIndex>? logger = null,
        TimeProvider? timeProvider = null)
        : this(indexClient, (indexClient ?? throw new ArgumentNullException(nameof(indexClient))).GetSearchClient(indexName), analyzer, logger, timeProvider)
    {
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

    /// <inheritdoc/>
    /// <remarks>
    /// The index definition is read once (<c>GET /indexes('name')</c>) and the answer cached, a missing index (404)
    /// included; <see cref="EnsureCreatedAsync"/> replaces the cached answer. A failed read is not cached, so the next
    /// call asks again.
    /// </remarks>
    /// <exception cref="ProductIndexException">The index definition could not be read.</exception>
    public ValueTask<int?> GetDimensionsAsync(CancellationToken cancellationToken = default)
    {
        Task<int?>? known = Volatile.Read(ref _dimensions);
        if (known is { IsCompletedSuccessfully: true })
        {
            return ValueTask.FromResult(known.Result);
        }

        if (known is null || known.IsFaulted || known.IsCanceled)
        {
            // First call, or the last read failed: read again. Concurrent callers share whichever read is stored first.
            var read = ReadDimensionsAsync();
            var raced = Interlocked.CompareExchange(ref _dimensions, read, known);
            known = ReferenceEquals(raced, known) ? read : raced!;
        }

        return new ValueTask<int?>(known.WaitAsync(cancellationToken));
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
            Volatile.Write(ref _dimensions, Task.FromResult<int?>(stored));
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

        int? known = Volatile.Read(ref _dimensions) is { IsCompletedSuccessfully: true } schema ? schema.Result : null;
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

        List<PreparedDocument> documents = order.ConvertAll(id => PreparedDocument.From(AzureAISearchDocument.From(latest[id])));
        await WriteAsync(documents, IndexActionType.MergeOrUpload, "upsert", missing: null, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Sends <c>merge</c> actions carrying every field but the vector, so the service keeps the stored vector and no
    /// vector travels either way. A key the index does not hold answers 404 and is returned as missing. Batching,
    /// per-key retries and failures as in <see cref="UpsertAsync"/>.
    /// </remarks>
    public async Task<IReadOnlyList<string>> UpdateFieldsAsync(IReadOnlyList<IndexedProduct> products, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(products);
        var latest = new Dictionary<string, IndexedProduct>(products.Count, StringComparer.Ordinal);
        var order = new List<string>(products.Count);
        foreach (IndexedProduct item in products)
        {
            ArgumentNullException.ThrowIfNull(item, nameof(products));
            if (string.IsNullOrEmpty(item.Id))
            {
                throw new ArgumentException("Every product needs an id.", nameof(products));
            }

            if (latest.TryAdd(item.Id, item))
            {
                order.Add(item.Id);
            }
            else
            {
                latest[item.Id] = item;
            }
        }

        var missing = new List<string>();
        List<PreparedDocument> documents = order.ConvertAll(id => PreparedDocument.From(AzureAISearchDocument.From(latest[id], withVector: false)));
        await WriteAsync(documents, IndexActionType.Merge, "update fields", missing, cancellationToken).ConfigureAwait(false);
        return missing;
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

        // A delete of an unknown key is not an error for this port: 404s are collected and ignored.
        await WriteAsync(distinct.ConvertAll(PreparedDocument.KeyOnly), IndexActionType.Delete, "delete", missing: [], cancellationToken).ConfigureAwait(false);
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
    /// cannot fail to parse. The query's product codes and their near-match keys (<see cref="ProductCodes"/>) are added
    /// to the text, and the <c>codes-boost</c> scoring profile weighs the keyword-analysed <c>codes</c> and
    /// <c>codeBases</c> fields above the text, as the embedded index boosts its codes fields. The score is the BM25
    /// <c>@search.score</c>.</para>
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
        string? text = query.UsesKeyword ? AzureAISearchQuerySyntax.WithCodes(AzureAISearchQuerySyntax.ToSimpleQueryText(query.Text), query.Text) : null;
        ReadOnlyMemory<float>? vector = query.UsesVector ? query.Vector : null;
        if (size == 0 || (text is null && vector is null))
        {
            return CandidateLists.Empty;
        }

        string? filter = AzureAISearchQuerySyntax.BuildFilter(query.Filter, query.ExcludeIds, query.ExcludeGroupIds);
        Task<List<ScoredCandidate>> keyword = text is null
            ? Task.FromResult(new List<ScoredCandidate>())
            : CandidatesAsync(text, KeywordOptions(size, filter, query.IncludeVectors), static score => score, cancellationToken);
        Task<List<ScoredCandidate>> nearest = vector is not { } v
            ? Task.FromResult(new List<ScoredCandidate>())
            : CandidatesAsync(null, VectorOptions(v, size, filter, query.IncludeVectors), ScoreToCosine, cancellationToken);
        await Task.WhenAll(keyword, nearest).ConfigureAwait(false);
        return new CandidateLists(await nearest.ConfigureAwait(false), await keyword.ConfigureAwait(false));
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>The cosine similarity behind a vector <c>@search.score</c> of <c>1 / (1 + (1 - cosine))</c>.</summary>
    internal static double ScoreToCosine(double score) => score > 0 ? 2 - (1 / score) : -1;

    private SearchOptions KeywordOptions(int size, string? filter, bool includeVectors)
    {
        var options = ResultOptions(size, filter, includeVectors);
        options.QueryType = SearchQueryType.Simple;
        options.SearchMode = SearchMode.Any;
        options.ScoringProfile = AzureAISearchSchema.CodesScoringProfile;
        return options;
    }

    private SearchOptions VectorOptions(ReadOnlyMemory<float> vector, int size, string? filter, bool includeVectors)
    {
        var options = ResultOptions(size, filter, includeVectors);
        options.VectorSearch = new VectorSearchOptions
        {
            Queries = { new VectorizedQuery(vector) { KNearestNeighborsCount = Math.Max(MinimumNeighbors, size), Fields = { AzureAISearchSchema.Vector } } },
            FilterMode = filter is null ? (VectorFilterMode?)null : VectorFilterMode.PreFilter,
        };
        return options;
    }

    private SearchOptions ResultOptions(int size, string? filter, bool includeVectors)
    {
        var options = new SearchOptions { Size = size, Filter = filter };
        foreach (string field in AzureAISearchSchema.ResultFields)
        {
            options.Select.Add(field);
        }

        if (IncludeVectorsInResults || includeVectors)
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

    // Not tied to any caller's token: the one read is shared by every caller. A failed read is replaced on the next call.
    private async Task<int?> ReadDimensionsAsync()
    {
        try
        {
            Response<SearchIndex> response = await _indexClient.GetIndexAsync(_indexName).ConfigureAwait(false);
            return AzureAISearchSchema.ReadDimensions(response.Value);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            AzureAISearchLog.IndexMissing(_logger, _indexName);
            return null;
        }
        catch (RequestFailedException ex)
        {
            throw Translate(ex, "read index definition");
        }
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

    // Batches by count and by bytes (each document serialised once), then sends. Keys answered 404 go to missing when
    // it is given, and are failures otherwise.
    private async Task WriteAsync(
        List<PreparedDocument> documents,
        IndexActionType type,
        string operation,
        List<string>? missing,
        CancellationToken cancellationToken)
    {
        var failures = new List<KeyFailure>();
        var batch = new List<PendingAction>();
        long batchBytes = 0;
        foreach (PreparedDocument document in documents)
        {
            var action = new PendingAction(document.Key, new IndexDocumentsAction<PreparedDocument>(type, document), document.Utf8.LongLength + ActionOverheadBytes);
            if (action.Bytes > MaxBatchBytes)
            {
                failures.Add(new KeyFailure(action.Key, 413,
                    $"the document is about {action.Bytes.ToString(CultureInfo.InvariantCulture)} bytes of JSON, over the {MaxBatchBytes.ToString(CultureInfo.InvariantCulture)}-byte request budget; it was not sent"));
                continue;
            }

            if (batch.Count == MaxDocumentsPerBatch || batchBytes + action.Bytes > MaxBatchBytes)
            {
                await SendBatchAsync(batch, batchBytes, operation, missing, failures, cancellationToken).ConfigureAwait(false);
                batch = [];
                batchBytes = 0;
            }

            batch.Add(action);
            batchBytes += action.Bytes;
        }

        if (batch.Count > 0)
        {
            await SendBatchAsync(batch, batchBytes, operation, missing, failures, cancellationToken).ConfigureAwait(false);
        }

        if (failures.Count > 0)
        {
            AzureAISearchLog.KeysFailed(_logger, _indexName, failures.Count, operation);
            throw new ProductIndexException(DescribeFailures(operation, failures));
        }
    }

    private async Task SendBatchAsync(
        List<PendingAction> batch,
        long batchBytes,
        string operation,
        List<string>? missing,
        List<KeyFailure> failures,
        CancellationToken cancellationToken)
    {
        List<PendingAction> pending = batch;
        for (int attempt = 0; ; attempt++)
        {
            AzureAISearchLog.SendingBatch(_logger, _indexName, operation, pending.Count, batchBytes);
            IndexDocumentsBatch<PreparedDocument> request = IndexDocumentsBatch.Create([.. pending.Select(p => p.Action)]);
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

            var byKey = new Dictionary<string, PendingAction>(pending.Count, StringComparer.Ordinal);
            foreach (PendingAction p in pending)
            {
                byKey[p.Key] = p;
            }

            var retry = new List<PendingAction>();
            foreach (IndexingResult item in result.Results)
            {
                if (item.Succeeded || item.Status is >= 200 and < 300)
                {
                    continue;
                }

                if (item.Status == 404 && missing is not null)
                {
                    missing.Add(item.Key);
                    continue;
                }

                if (IsRetryable(item.Status) && attempt < MaxDocumentRetries && byKey.TryGetValue(item.Key, out PendingAction again))
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

    private readonly record struct PendingAction(string Key, IndexDocumentsAction<PreparedDocument> Action, long Bytes);

    private readonly record struct KeyFailure(string Key, int Status, string? Message);
}
