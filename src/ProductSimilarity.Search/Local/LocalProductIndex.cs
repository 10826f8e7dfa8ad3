using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Lucene.Net.Documents;
using Lucene.Net.Index;
using Lucene.Net.Queries;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Store;
using Lucene.Net.Util;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Diagnostics;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Ranking;
using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Search.Local;

/// <summary>
/// The embedded, on-disk <see cref="IProductIndex"/>: one Lucene.Net index folder holding every product's stored fields,
/// content hash and vector, BM25 keyword search over the analysed text, and exact cosine search over the vectors held
/// in memory.
/// </summary>
/// <remarks>
/// <para><b>Durability.</b> Writes go to a Lucene <see cref="IndexWriter"/> and become visible and durable only on
/// <see cref="CommitAsync"/>; a Lucene commit is atomic, so a crash (even SIGKILL) between commits leaves the last
/// commit intact and a rerun of the ingestion finishes the job. Products are keyed by id (<c>UpdateDocument</c>), so a
/// product is never stored twice. <see cref="DisposeAsync"/> without a commit <b>discards</b> the uncommitted writes
/// (<see cref="IndexWriter.Rollback"/>); it never commits on your behalf.</para>
/// <para><b>One writer, many readers.</b> The writer is opened lazily on the first write and then holds Lucene's
/// <c>write.lock</c> (<see cref="NativeFSLockFactory"/>, released by the OS if the process dies) until the next
/// commit (or until the index is disposed), so a server that deleted one product does not lock out an ingestion run
/// in another process. A second writer while the lock is held, in another process or another instance in this process, gets a
/// <see cref="ProductIndexException"/>. Readers, in this or another process, keep working during writes. By default a
/// reader sees each commit at its next read (<c>DirectoryReader.OpenIfChanged</c>, checked on every read, on the reading
/// thread). With <see cref="LocalProductIndexOptions.RefreshInterval"/> set (a server), a background task looks for
/// another process's commit at that interval and warms the new reader (segment vectors loaded, then the HNSW graph brought
/// up to date) off the request path; reads keep using the previous commit until the new one is ready, and search exactly
/// while the graph catches up. This instance's own commits are visible at once in both modes.</para>
/// <para><b>Vectors.</b> The stored vectors of each Lucene segment are loaded on the first vector query that needs them
/// into one contiguous <c>float[]</c> matrix per segment and cached for as long as the segment lives, so a commit
/// only loads the new segments. Search is an exact dot product (vectors are unit length): by default
/// (<see cref="ExactScanMode.Int8"/>) a scan of an int8 copy of each matrix with a proven error bound per row, and
/// <see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/> in fp32 for the rows that can still reach
/// the top k (<see cref="ExactVectorScan"/>), which gives the same top k and scores as an fp32 dot product of every row;
/// filters and exclusions are applied before a row can enter the top k.</para>
/// <para><b>Thread-safety.</b> Thread-safe. Searches and reads run concurrently; writes are serialised.</para>
/// </remarks>
public sealed class LocalProductIndex : IProductIndex
{
    private const string DimensionsKey = "psim.dimensions";
    private const string EmbeddingModelKey = "psim.embedding-model";
    private const string TunedFusionKey = "psim.tuned-fusion";
    private const int MaxWarmTerms = 20_000;

    private readonly string _path;
    private readonly bool _readOnly;
    private readonly LocalProductIndexOptions _options;
    private readonly FSDirectory _directory;
    private readonly ProductTextAnalyzer _analyzer;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly System.Threading.Lock _readerGate = new();
    private readonly ConditionalWeakTable<object, Lazy<SegmentVectors>> _segments = [];
    private readonly ConditionalWeakTable<object, SegmentPostings> _postings = [];

    // Frequent keyword terms queries have asked for (at most MaxWarmTerms): with a background refresh they are read into a
    // new segment's postings before queries reach it, as its vectors are (a merge can make a segment holding most of the
    // catalog, whose common terms would otherwise be read on the request thread).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Field, string Term), byte> _frequentTerms = new();
    private int _frequentTermCount;
    private readonly VectorGraph _graph;

    // Ids written (with their vectors) or deleted since the last commit, so DeleteAsync can count what it removes and
    // UpdateFieldsAsync can keep vectors not yet committed. Guarded by _writeGate.
    private readonly Dictionary<string, ReadOnlyMemory<float>> _pendingUpserts = new(StringComparer.Ordinal);
    private readonly HashSet<string> _pendingDeletes = new(StringComparer.Ordinal);

    private SearcherManager? _searchers;
    private IndexWriter? _writer;
    private FSDirectory? _writerDirectory;
    private long _writerBaseGeneration = -1;
    private int _dimensions;
    private string? _embeddingModel;
    private TunedFusion? _tunedFusion;
    private int _disposed;
    private readonly CancellationTokenSource _stopRefresh = new();
    private Task? _refreshLoop;
    private Exception? _refreshError;

    private LocalProductIndex(string path, bool readOnly, LocalProductIndexOptions options, FSDirectory directory)
    {
        _path = path;
        _readOnly = readOnly;
        _options = options;
        _directory = directory;
        _analyzer = new ProductTextAnalyzer();
        _graph = new VectorGraph(System.IO.Path.Combine(path, "hnsw"), options.Hnsw, syncOnQuery: options.RefreshInterval is null);
    }

    /// <summary>Whether a background task refreshes the reader (<see cref="LocalProductIndexOptions.RefreshInterval"/>).</summary>
    private bool BackgroundRefresh => _options.RefreshInterval is not null;

    /// <summary>The last error of the background refresh, or null when its last pass succeeded (or there is none).</summary>
    public Exception? BackgroundRefreshError => Volatile.Read(ref _refreshError);

    /// <summary>The full path of the index folder.</summary>
    public string Path => _path;

    /// <summary>Vector dimensions of the stored embeddings, or null while the index has none; known from the last commit
    /// or write, without I/O.</summary>
    public int? Dimensions => Volatile.Read(ref _dimensions) is > 0 and var d ? d : null;

    /// <inheritdoc/>
    public ValueTask<int?> GetDimensionsAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(Dimensions);

    /// <inheritdoc/>
    public string? EmbeddingModel => Volatile.Read(ref _embeddingModel);

