using System.Runtime.InteropServices;

namespace ProductSimilarity.Search.Local.Hnsw;

/// <summary>
/// The C API of USearch (<c>libusearch_c</c>, shipped by the <c>Cloud.Unum.USearch</c> package), declared here because
/// the package's managed wrapper does not expose what the local index needs: changing the search expansion and the
/// number of concurrent searches after a load, reserving capacity once for a batch (the wrapper reserves one slot per
/// <c>Add</c>), and the index's memory use. Signatures follow <c>c/usearch.h</c> of USearch 2.26.
/// </summary>
internal static class UsearchNativeMethods
{
    private const string Library = "libusearch_c";

    /// <summary><c>usearch_metric_ip_k</c>: inner product; the distance is 1 - dot.</summary>
    public const int MetricInnerProduct = 2;

    /// <summary><c>usearch_scalar_f32_k</c>.</summary>
    public const int ScalarF32 = 1;

    /// <summary><c>usearch_scalar_f16_k</c>.</summary>
    public const int ScalarF16 = 3;

    /// <summary><c>usearch_init_options_t</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct InitOptions
    {
        public int MetricKind;
        public nint Metric;
        public int Quantization;
        public nuint Dimensions;
        public nuint Connectivity;
        public nuint ExpansionAdd;
        public nuint ExpansionSearch;
        public byte Multi;
    }

    [DllImport(Library, EntryPoint = "usearch_version")]
    public static extern nint Version();

    [DllImport(Library, EntryPoint = "usearch_init")]
    public static extern nint Init(ref InitOptions options, out nint error);

    [DllImport(Library, EntryPoint = "usearch_free")]
    public static extern void Free(nint index, out nint error);

    [DllImport(Library, EntryPoint = "usearch_save")]
    public static extern void Save(UsearchHandle index, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, out nint error);

    [DllImport(Library, EntryPoint = "usearch_load")]
    public static extern void Load(UsearchHandle index, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, out nint error);

    [DllImport(Library, EntryPoint = "usearch_size")]
    public static extern nuint Size(UsearchHandle index, out nint error);

    [DllImport(Library, EntryPoint = "usearch_capacity")]
    public static extern nuint Capacity(UsearchHandle index, out nint error);

    [DllImport(Library, EntryPoint = "usearch_dimensions")]
    public static extern nuint Dimensions(UsearchHandle index, out nint error);

    [DllImport(Library, EntryPoint = "usearch_memory_usage")]
    public static extern nuint MemoryUsage(UsearchHandle index, out nint error);

    [DllImport(Library, EntryPoint = "usearch_reserve")]
    public static extern void Reserve(UsearchHandle index, nuint capacity, out nint error);

    [DllImport(Library, EntryPoint = "usearch_change_expansion_search")]
    public static extern void ChangeExpansionSearch(UsearchHandle index, nuint expansion, out nint error);

    [DllImport(Library, EntryPoint = "usearch_change_expansion_add")]
    public static extern void ChangeExpansionAdd(UsearchHandle index, nuint expansion, out nint error);

    [DllImport(Library, EntryPoint = "usearch_change_threads_search")]
    public static extern void ChangeThreadsSearch(UsearchHandle index, nuint threads, out nint error);

    [DllImport(Library, EntryPoint = "usearch_change_threads_add")]
    public static extern void ChangeThreadsAdd(UsearchHandle index, nuint threads, out nint error);

    [DllImport(Library, EntryPoint = "usearch_add")]
    public static extern void Add(UsearchHandle index, ulong key, ref float vector, int vectorKind, out nint error);

    [DllImport(Library, EntryPoint = "usearch_remove")]
    public static extern nuint Remove(UsearchHandle index, ulong key, out nint error);

    [DllImport(Library, EntryPoint = "usearch_contains")]
    [return: MarshalAs(UnmanagedType.U1)]
    public static extern bool Contains(UsearchHandle index, ulong key, out nint error);

    [DllImport(Library, EntryPoint = "usearch_search")]
    public static extern nuint Search(
        UsearchHandle index, ref float query, int queryKind, nuint limit, ref ulong keys, ref float distances, out nint error);
}

/// <summary>Owns one native USearch index; frees it once.</summary>
internal sealed class UsearchHandle : SafeHandle
{
    public UsearchHandle()
        : base(nint.Zero, ownsHandle: true)
    {
    }

    public UsearchHandle(nint handle)
        : base(nint.Zero, ownsHandle: true) => SetHandle(handle);

    public override bool IsInvalid => handle == nint.Zero;

    protected override bool ReleaseHandle()
    {
        UsearchNativeMethods.Free(handle, out _);
        return true;
    }
}
