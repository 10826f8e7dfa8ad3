using System.Runtime.InteropServices;
using ProductSimilarity.Core.Configuration;
using static ProductSimilarity.Search.Local.Hnsw.UsearchNativeMethods;

namespace ProductSimilarity.Search.Local.Hnsw;

/// <summary>
/// One native USearch HNSW index under inner-product distance (1 - dot; the stored vectors are unit length), keyed by
/// <see cref="ulong"/>. Vectors go in and queries are asked as float32; the index stores them as
/// <see cref="HnswSettings.Scalar"/> (USearch converts).
/// </summary>
/// <remarks>
/// Searches and adds may run concurrently (USearch locks per node and hands each call one of its thread slots);
/// <see cref="Reserve"/>, <see cref="Save"/> and <see cref="Dispose"/> must not overlap any other call. The owner
/// (<see cref="VectorGraph"/>) enforces that with a reader-writer lock.
/// </remarks>
internal sealed class HnswGraph : IDisposable
{
    private readonly UsearchHandle _handle;

    private readonly int _threads;

    private HnswGraph(UsearchHandle handle, int dimensions, int threads)
    {
        _handle = handle;
        Dimensions = dimensions;
        _threads = threads;
    }

    /// <summary>Vector dimensions.</summary>
    public int Dimensions { get; }

    /// <summary>Vectors held, not counting removed ones.</summary>
    public long Count => (long)Check(UsearchNativeMethods.Size(_handle, out var e), e);

    /// <summary>Bytes the native index uses in memory (graph and vectors).</summary>
    public long MemoryBytes => (long)Check(MemoryUsage(_handle, out var e), e);

    /// <summary>The USearch library version, or the reason it cannot be loaded on this machine.</summary>
    public static string LibraryVersion()
    {
        try
        {
            return Marshal.PtrToStringUTF8(Version()) ?? "unknown";
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return $"unavailable ({ex.GetType().Name}: {ex.Message})";
        }
    }

    /// <summary>A new, empty graph.</summary>
    /// <exception cref="HnswUnavailableException">The native library cannot be loaded or refused the settings.</exception>
    public static HnswGraph Create(int dimensions, HnswSettings settings)
    {
        var graph = new HnswGraph(Init(Options(dimensions, settings)), dimensions, settings.Threads);
        graph.SetThreads();
        return graph;
    }

    /// <summary>Loads a graph saved by <see cref="Save"/>.</summary>
    /// <exception cref="HnswUnavailableException">The library is missing, or the file is not a readable graph.</exception>
    public static HnswGraph Load(string path, int dimensions, HnswSettings settings)
    {
        var graph = new HnswGraph(Init(Options(dimensions, settings)), dimensions, settings.Threads);
        try
        {
            UsearchNativeMethods.Load(graph._handle, path, out var error);
            ThrowOn(error, $"loading {path}");
            if ((int)UsearchNativeMethods.Dimensions(graph._handle, out _) != dimensions)
            {
                throw new HnswUnavailableException($"{path} holds vectors of another size.");
            }

            // Expansion is a setting of the process, not of the file: apply this process's values.
            ChangeExpansionSearch(graph._handle, (nuint)settings.ExpansionSearch, out error);
            ThrowOn(error, "setting the search expansion");
            ChangeExpansionAdd(graph._handle, (nuint)settings.ExpansionAdd, out error);
            ThrowOn(error, "setting the add expansion");
            graph.SetThreads();
            return graph;
        }
        catch
        {
            graph.Dispose();
            throw;
        }
    }

    /// <summary>Makes room for <paramref name="capacity"/> vectors in all. Not concurrent with any other call.</summary>
    public void Reserve(long capacity)
    {
        if ((long)Capacity(_handle, out _) >= capacity)
        {
            return;
        }

        UsearchNativeMethods.Reserve(_handle, (nuint)capacity, out var error);
        ThrowOn(error, "reserving memory");

        // usearch_reserve also sets both thread counts to the machine's core count: set ours again, or concurrent
        // searches beyond the core count would find no free slot (and go to the exact scan) after every update.
        SetThreads();
    }