    /// <inheritdoc/>
    public async Task SetEmbeddingModelAsync(string model, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            var writer = Writer();
            if (!writer.CommitData.TryGetValue(EmbeddingModelKey, out var current) || current != model)
            {
                writer.SetCommitData(new Dictionary<string, string>(writer.CommitData) { [EmbeddingModelKey] = model });
            }

            Volatile.Write(ref _embeddingModel, model);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <inheritdoc/>
    public TunedFusion? TunedFusion => Volatile.Read(ref _tunedFusion);

    /// <inheritdoc/>
    public async Task SetTunedFusionAsync(TunedFusion? fusion, CancellationToken cancellationToken = default)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            var writer = Writer();
            var data = new Dictionary<string, string>(writer.CommitData);
            if (fusion is null)
            {
                data.Remove(TunedFusionKey);
            }
            else
            {
                data[TunedFusionKey] = fusion.Serialize();
            }

            writer.SetCommitData(data);
            Volatile.Write(ref _tunedFusion, fusion);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>Opens (or, unless <paramref name="readOnly"/>, creates) the index in a folder.</summary>
    /// <param name="path">The index folder. Created when missing unless <paramref name="readOnly"/>.</param>
    /// <param name="readOnly">
    /// Open for reading only: writes throw. A missing folder, or one that holds no committed index, is an error
    /// (<see cref="ProductIndexException"/>) rather than an empty index, so that a mistyped path is not silently served
    /// as an empty catalog. A writable index on an empty folder reads as empty until the first commit.
    /// </param>
    /// <param name="options">Keyword and HNSW settings; <see cref="LocalProductIndexOptions.Default"/> when null.</param>
    /// <returns>The open index. Dispose it.</returns>
    /// <exception cref="ProductIndexException">The folder cannot be opened, or (read-only) holds no index.</exception>
    public static LocalProductIndex Open(string path, bool readOnly = false, LocalProductIndexOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (options?.RefreshInterval is { } refresh && refresh <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), refresh, "RefreshInterval must be positive (or null).");
        }

        string fullPath = System.IO.Path.GetFullPath(path);
        if (readOnly && !System.IO.Directory.Exists(fullPath))
        {
            throw new ProductIndexException($"No index at {fullPath}: the folder does not exist. Ingest a catalog first.");
        }

        FSDirectory directory;
        try
        {
            var folder = System.IO.Directory.CreateDirectory(fullPath);
            directory = FSDirectory.Open(folder, new NativeFSLockFactory(folder));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ProductIndexException($"Cannot open the index folder {fullPath}: {ex.Message}", ex);
        }

        try
        {
            if (readOnly && !DirectoryReader.IndexExists(directory))
            {
                throw new ProductIndexException($"No index at {fullPath}: the folder holds no committed index. Ingest a catalog first.");
            }

            var index = new LocalProductIndex(fullPath, readOnly, options ?? LocalProductIndexOptions.Default, directory);
            index.Searchers(blocking: false);
            if (index._options.RefreshInterval is { } interval)
            {
                index._refreshLoop = Task.Run(() => index.RefreshLoopAsync(interval));
            }

            return index;
        }
        catch (IOException ex)
        {
            directory.Dispose();
            throw new ProductIndexException($"Cannot read the index at {fullPath}: {ex.Message}", ex);
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Records the dimensions in the index's commit data. When the index has no pending writes the record is committed
    /// at once (which also creates the index in an empty folder); otherwise it is committed with the next
    /// <see cref="CommitAsync"/>. An index that already holds other dimensions is refused.
    /// </remarks>
    public async Task EnsureCreatedAsync(int dimensions, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimensions);
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            Searchers(blocking: false);
            int known = Volatile.Read(ref _dimensions);
            if (known != 0 && known != dimensions)
            {
                throw DimensionMismatch(known, dimensions, "the requested index");
            }

            if (known == dimensions && DirectoryReader.IndexExists(_directory))
            {
                return;
            }

            var writer = Writer();
            RecordDimensions(writer, dimensions);
            if (_pendingUpserts.Count == 0 && _pendingDeletes.Count == 0)
            {
                writer.Commit();
                Searchers(blocking: true);
            }
        }
        catch (IOException ex)
        {
            throw new ProductIndexException($"Creating the index at {_path} failed: {ex.Message}", ex);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ProductIndexException">
    /// The vectors' dimensions differ from the index's, the index is read-only, or another writer holds the index.
    /// </exception>
    public async Task UpsertAsync(IReadOnlyList<IndexedProduct> products, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(products);
        if (products.Count == 0)
        {
            return;
        }

        int dimensions = products[0].Vector.Length;
        foreach (var p in products)
        {
            if (string.IsNullOrEmpty(p.Id))
            {
                throw new ArgumentException("Every product needs an id.", nameof(products));
            }

            if (p.Vector.Length == 0)
            {
                throw new ArgumentException($"Product '{p.Id}' has an empty vector.", nameof(products));
            }

            if (p.Vector.Length != dimensions)
            {
                throw new ArgumentException(
                    $"Product '{p.Id}' has a {p.Vector.Length}-dimensional vector, product '{products[0].Id}' a {dimensions}-dimensional one; one batch must agree.",
                    nameof(products));
            }
        }

        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            var writer = Writer();
            int known = Volatile.Read(ref _dimensions);
            if (known != 0 && known != dimensions)
            {
                throw DimensionMismatch(known, dimensions, $"product '{products[0].Id}'");
            }

            if (known == 0)
            {
                RecordDimensions(writer, dimensions);
            }

            foreach (var p in products)
            {
                cancellationToken.ThrowIfCancellationRequested();
                writer.UpdateDocument(new Term(ProductFields.Id, p.Id), ProductDocuments.Create(p, _options.Text));
                _pendingUpserts[p.Id] = p.Vector;
                _pendingDeletes.Remove(p.Id);
            }
        }
        catch (IOException ex)
        {
            throw new ProductIndexException($"Writing to the index at {_path} failed: {ex.Message}", ex);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// A Lucene document is replaced whole, so the stored vectors are read here, for the whole batch in one pass over the
    /// id terms (or taken from this session's uncommitted writes), and written back with the new fields.
    /// </remarks>
    public async Task<IReadOnlyList<string>> UpdateFieldsAsync(IReadOnlyList<IndexedProduct> products, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(products);
        if (products.Count == 0)
        {
            return [];
        }

        if (products.Any(p => string.IsNullOrEmpty(p.Id)))
        {
            throw new ArgumentException("Every product needs an id.", nameof(products));
        }

        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            var writer = Writer();
            Searchers(blocking: true); // the committed state as of now, also with a background refresh
            var fromCommit = products
                .Where(p => !_pendingUpserts.ContainsKey(p.Id) && !_pendingDeletes.Contains(p.Id))
                .Select(p => p.Id)
                .ToList();
            var committed = Read(searcher => StoredVectors(searcher, fromCommit), []);
            var missing = new List<string>();
            foreach (var p in products)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!_pendingUpserts.TryGetValue(p.Id, out var vector) && !committed.TryGetValue(p.Id, out vector))
                {
                    missing.Add(p.Id);
                    continue;
                }

                writer.UpdateDocument(new Term(ProductFields.Id, p.Id), ProductDocuments.Create(p with { Vector = vector }, _options.Text));
                _pendingUpserts[p.Id] = vector;
            }

            return missing;
        }
        catch (IOException ex)
        {
            throw new ProductIndexException($"Writing to the index at {_path} failed: {ex.Message}", ex);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <inheritdoc/>
    /// <remarks>Counts the ids that exist in the last commit or were upserted since, and are not already deleted.</remarks>
    public async Task<int> DeleteAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            return 0;
        }

        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            var writer = Writer();
            var distinct = ids.Where(id => !string.IsNullOrEmpty(id)).Distinct(StringComparer.Ordinal).ToList();
            Searchers(blocking: true); // the committed state as of now, also with a background refresh
            var committed = Read(searcher => FindDocs(searcher.IndexReader, distinct).Select(x => x.Id).ToHashSet(StringComparer.Ordinal), []);
            int removed = 0;
            foreach (var id in distinct)
            {
                bool exists = _pendingUpserts.ContainsKey(id) || (committed.Contains(id) && !_pendingDeletes.Contains(id));
                if (exists)
                {
                    removed++;
                }

                _pendingUpserts.Remove(id);
                _pendingDeletes.Add(id);
            }

            writer.DeleteDocuments([.. distinct.Select(id => new Term(ProductFields.Id, id))]);
            return removed;
        }
        catch (IOException ex)
        {
            throw new ProductIndexException($"Deleting from the index at {_path} failed: {ex.Message}", ex);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <inheritdoc/>
    /// <remarks>On an index that has not written anything this only refreshes the reader.</remarks>
    public async Task CommitAsync(CancellationToken cancellationToken = default)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            bool committed = false;
            GraphDelta? delta = null;
            if (_writer is { } writer)
            {
                writer.Commit();

                // Disposing the writer waits for its merges and commits their result. Doing both here, while write.lock is
                // still held, makes this the commit the reader sees next. This writer held write.lock from the commit it
                // opened on to this one, so these are all the changes between the two: the HNSW graph follows them without
                // reading every stored vector again. (Should the reader still see another commit, the graph compares
                // itself with the stored vectors instead.)
                writer.WaitForMerges();
                writer.Commit();
                delta = new GraphDelta(
                    _writerBaseGeneration,
                    SegmentInfos.GetLastCommitGeneration(_directory),
                    new Dictionary<string, ReadOnlyMemory<float>>(_pendingUpserts, StringComparer.Ordinal),
                    [.. _pendingDeletes]);
                _pendingUpserts.Clear();
                _pendingDeletes.Clear();
                committed = true;

                // Release write.lock at every commit, so that a long-lived process that wrote once (psim serve after a
                // DELETE) does not keep another process's ingestion out; the next write reopens the writer.
                writer.Dispose();
                _writer = null;
            }

            if (Searchers(blocking: true) is { } manager && committed)
            {
                // The writer pays for the HNSW graph (when the index is large enough), so queries find it in step.
                var searcher = manager.Acquire();
                try
                {
                    if (searcher.IndexReader is DirectoryReader reader)
                    {
                        _graph.SyncAfterCommit(reader, Segment, TransientSegment, delta, cancellationToken);
                    }
                }
                finally
                {
                    manager.Release(searcher);
                }
            }
        }
        catch (IOException ex)
        {
            throw new ProductIndexException($"Committing the index at {_path} failed: {ex.Message}", ex);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <inheritdoc/>
    public Task<IndexedProduct?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        using var timer = QueryStages.Time(QueryStage.Lookup);
        return Task.FromResult(Read(searcher =>
        {
            int doc = FindDoc(searcher.IndexReader, id);
            return doc < 0 ? null : ReadProduct(searcher.IndexReader, doc);
        }, (IndexedProduct?)null));
    }

    /// <inheritdoc/>
    public Task<IReadOnlyDictionary<string, string>> GetContentHashesAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var empty = new Dictionary<string, string>(StringComparer.Ordinal);
        if (ids.Count == 0)
        {
            return Task.FromResult<IReadOnlyDictionary<string, string>>(empty);
        }

        return Task.FromResult<IReadOnlyDictionary<string, string>>(Read(searcher =>
        {
            var hashes = new Dictionary<string, string>(ids.Count, StringComparer.Ordinal);
            var fields = new HashSet<string> { ProductFields.ContentHash };
            var found = FindDocs(searcher.IndexReader, ids);
            foreach (var (id, doc) in found)
            {
                if (searcher.Doc(doc, fields).Get(ProductFields.ContentHash) is { } hash)
                {
                    hashes[id] = hash;
                }
            }

            return hashes;
        }, empty));
    }

    /// <inheritdoc/>
    /// <remarks>Ids of the last commit, read from the id terms (no stored fields are loaded); unordered.</remarks>
    public IAsyncEnumerable<string> GetAllIdsAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return Enumerate(this, cancellationToken);

        static async IAsyncEnumerable<string> Enumerate(LocalProductIndex index, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Yield();
            var ids = index.Read(AllIds, []);
            foreach (var id in ids)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return id;
            }
        }
    }

    /// <summary>
    /// Compares the HNSW graph saved for the last commit with the products that commit holds: every product present
    /// with its current vector, nothing else, and a sample of products finding themselves through the graph. For crash
    /// and rerun checks; it reads the whole index and the saved graph, so it is not for a request path.
    /// </summary>
    /// <returns>The comparison; <see cref="VectorGraphCheck.Saved"/> is false when no graph is saved for the commit
    /// (below <see cref="HnswSettings.MinProducts"/>, or not written yet).</returns>
    /// <remarks>Thread-safe.</remarks>
    public VectorGraphCheck CheckVectorGraph()
        => Read(
            searcher => searcher.IndexReader is DirectoryReader reader
                ? _graph.CheckSaved(reader, Segment)
                : new VectorGraphCheck(-1, 0, false, 0, 0, 0, 0, 0, 0),
            new VectorGraphCheck(-1, 0, false, 0, 0, 0, 0, 0, 0));

    /// <summary>
    /// The HNSW state of the current commit (in use or not and why, size, settings), read from the saved graph without
    /// building one; null while the folder holds no commit. It loads the saved graph once, so it is not for a request path.
    /// </summary>
    /// <remarks>Thread-safe.</remarks>
    public VectorGraphInfo? DescribeVectorGraph()
        => Read(searcher => searcher.IndexReader is DirectoryReader reader ? _graph.Describe(reader, Dimensions ?? 0) : null, null);

    /// <summary>
    /// Bytes held in memory for vector search: the per-segment vector matrices and filter columns loaded so far, and the
    /// HNSW graph when one is in use. Thread-safe.
    /// </summary>
    public (long Matrices, long Graph) VectorMemoryBytes()
    {
        long matrices = 0;
        foreach (var (_, lazy) in _segments)
        {
            if (lazy.IsValueCreated)
            {
                matrices += lazy.Value.MemoryBytes;
            }
        }

        return (matrices, _graph.MemoryBytes);
    }

    /// <summary>Bytes held in memory for keyword search (<see cref="KeywordScorerKind.Memory"/>): the postings of the terms
    /// queried so far and the length norms of the fields queried, over the segments still referenced. Thread-safe.</summary>
    public long KeywordMemoryBytes()
    {
        long bytes = 0;
        foreach (var (_, postings) in _postings)
        {
            bytes += postings.MemoryBytes;
        }

        return bytes;
    }

    /// <summary>The Lucene commit generation the in-memory HNSW graph reflects; null when vector search is exact.</summary>
    public long? VectorGraphGeneration => _graph.Generation;

    /// <summary>Why this process cannot use an HNSW graph (its native library did not load), or null.</summary>
    public string? VectorGraphUnavailable => _graph.Unavailable;

    /// <summary>The HNSW side, for tests and diagnostics.</summary>
    internal VectorGraph Graph => _graph;

    /// <inheritdoc/>
    public Task<long> CountAsync(CancellationToken cancellationToken = default)
        => Task.FromResult(Read(searcher => (long)searcher.IndexReader.NumDocs, 0L));

    /// <inheritdoc/>
    /// <remarks>
    /// The vector list is an exact scan of the in-memory segment matrices (or the HNSW graph); the keyword list is Lucene's
    /// BM25 over the analysed text (<see cref="BuildTextQuery"/>), scored term at a time over postings in memory
    /// (<see cref="MemoryKeywordScorer"/>, same hits and scores) unless <see cref="LocalProductIndexOptions.KeywordScorer"/>
    /// asks for Lucene's searcher. No list holds more products than the index.
    /// </remarks>
    public Task<CandidateLists> GetCandidatesAsync(ProductQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Validate();
        int wanted = query.CandidatesPerList;
        if (wanted == 0 || (!query.UsesVector && !query.UsesKeyword))
        {
            return Task.FromResult(CandidateLists.Empty);
        }

        return Task.FromResult(Read(searcher =>
        {
            int live = searcher.IndexReader.NumDocs;
            if (live == 0)
            {
                return CandidateLists.Empty;
            }

            // No side can return more than the index holds; this also keeps huge Top values from sizing huge heaps.
            int candidates = Math.Min(wanted, live);

            // Candidates carry ids and scores only; the Core reads the stored products of the results it keeps
            // (CandidateProducts), from this reader while it is still the current one.
            var docs = new Dictionary<string, int>(StringComparer.Ordinal);
            IReadOnlyList<ScoredCandidate> vector = [], keyword = [];
            if (query.UsesVector)
            {
                using var timer = QueryStages.Time(QueryStage.Vector);
                vector = VectorSearch(searcher, query, candidates, docs, cancellationToken);
            }

            if (query.UsesKeyword)
            {
                using var timer = QueryStages.Time(QueryStage.Keyword);
                keyword = KeywordSearch(searcher, query, candidates, docs);
            }

            // The per-candidate lean reads the unknown-token shares recorded at ingest, here while the reader is held.
            var shares = query is { Mode: RankingMode.Hybrid, Fusion.LeanPerCandidate: true, CandidateReadableShare: not null, CandidateReadableShareOfRecorded: not null }
                ? RecordedUnknownShares(searcher.IndexReader, docs)
                : null;
            return new CandidateLists(vector, keyword) { Products = new CandidateProducts(this, searcher.IndexReader, docs, shares) };
        }, CandidateLists.Empty));
    }

    /// <inheritdoc/>
    /// <remarks>Uncommitted writes are rolled back, not committed.</remarks>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Stop the background refresh first (it may be warming a reader or bringing the graph up to date).
        await _stopRefresh.CancelAsync().ConfigureAwait(false);
        if (_refreshLoop is { } loop)
        {
            await loop.ConfigureAwait(false);
        }

        _stopRefresh.Dispose();

        // Wait for a write in flight; later writers see _disposed and throw.
        await _writeGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_writer is { } writer)
            {
                if (writer.HasUncommittedChanges())
                {
                    writer.Rollback();
                }
                else
                {
                    writer.Dispose();
                }

                _writer = null;
            }

            // A writable index saves its graph (in step with the last commit) for the next process.
            _graph.Close(save: !_readOnly);
            lock (_readerGate)
            {
                _searchers?.Dispose();
                _searchers = null;
            }

            _analyzer.Dispose();
            _writerDirectory?.Dispose();
            _directory.Dispose();
        }
        finally
        {
            _writeGate.Release();
        }
    }

    // ---- reading ----------------------------------------------------------------------------------------------

    private static List<string> AllIds(IndexSearcher searcher)
    {
        var ids = new List<string>();
        DocsEnum? docs = null;
        foreach (var leaf in searcher.IndexReader.Leaves)
        {
            var reader = leaf.AtomicReader;
            var terms = reader.GetTerms(ProductFields.Id);
            if (terms is null)
            {
                continue;
            }

            var termsEnum = terms.GetEnumerator();
            while (termsEnum.MoveNext())
            {
                docs = termsEnum.Docs(reader.LiveDocs, docs, DocsFlags.NONE);
                if (docs.NextDoc() != DocIdSetIterator.NO_MORE_DOCS)
                {
                    ids.Add(termsEnum.Term.Utf8ToString());
                }
            }
        }

        return ids;
    }

    // The stored vectors of those ids that exist in the searcher's commit.
    private Dictionary<string, ReadOnlyMemory<float>> StoredVectors(IndexSearcher searcher, IReadOnlyList<string> ids)
    {
        var vectors = new Dictionary<string, ReadOnlyMemory<float>>(ids.Count, StringComparer.Ordinal);
        if (ids.Count == 0)
        {
            return vectors;
        }

        var fields = new HashSet<string> { ProductFields.Vector };
        foreach (var (id, doc) in FindDocs(searcher.IndexReader, ids))
        {
            if (searcher.Doc(doc, fields).GetBinaryValue(ProductFields.Vector) is { Length: > 0 } bytes)
            {
                vectors[id] = MemoryMarshal.Cast<byte, float>(bytes.Bytes.AsSpan(bytes.Offset, bytes.Length)).ToArray();
            }
        }

        return vectors;
    }

    // The global doc id of a live product, or -1: from the ids in memory of a segment whose vectors are loaded (no seek,
    // nothing allocated), else from the segment's id terms.
    private int FindDoc(IndexReader reader, string id)
    {
        Term? term = null;
        foreach (var leaf in reader.Leaves)
        {
            if (LoadedSegment(leaf.AtomicReader) is { } segment)
            {
                int row = segment.FindRow(id, leaf.AtomicReader.LiveDocs);
                if (row >= 0)
                {
                    return leaf.DocBase + row;
                }

                continue;
            }

            var docs = leaf.AtomicReader.GetTermDocsEnum(term ??= new Term(ProductFields.Id, id));
            if (docs is not null && docs.NextDoc() is var doc && doc != DocIdSetIterator.NO_MORE_DOCS)
            {
                return leaf.DocBase + doc;
            }
        }

        return -1;
    }

    // The live docs of the ids found: in memory for a segment whose vectors are loaded, else with one terms enumerator per
    // segment, seeking the ids in sorted order (cheap for ingestion batches).
    private List<(string Id, int Doc)> FindDocs(IndexReader reader, IReadOnlyList<string> ids)
    {
        var sorted = ids.Where(id => !string.IsNullOrEmpty(id)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var found = new List<(string, int)>(sorted.Count);
        var remaining = new HashSet<string>(sorted, StringComparer.Ordinal);
        DocsEnum? docs = null;
        foreach (var leaf in reader.Leaves)
        {
            if (remaining.Count == 0)
            {
                break;
            }

            if (LoadedSegment(leaf.AtomicReader) is { } segment)
            {
                var live = leaf.AtomicReader.LiveDocs;
                foreach (var id in sorted)
                {
                    int row = remaining.Contains(id) ? segment.FindRow(id, live) : -1;
                    if (row >= 0)
                    {
                        found.Add((id, leaf.DocBase + row));
                        remaining.Remove(id);
                    }
                }

                continue;
            }

            var terms = leaf.AtomicReader.GetTerms(ProductFields.Id);
            if (terms is null)
            {
                continue;
            }

            var termsEnum = terms.GetEnumerator();
            foreach (var id in sorted)
            {
                if (!remaining.Contains(id) || !termsEnum.SeekExact(new BytesRef(id)))
                {
                    continue;
                }

                docs = termsEnum.Docs(leaf.AtomicReader.LiveDocs, docs, DocsFlags.NONE);
                int doc = docs.NextDoc();
                if (doc != DocIdSetIterator.NO_MORE_DOCS)
                {
                    found.Add((id, leaf.DocBase + doc));
                    remaining.Remove(id);
                }
            }
        }

        return found;
    }

    private List<ScoredCandidate> VectorSearch(
        IndexSearcher searcher,
        ProductQuery query,
        int k,
        Dictionary<string, int> docs,
        CancellationToken cancellationToken)
    {
        var q = query.Vector!.Value.Span;
        var filter = new VectorFilter(query, AttributeDocs(searcher, query.Filter));
        if (searcher.IndexReader is DirectoryReader reader && _graph.Search(reader, Segment, q, k, filter, cancellationToken) is { } hits)
        {
            var fromGraph = new List<ScoredCandidate>(hits.Count);
            foreach (var (doc, score, id) in hits)
            {
                docs.TryAdd(id, doc);
                fromGraph.Add(new ScoredCandidate(id, score));
            }

            return fromGraph;
        }

        var leaves = new List<ExactVectorScan.Leaf>(searcher.IndexReader.Leaves.Count);
        Int8Kernel? kernel = _options.ExactScan == ExactScanMode.Int8 ? ExactVectorScan.DefaultKernel : null;
        foreach (var leaf in searcher.IndexReader.Leaves)
        {
            var segment = Segment(leaf.AtomicReader);
            if (segment.Dimensions == 0)
            {
                continue;
            }

            if (segment.Dimensions != q.Length)
            {
                throw new ArgumentException(
                    $"The query vector has {q.Length} dimensions; the index at {_path} holds {segment.Dimensions}-dimensional vectors.",
                    nameof(query));
            }

            if (kernel is not null)
            {
                // Until its int8 copy is built, the scan reads this segment in fp32 (same results).
                segment.QuantizeInBackground();
            }

            leaves.Add(new ExactVectorScan.Leaf(segment, leaf.DocBase, leaf.AtomicReader.LiveDocs));
        }

        var top = ExactVectorScan.Search(leaves, q, k, filter, kernel, cancellationToken);
        var result = new ScoredCandidate[top.Count];
        for (int i = result.Length - 1; i >= 0; i--)
        {
            var (doc, score, id) = top[i];
            docs.TryAdd(id, doc);
            result[i] = new ScoredCandidate(id, score);
        }

        return [.. result];
    }

    private List<ScoredCandidate> KeywordSearch(IndexSearcher searcher, ProductQuery query, int k, Dictionary<string, int> docs)
    {
        var clauses = KeywordClauses(query.Text!);
        if (clauses.Count == 0)
        {
            return [];
        }

        var leaves = searcher.IndexReader.Leaves;
        var result = new List<ScoredCandidate>();
        void Add(int doc, float score)
        {
            var id = IdOf(leaves, doc);
            docs.TryAdd(id, doc);
            result.Add(new ScoredCandidate(id, score));
        }

        if (_options.KeywordScorer == KeywordScorerKind.Lucene)
        {
            foreach (var hit in searcher.Search(TextQuery(clauses), BuildFilter(query), k).ScoreDocs)
            {
                Add(hit.Doc, hit.Score);
            }
        }
        else
        {
            Action<KeywordClause>? frequent = BackgroundRefresh ? NoteFrequentTerm : null;
            foreach (var (doc, score) in MemoryKeywordScorer.Search(searcher.IndexReader, clauses, ColumnFilter.For(query, LoadedSegment), k, Postings, frequent))
            {
                Add(doc, score);
            }
        }

        return result;
    }

    /// <summary>SHOULD clauses of the analysed terms over the boosted fields; null when the text has no term.</summary>
    /// <remarks>No query parser: user text is only ever analysed, so quotes, colons or brackets cannot fail.</remarks>
    internal BooleanQuery? BuildTextQuery(string text)
    {
        var clauses = KeywordClauses(text);
        return clauses.Count == 0 ? null : TextQuery(clauses);
    }

    // The analysed text fields a keyword query searches, with their boosts, in query order (a boost of 0 leaves one out):
    // the one list both the query (KeywordClauses) and the postings warm-up (WarmPostings) read.
    private (string Field, float Boost)[] BoostedTextFields() =>
    [
        (ProductFields.Title, _options.TitleBoost),
        (ProductFields.Brand, _options.BrandBoost),
        (ProductFields.Category, _options.CategoryBoost),
        (ProductFields.Description, _options.DescriptionBoost),
    ];

    /// <summary>The keyword query's clauses, in query order: each analysed term in each boosted field, then the codes.</summary>
    internal List<KeywordClause> KeywordClauses(string text)
    {
        var terms = _analyzer.Terms(text, _options.MaxQueryTerms);
        var codes = _options.ModelNumberBoost > 0 ? ProductCodes.Extract(text, _options.MaxQueryTerms) : [];
        var fields = BoostedTextFields();
        var clauses = new List<KeywordClause>();
        foreach (var term in terms)
        {
            foreach (var (field, boost) in fields)
            {
                if (boost > 0)
                {
                    clauses.Add(new KeywordClause(field, term, boost));
                }
            }
        }

        foreach (var code in codes)
        {
            clauses.Add(new KeywordClause(ProductFields.ModelCode, code, _options.ModelNumberBoost));
        }

        if (_options.NearCodeBoost > 0)
        {
            foreach (var code in ProductCodes.BaseForms(codes))
            {
                clauses.Add(new KeywordClause(ProductFields.ModelCodeBase, code, _options.NearCodeBoost));
            }
        }

        return clauses;
    }

    /// <summary>Lucene's query for <paramref name="clauses"/>: a <see cref="BooleanQuery"/> of SHOULD <see cref="TermQuery"/>s.</summary>
    internal static BooleanQuery TextQuery(IReadOnlyList<KeywordClause> clauses)
    {
        var query = new BooleanQuery();
        foreach (var clause in clauses)
        {
            query.Add(new TermQuery(new Term(clause.Field, clause.Term)) { Boost = clause.Boost }, Occur.SHOULD);
        }

        return query;
    }

    // The Lucene translation of ProductQuery.Admits (category and brand against the ProductFilter.Key-folded key fields).
    internal static BooleanFilter? BuildFilter(ProductQuery query)
    {
        var f = query.Filter;
        var filter = new BooleanFilter();
        void Must(Query q) => filter.Add(new FilterClause(new QueryWrapperFilter(q), Occur.MUST));
        void MustNot(string field, IEnumerable<string> values)
        {
            var terms = values.Select(v => new Term(field, v)).ToList();
            if (terms.Count > 0)
            {
                filter.Add(new FilterClause(new TermsFilter(terms), Occur.MUST_NOT));
            }
        }

        if (f.Category is { } category)
        {
            Must(new TermQuery(new Term(ProductFields.CategoryKey, ProductFilter.Key(category))));
        }

        if (f.Brand is { } brand)
        {
            Must(new TermQuery(new Term(ProductFields.BrandKey, ProductFilter.Key(brand))));
        }

        if (f.MinPrice is not null || f.MaxPrice is not null)
        {
            Must(NumericRangeQuery.NewDoubleRange(ProductFields.PriceNumber, (double?)f.MinPrice, (double?)f.MaxPrice, true, true));
        }

        if (f.InStock is { } inStock)
        {
            Must(new TermQuery(new Term(ProductFields.InStock, inStock ? ProductFields.True : ProductFields.False)));
        }

        if (f.Source is { } source)
        {
            Must(new TermQuery(new Term(ProductFields.Source, source)));
        }

        if (f.ExcludeSource is { } excludeSource)
        {
            MustNot(ProductFields.Source, [excludeSource]);
        }

        foreach (var term in f.AttributeFilterTerms())
        {
            Must(new TermQuery(new Term(ProductFields.Attribute, term)));
        }

        MustNot(ProductFields.Id, query.ExcludeIds);
        MustNot(ProductFields.GroupId, query.ExcludeGroupIds);
        return filter.Clauses.Count == 0 ? null : filter;
    }

    // The vector side's translation of the attribute filter: per segment, the rows that hold every attribute term (from
    // the same "attr" postings the Lucene filter reads); null when the filter has no attribute condition.
    private Dictionary<SegmentVectors, FixedBitSet>? AttributeDocs(IndexSearcher searcher, ProductFilter filter)
    {
        if (filter.Attributes.Count == 0)
        {
            return null;
        }

        var terms = filter.AttributeFilterTerms().Select(t => new Term(ProductFields.Attribute, t)).ToList();
        var result = new Dictionary<SegmentVectors, FixedBitSet>(ReferenceEqualityComparer.Instance);
        foreach (var leaf in searcher.IndexReader.Leaves)
        {
            var reader = leaf.AtomicReader;
            FixedBitSet? rows = null;
            foreach (var term in terms)
            {
                var bits = new FixedBitSet(reader.MaxDoc);
                if (reader.GetTermDocsEnum(term) is { } postings)
                {
                    bits.Or(postings);
                }

                if (rows is null)
                {
                    rows = bits;
                }
                else
                {
                    rows.And(bits);
                }
            }

            result[Segment(reader)] = rows!;
        }

        return result;
    }

    // The product id of a global doc id: from the segment's ids in memory when its vectors are loaded, else from the
    // stored id field alone.
    private string IdOf(IList<AtomicReaderContext> leaves, int doc)
    {
        var leaf = leaves[ReaderUtil.SubIndex(doc, leaves)];
        int row = doc - leaf.DocBase;
        if (LoadedSegment(leaf.AtomicReader) is { } segment)
        {
            return segment.Ids[row];
        }

        var visitor = new DocumentStoredFieldVisitor(ProductFields.Id);
        leaf.AtomicReader.Document(row, visitor);
        return visitor.Document.Get(ProductFields.Id) ?? string.Empty;
    }

    // The unknown-token shares recorded at ingest of the candidates found (doc values; no stored field is read).
    private static Dictionary<string, double> RecordedUnknownShares(IndexReader reader, Dictionary<string, int> docs)
    {
        var shares = new Dictionary<string, double>(docs.Count, StringComparer.Ordinal);
        var leaves = reader.Leaves;
        foreach (var (id, doc) in docs)
        {
            var leaf = leaves[ReaderUtil.SubIndex(doc, leaves)];
            if (ProductDocuments.UnknownTokenShare(leaf.AtomicReader, doc - leaf.DocBase) is { } share)
            {
                shares[id] = share;
            }
        }

        return shares;
    }

    // A product from its stored fields, but its vector from the segment's matrix when that is in memory (the stored
    // vector is then not read).
    private IndexedProduct ReadProduct(IndexReader reader, int doc)
    {
        var leaves = reader.Leaves;
        var leaf = leaves[ReaderUtil.SubIndex(doc, leaves)];
        int row = doc - leaf.DocBase;
        var segment = LoadedSegment(leaf.AtomicReader);
        bool fromMatrix = segment is { Dimensions: > 0 } && row < segment.Count && segment.HasVector[row];
        var visitor = new DocumentStoredFieldVisitor(fromMatrix ? ProductDocuments.FieldsWithoutVector : ProductDocuments.AllFields);
        leaf.AtomicReader.Document(row, visitor);
        var product = ProductDocuments.Read(visitor.Document) with { UnknownTokenShare = ProductDocuments.UnknownTokenShare(leaf.AtomicReader, row) };
        return fromMatrix
            ? product with { Vector = segment!.Matrix.AsMemory(row * segment.Dimensions, segment.Dimensions) }
            : product;
    }

    // The segment's vectors and columns when they are already in memory; null otherwise (nothing is loaded).
    private SegmentVectors? LoadedSegment(AtomicReader reader)
        => _segments.TryGetValue(reader.CoreCacheKey, out var lazy) && lazy.IsValueCreated ? lazy.Value : null;

    /// <summary>
    /// Reads the products of one query's candidates: by the doc ids found for them while that reader is still the
    /// current one, else by id from the current commit (a product deleted since is null). Their recorded unknown-token
    /// shares were read with the candidates, from the same reader.
    /// </summary>
    /// <remarks>Thread-safe.</remarks>
    private sealed class CandidateProducts(LocalProductIndex index, IndexReader reader, Dictionary<string, int> docs, Dictionary<string, double>? shares) : ICandidateProducts
    {
        public IReadOnlyList<double?> UnknownTokenShares(IReadOnlyList<string> ids)
        {
            ArgumentNullException.ThrowIfNull(ids);
            var result = new double?[ids.Count];
            for (int i = 0; i < ids.Count && shares is not null; i++)
            {
                result[i] = shares.TryGetValue(ids[i], out var share) ? share : null;
            }

            return result;
        }

        public IReadOnlyList<IndexedProduct?> Read(IReadOnlyList<string> ids)
        {
            ArgumentNullException.ThrowIfNull(ids);
            using var timer = QueryStages.Time(QueryStage.Lookup);
            var empty = new IndexedProduct?[ids.Count];
            return index.Read<IReadOnlyList<IndexedProduct?>>(searcher =>
            {
                var current = searcher.IndexReader;
                var docIds = ReferenceEquals(current, reader)
                    ? docs
                    : index.FindDocs(current, ids).ToDictionary(f => f.Id, f => f.Doc, StringComparer.Ordinal);
                var products = new IndexedProduct?[ids.Count];
                for (int i = 0; i < ids.Count; i++)
                {
                    products[i] = docIds.TryGetValue(ids[i], out var doc) ? index.ReadProduct(current, doc) : null;
                }

                return products;
            }, empty);
        }
    }

    // The segment's keyword postings in memory (read term by term as queries ask), shared by every reader of the segment.
    // A lookup first: GetValue's factory closure would be allocated for every segment of every query.
    private SegmentPostings Postings(AtomicReader reader)
        => _postings.TryGetValue(reader.CoreCacheKey, out var postings)
            ? postings
            : _postings.GetValue(reader.CoreCacheKey, _ => new SegmentPostings(reader.MaxDoc));

    private void NoteFrequentTerm(KeywordClause clause)
    {
        if (Volatile.Read(ref _frequentTermCount) < MaxWarmTerms && _frequentTerms.TryAdd((clause.Field, clause.Term), 0))
        {
            Interlocked.Increment(ref _frequentTermCount);
        }
    }

    // Once per segment (WarmUp, and the background refresh before a new reader is handed out): the postings a keyword
    // query is likely to ask for, read off the request path. Those are every title or brand term in at least
    // WarmMinDocs of the segment's documents (a similar-items query is a product's title and brand) in each boosted text
    // field, and the frequent terms queries have asked for; plus the text fields' norms, and the vocabulary of each
    // queried field, which answers a word of one product without a seek. Rare terms still count against SegmentPostings'
    // cap.
    private void WarmPostings(AtomicReader reader)
    {
        // 2 rather than SegmentPostings.RareDocs (16): on the 100k bench, HNSW similar-items p99 3.7 and 5.4 ms against 7.8
        // and 6.4 ms in back-to-back runs, for 152 rather than 116 bytes of postings per product.
        const int WarmMinDocs = 2;
        if (_options.KeywordScorer != KeywordScorerKind.Memory || !Postings(reader).StartWarm())
        {
            return;
        }

        var postings = Postings(reader);
        var fields = BoostedTextFields().Where(f => f.Boost > 0).Select(f => f.Field).ToList();
        foreach (var field in fields.Concat([ProductFields.ModelCode, ProductFields.ModelCodeBase]))
        {
            postings.Vocabulary(reader, field);
        }

        Dictionary<string, TermsEnum?>? enums = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var source in (string[])[ProductFields.Title, ProductFields.Brand])
        {
            if (reader.GetTerms(source)?.GetEnumerator() is not { } vocabulary)
            {
                continue;
            }

            while (vocabulary.MoveNext())
            {
                if (vocabulary.DocFreq < WarmMinDocs)
                {
                    continue;
                }

                var term = vocabulary.Term.Utf8ToString();
                if (seen.Add(term))
                {
                    foreach (var field in fields)
                    {
                        postings.Term(reader, field, term, ref enums);
                    }
                }
            }
        }

        foreach (var ((field, term), _) in _frequentTerms)
        {
            postings.Term(reader, field, term, ref enums);
        }

        foreach (var field in fields)
        {
            postings.Norms(reader, field);
        }
    }

    private SegmentVectors Segment(AtomicReader reader)
    {
        var lazy = _segments.GetValue(reader.CoreCacheKey, _ => new Lazy<SegmentVectors>(() => SegmentVectors.Load(reader)));
        if (lazy.IsValueCreated)
        {
            return lazy.Value;
        }

        using var timer = QueryStages.Time(QueryStage.SegmentLoad);
        return lazy.Value;
    }

    /// <summary>
    /// Brings the reader to the latest commit now and warms it: every segment's vectors in memory and the HNSW graph (when
    /// the index is large enough) in step with it. A server calls it once before it takes requests, so the first ones do
    /// not pay for the loading; the background refresh does the same after each new commit.
    /// </summary>
    /// <param name="cancellationToken">Cancels the graph update (the reader stays refreshed).</param>
    /// <remarks>Thread-safe. Reads go on meanwhile (exactly, while the graph is updated).</remarks>
    /// <exception cref="ProductIndexException">The index cannot be read.</exception>
    public void WarmUp(CancellationToken cancellationToken = default) => WarmUpReader(cancellationToken);

    // WarmUp, returning the commit generation of the reader it warmed (-1 for none).
    private long WarmUpReader(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        try
        {
            if (Searchers(blocking: true) is not { } manager)
            {
                return -1;
            }

            var searcher = manager.Acquire();
            try
            {
                foreach (var leaf in searcher.IndexReader.Leaves)
                {
                    Segment(leaf.AtomicReader);
                    WarmPostings(leaf.AtomicReader);
                }

                if (searcher.IndexReader is DirectoryReader reader)
                {
                    _graph.Warm(reader, Segment, cancellationToken);
                }

                // Without a graph in use, searches scan the int8 copies: build them now rather than on a request.
                if (_options.ExactScan == ExactScanMode.Int8 && _graph.Generation is null)
                {
                    foreach (var leaf in searcher.IndexReader.Leaves)
                    {
                        _ = Segment(leaf.AtomicReader).Quantized;
                    }
                }

                return searcher.IndexReader is DirectoryReader { IndexCommit.Generation: var generation } ? generation : -1;
            }
            finally
            {
                manager.Release(searcher);
            }
        }
        catch (IOException ex)
        {
            throw new ProductIndexException($"Reading the index at {_path} failed: {ex.Message}", ex);
        }
    }

    // The background refresh (RefreshInterval): warm each new commit off the request path, until disposed.
    private async Task RefreshLoopAsync(TimeSpan interval)
    {
        var stopping = _stopRefresh.Token;
        using var timer = new PeriodicTimer(interval);
        long warmed = -1;
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                try
                {
                    // The commit the reader already has, warmed, brings nothing new. Listing the folder opens no file,
                    // where Lucene's reopen check reads the whole commit file through a new memory map: at every tick,
                    // objects with finalizers and handles that each garbage collection of a serving process then had to
                    // walk. The generation compared is the reader's own, not the listing's, so a commit file listed
                    // before Lucene can open it (a commit in progress) is looked at again at the next tick.
                    if (warmed >= 0 && SegmentInfos.GetLastCommitGeneration(_directory) == warmed)
                    {
                        continue;
                    }

                    warmed = WarmUpReader(stopping);
                    Volatile.Write(ref _refreshError, null);
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    return;
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
                catch (Exception ex) when (ex is ProductIndexException or IOException or UnauthorizedAccessException or InvalidOperationException)
                {
                    // Reads keep the previous commit; the next pass tries again.
                    Volatile.Write(ref _refreshError, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    // The segment's vectors as queries have loaded them, else read for one use and not kept (the writer's graph builds).
    private SegmentVectors TransientSegment(AtomicReader reader)
        => _segments.TryGetValue(reader.CoreCacheKey, out var lazy) && lazy.IsValueCreated ? lazy.Value : SegmentVectors.Load(reader);

    private T Read<T>(Func<IndexSearcher, T> read, T empty)
    {
        ThrowIfDisposed();
        SearcherManager? manager;
        try
        {
            manager = Searchers(blocking: false);
        }
        catch (IOException ex)
        {
            throw new ProductIndexException($"Reading the index at {_path} failed: {ex.Message}", ex);
        }

        if (manager is null)
        {
            return empty;
        }

        // Throws ObjectDisposedException (Lucene's AlreadyClosedException) when the index was disposed meanwhile.
        var searcher = manager.Acquire();
        try
        {
            return read(searcher);
        }
        catch (IOException ex)
        {
            throw new ProductIndexException($"Reading the index at {_path} failed: {ex.Message}", ex);
        }
        finally
        {
            manager.Release(searcher);
        }
    }

    // The searcher manager, refreshed to the latest commit; null while the folder holds no commit yet.
    private SearcherManager? Searchers(bool blocking)
    {
        var manager = Volatile.Read(ref _searchers);
        if (manager is null)
        {
            lock (_readerGate)
            {
                ThrowIfDisposed();
                manager = _searchers;
                if (manager is null)
                {
                    if (!DirectoryReader.IndexExists(_directory))
                    {
                        return null;
                    }

                    manager = new SearcherManager(_directory, new Factory(this));
                    Volatile.Write(ref _searchers, manager);
                    return manager;
                }
            }
        }

        if (blocking)
        {
            manager.MaybeRefreshBlocking();
        }
        else if (!BackgroundRefresh)
        {
            using var timer = QueryStages.Time(QueryStage.Refresh);
            manager.MaybeRefresh();
        }

        return manager;
    }

    private void OnNewReader(IndexReader reader)
    {
        if (reader is DirectoryReader { IndexCommit.UserData: var userData } && userData.TryGetValue(EmbeddingModelKey, out var model))
        {
            Volatile.Write(ref _embeddingModel, model);
        }

        if (reader is DirectoryReader { IndexCommit.UserData: var commitData })
        {
            Volatile.Write(ref _tunedFusion, commitData.TryGetValue(TunedFusionKey, out var tuned) ? TunedFusion.Parse(tuned) : null);
        }

        if (reader is DirectoryReader directoryReader
            && directoryReader.IndexCommit.UserData.TryGetValue(DimensionsKey, out var stored)
            && int.TryParse(stored, NumberStyles.None, CultureInfo.InvariantCulture, out int fromCommit)
            && fromCommit > 0)
        {
            Volatile.Write(ref _dimensions, fromCommit);
            return;
        }

        if (Volatile.Read(ref _dimensions) != 0)
        {
            return;
        }

        // An index without the commit record: take the dimensions from the first stored vector.
        var fields = new HashSet<string> { ProductFields.Vector };
        foreach (var leaf in reader.Leaves)
        {
            var live = leaf.AtomicReader.LiveDocs;
            for (int doc = 0; doc < leaf.AtomicReader.MaxDoc; doc++)
            {
                if (live is not null && !live.Get(doc))
                {
                    continue;
                }

                if (leaf.AtomicReader.Document(doc, fields).GetBinaryValue(ProductFields.Vector) is { Length: > 0 } bytes)
                {
                    Volatile.Write(ref _dimensions, bytes.Length / sizeof(float));
                    return;
                }
            }
        }
    }

    // ---- writing (callers hold _writeGate) -----------------------------------------------------------------------

    private IndexWriter Writer()
    {
        if (_readOnly)
        {
            throw new ProductIndexException($"The index at {_path} was opened read-only; it cannot be written.");
        }

        if (_writer is not null)
        {
            return _writer;
        }

        var config = new IndexWriterConfig(ProductTextAnalyzer.Version, _analyzer)
        {
            OpenMode = OpenMode.CREATE_OR_APPEND,
            Similarity = new BM25Similarity(),
            WriteLockTimeout = 0,
        };

        try
        {
            // The writer reads the segments it merges whole. Through the readers' memory map those pages would count in this
            // process's resident memory, by the size of the segments merged (measured: +170 MB at a 270,000-product
            // ingest, the more the larger the index); positional reads leave them to the page cache. Same folder and lock.
            _writerDirectory ??= new NIOFSDirectory(_directory.Directory, _directory.LockFactory);
            _writer = new IndexWriter(_writerDirectory, config);
            _writerBaseGeneration = SegmentInfos.GetLastCommitGeneration(_directory);
        }
        catch (LockObtainFailedException ex)
        {
            throw new ProductIndexException(
                $"The index at {_path} is being written by another process (or another open index instance); only one writer at a time. Wait for it to finish, or read with readOnly.",
                ex);
        }

        if (Volatile.Read(ref _dimensions) == 0
            && _writer.CommitData.TryGetValue(DimensionsKey, out var stored)
            && int.TryParse(stored, NumberStyles.None, CultureInfo.InvariantCulture, out int fromCommit))
        {
            Volatile.Write(ref _dimensions, fromCommit);
        }

        if (Volatile.Read(ref _embeddingModel) is null && _writer.CommitData.TryGetValue(EmbeddingModelKey, out var model))
        {
            Volatile.Write(ref _embeddingModel, model);
        }

        if (Volatile.Read(ref _tunedFusion) is null && _writer.CommitData.TryGetValue(TunedFusionKey, out var tuned))
        {
            Volatile.Write(ref _tunedFusion, TunedFusion.Parse(tuned));
        }

        return _writer;
    }

    private void RecordDimensions(IndexWriter writer, int dimensions)
    {
        Volatile.Write(ref _dimensions, dimensions);
        string value = dimensions.ToString(CultureInfo.InvariantCulture);
        if (!writer.CommitData.TryGetValue(DimensionsKey, out var current) || current != value)
        {
            var data = new Dictionary<string, string>(writer.CommitData) { [DimensionsKey] = value };
            writer.SetCommitData(data);
        }
    }

    private ProductIndexException DimensionMismatch(int known, int requested, string what)
        => new($"The index at {_path} holds {known}-dimensional vectors, but {what} has {requested} dimensions. "
            + "An index holds one embedding model's vectors: use a new index folder when changing the model.");

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    private sealed class Factory(LocalProductIndex owner) : SearcherFactory
    {
        // Runs before the SearcherManager hands the new reader out, so with a background refresh reads never load a
        // segment's vectors themselves (a merged segment can hold most of the catalog), nor the frequent terms' postings.
        public override IndexSearcher NewSearcher(IndexReader reader)
        {
            owner.OnNewReader(reader);
            if (owner.BackgroundRefresh)
            {
                foreach (var leaf in reader.Leaves)
                {
                    owner.Segment(leaf.AtomicReader);
                    owner.WarmPostings(leaf.AtomicReader);
                }
            }

            return new IndexSearcher(reader) { Similarity = new BM25Similarity() };
        }
    }

    /// <summary>Orders scored rows worst first: lower score, or on equal scores the larger id.</summary>
    internal static IComparer<(float Score, string Id)> WorstFirstComparer => WorstFirst.Instance;

    private sealed class WorstFirst : IComparer<(float Score, string Id)>
    {
        public static WorstFirst Instance { get; } = new();

        // Negative when x ranks below y: lower score, or equal score and larger id.
        public int Compare((float Score, string Id) x, (float Score, string Id) y)
        {
            int byScore = x.Score.CompareTo(y.Score);
            return byScore != 0 ? byScore : string.CompareOrdinal(y.Id, x.Id);
        }
    }
}