    /// <summary>Adds one vector. Thread-safe with other adds and searches, after <see cref="Reserve"/>.</summary>
    public void Add(ulong key, ReadOnlySpan<float> vector)
    {
        UsearchNativeMethods.Add(_handle, key, ref MemoryMarshal.GetReference(vector), ScalarF32, out var error);
        ThrowOn(error, "adding a vector");
    }

    /// <summary>Marks a key removed (USearch keeps the node for routing and reuses its slot later).</summary>
    public void Remove(ulong key)
    {
        UsearchNativeMethods.Remove(_handle, key, out var error);
        ThrowOn(error, "removing a vector");
    }

    /// <summary>Approximate nearest neighbours. Thread-safe.</summary>
    /// <returns>How many of <paramref name="keys"/> and <paramref name="distances"/> were filled, nearest first.</returns>
    public int Search(ReadOnlySpan<float> query, Span<ulong> keys, Span<float> distances)
    {
        int limit = Math.Min(keys.Length, distances.Length);
        if (limit == 0)
        {
            return 0;
        }

        var found = UsearchNativeMethods.Search(
            _handle, ref MemoryMarshal.GetReference(query), ScalarF32, (nuint)limit,
            ref MemoryMarshal.GetReference(keys), ref MemoryMarshal.GetReference(distances), out var error);
        ThrowOn(error, "searching");
        return (int)found;
    }

    /// <summary>Writes the graph to a file. Not concurrent with any other call.</summary>
    public void Save(string path)
    {
        UsearchNativeMethods.Save(_handle, path, out var error);
        ThrowOn(error, $"saving {path}");
    }

    /// <inheritdoc/>
    public void Dispose() => _handle.Dispose();

    private static UsearchHandle Init(InitOptions options)
    {
        nint index;
        nint error;
        try
        {
            index = UsearchNativeMethods.Init(ref options, out error);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            throw new HnswUnavailableException($"the USearch native library cannot be loaded here ({ex.Message}).", ex);
        }

        ThrowOn(error, "creating the index");
        return index == nint.Zero ? throw new HnswUnavailableException("USearch could not create an index.") : new UsearchHandle(index);
    }

    private static InitOptions Options(int dimensions, HnswSettings settings) => new()
    {
        MetricKind = MetricInnerProduct,
        Quantization = settings.Scalar switch
        {
            HnswScalar.F32 => ScalarF32,
            HnswScalar.F16 => ScalarF16,
            _ => throw new HnswUnavailableException($"unknown HNSW scalar kind {settings.Scalar}."),
        },
        Dimensions = (nuint)dimensions,
        Connectivity = (nuint)settings.Connectivity,
        ExpansionAdd = (nuint)settings.ExpansionAdd,
        ExpansionSearch = (nuint)settings.ExpansionSearch,
    };

    private void SetThreads()
    {
        // One USearch thread slot per concurrent call; a call that finds none free fails (and falls back to exact search).
        ChangeThreadsSearch(_handle, (nuint)_threads, out var error);
        ThrowOn(error, "setting the search threads");
        ChangeThreadsAdd(_handle, (nuint)_threads, out error);
        ThrowOn(error, "setting the add threads");
    }

    private static nuint Check(nuint value, nint error)
    {
        ThrowOn(error, "reading the index");
        return value;
    }

    private static void ThrowOn(nint error, string what)
    {
        if (error != nint.Zero)
        {
            throw new HnswUnavailableException($"USearch failed {what}: {Marshal.PtrToStringUTF8(error)}");
        }
    }
}

/// <summary>The HNSW graph cannot be used here (native library, file or setting); callers fall back to exact search.</summary>
internal sealed class HnswUnavailableException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The native library cannot be loaded on this machine: no graph in this process.</summary>
    public bool LibraryMissing => InnerException is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException;
}
