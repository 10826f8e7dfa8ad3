using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ProductSimilarity.Search.Local;

/// <summary>
/// An int8 copy of a segment's vector matrix, with what the exact scan needs to bound its error: row <c>x</c> is held as
/// <c>x̂ = Scale · c</c> with integer codes <c>c</c> in [-127, 127] (<c>Scale = max|x| / 127</c>), and, rounded up, the
/// residual's L2 norm <c>‖x − x̂‖₂</c>, its largest component <c>‖x − x̂‖∞</c> and the row's own norm <c>‖x‖₂</c>.
/// </summary>
/// <remarks>
/// A quarter of the fp32 matrix's bytes, so a scan of it reads a quarter of the memory. The bounds let
/// <see cref="ExactVectorScan"/> prove which rows cannot reach the top k and rescore only the others in fp32. A row with
/// a non-finite component gets infinite bounds (always rescored). Immutable after construction; thread-safe.
/// </remarks>
internal sealed class QuantizedMatrix
{
    /// <summary>The largest code magnitude.</summary>
    public const int CodeLimit = 127;

    private QuantizedMatrix(int count, int dimensions)
    {
        Count = count;
        Dimensions = dimensions;
        Codes = new sbyte[(long)count * dimensions];
        Bounds = new RowBound[count];
    }

    /// <summary>Rows.</summary>
    public int Count { get; }

    /// <summary>Dimensions.</summary>
    public int Dimensions { get; }

    /// <summary>Row-major codes, <see cref="Count"/> x <see cref="Dimensions"/>.</summary>
    public sbyte[] Codes { get; }

    /// <summary>Per row: the scale and the error bounds.</summary>
    public RowBound[] Bounds { get; }

    /// <summary>Bytes held.</summary>
    public long MemoryBytes => Codes.LongLength + ((long)Bounds.Length * Unsafe.SizeOf<RowBound>());

    /// <summary>Quantises the rows of <paramref name="matrix"/> that have a vector.</summary>
    public static QuantizedMatrix Build(float[] matrix, bool[] hasVector, int count, int dimensions)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        ArgumentNullException.ThrowIfNull(hasVector);
        var quantized = new QuantizedMatrix(count, dimensions);
        if (dimensions == 0)
        {
            return quantized;
        }

        var scaled = new float[dimensions];
        var residual = new float[dimensions];
        for (int row = 0; row < count; row++)
        {
            if (hasVector[row])
            {
                quantized.Bounds[row] = Quantize(
                    matrix.AsSpan(row * dimensions, dimensions),
                    quantized.Codes.AsSpan(row * dimensions, dimensions),
                    scaled,
                    residual);
            }
        }

        return quantized;
    }

    /// <summary>Quantises one row into <paramref name="codes"/> and returns its scale and bounds.</summary>
    internal static RowBound Quantize(ReadOnlySpan<float> x, Span<sbyte> codes)
        => Quantize(x, codes, new float[x.Length], new float[x.Length]);

    // The vectorised form (TensorPrimitives) of QuantizeExactly, with the float rounding of its norms covered by margins:
    // the residual x_j − Scale·c_j is one fused multiply-add (one rounding, relative 2⁻²⁴, or 2⁻¹⁵⁰ absolute when
    // subnormal); an n-term norm is within (n + 2)·2⁻²⁴ relative, plus √n·2⁻⁷⁵ absolute for squares that underflow. The
    // bounds are taken 4·(n + 4)·2⁻²⁴ relative and √n·2⁻⁷⁴ absolute larger, then one float step up.
    private static RowBound Quantize(ReadOnlySpan<float> x, Span<sbyte> codes, Span<float> scaled, Span<float> residual)
    {
        float max = Math.Abs(TensorPrimitives.MaxMagnitude(x));
        float scale = max / CodeLimit;
        if (!float.IsFinite(max) || !float.IsNormal(scale))
        {
            // Non-finite, zero or tiny rows: the exact double form (rare, so its speed does not matter).
            return QuantizeExactly(x, codes);
        }

        // |x_j| / Scale is at most 127 and a hair (float division), so rounding gives codes within ±127.
        TensorPrimitives.Divide(x, scale, scaled);
        TensorPrimitives.Round(scaled, scaled);
        for (int j = 0; j < x.Length; j++)
        {
            codes[j] = (sbyte)Math.Clamp((int)scaled[j], -CodeLimit, CodeLimit);
            scaled[j] = codes[j];
        }

        TensorPrimitives.FusedMultiplyAdd(scaled, -scale, x, residual);
        float relative = 1f + (4f * (x.Length + 4) / (1 << 24));
        float absolute = MathF.Sqrt(x.Length) * MathF.Pow(2, -74);
        return new RowBound(
            scale,
            MathF.BitIncrement((TensorPrimitives.Norm(residual) * relative) + absolute),
            MathF.BitIncrement((Math.Abs(TensorPrimitives.MaxMagnitude(residual)) * relative) + absolute),
            MathF.BitIncrement((TensorPrimitives.Norm(x) * relative) + absolute));
    }

    /// <summary>Quantises one row in double arithmetic (the reference the vectorised form is tested against).</summary>
    internal static RowBound QuantizeExactly(ReadOnlySpan<float> x, Span<sbyte> codes)
    {
        float max = 0;
        foreach (float v in x)
        {
            if (!float.IsFinite(v))
            {
                // Codes stay 0; infinite bounds make the scan rescore the row in fp32, as it always did.
                codes.Clear();
                return new RowBound(0, float.PositiveInfinity, float.PositiveInfinity, float.PositiveInfinity);
            }

            max = Math.Max(max, Math.Abs(v));
        }

        // x̂_j = scale · c_j exactly (as real numbers), whatever rounding gave scale: the bounds below are measured
        // against this x̂, in double, so they hold even when scale is subnormal or 0 (then x̂ = 0 and the residual is x).
        float scale = max / CodeLimit;
        double residualSquares = 0, residualMax = 0, normSquares = 0;
        for (int j = 0; j < x.Length; j++)
        {
            int code = scale > 0 ? (int)Math.Clamp(Math.Round(x[j] / (double)scale), -CodeLimit, CodeLimit) : 0;
            codes[j] = (sbyte)code;
            double residual = x[j] - ((double)scale * code);
            residualSquares += residual * residual;
            residualMax = Math.Max(residualMax, Math.Abs(residual));
            normSquares += (double)x[j] * x[j];
        }

        return new RowBound(scale, RoundUp(Math.Sqrt(residualSquares)), RoundUp(residualMax), RoundUp(Math.Sqrt(normSquares)));
    }

    // A float at least as large as value (value >= 0): the double's relative error is far below float's, one step up
    // covers both the conversion and it.
    internal static float RoundUp(double value) => value == 0 ? 0 : MathF.BitIncrement((float)value);
}

/// <summary>One quantised row's scale and the error bounds of its codes (see <see cref="QuantizedMatrix"/>).</summary>
/// <param name="Scale">The row's value per code step.</param>
/// <param name="ResidualL2">At least <c>‖x − x̂‖₂</c>.</param>
/// <param name="ResidualMax">At least <c>max_j |x_j − x̂_j|</c>.</param>
/// <param name="Norm">At least <c>‖x‖₂</c>.</param>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct RowBound(float Scale, float ResidualL2, float ResidualMax, float Norm);

/// <summary>The instruction sets the int8 dot product of the exact scan can use.</summary>
internal enum Int8Kernel
{
    /// <summary>Plain C#: every CPU (arm64 included).</summary>
    Scalar,

    /// <summary>Portable 128-bit vectors (NEON on arm64, SSE on x64): widen to 32-bit and multiply.</summary>
    Vector128,

    /// <summary>AVX2: sign-extend 16 codes to 16-bit and multiply-add pairs (<c>vpmovsxbw</c>, <c>vpmaddwd</c>).</summary>
    Avx2,

    /// <summary>AVX-512BW: the same, 32 codes at a time.</summary>
    Avx512,
}

/// <summary>
/// Exact integer dot products of int8 codes with int16 query codes. Every kernel returns the same <c>int</c>: the caller
/// keeps <c>Σ|c_j · d_j|</c> below 2³¹ (<see cref="QueryCodeLimit"/>), so no partial sum overflows or saturates, on any
/// instruction set (<c>vpmaddwd</c> adds two products of at most 127 · 32767 each).
/// </summary>
/// <remarks>Stateless; thread-safe.</remarks>
internal static class Int8Dot
{
    /// <summary>The fastest kernel this CPU runs.</summary>
    public static Int8Kernel Best { get; } = IsSupported(Int8Kernel.Avx512) ? Int8Kernel.Avx512
        : IsSupported(Int8Kernel.Avx2) ? Int8Kernel.Avx2
        : IsSupported(Int8Kernel.Vector128) ? Int8Kernel.Vector128
        : Int8Kernel.Scalar;

    /// <summary>Whether this CPU runs <paramref name="kernel"/>.</summary>
    public static bool IsSupported(Int8Kernel kernel) => kernel switch
    {
        Int8Kernel.Avx512 => Avx512BW.IsSupported,
        Int8Kernel.Avx2 => Avx2.IsSupported,
        Int8Kernel.Vector128 => Vector128.IsHardwareAccelerated,
        _ => true,
    };

    /// <summary>The largest query code magnitude for <paramref name="dimensions"/>: 32767 (int16) while
    /// <c>dimensions · 127 · limit</c> fits in an int, less for very long vectors.</summary>
    public static int QueryCodeLimit(int dimensions)
        => (int)Math.Clamp(int.MaxValue / ((long)QuantizedMatrix.CodeLimit * Math.Max(1, dimensions)), 1, short.MaxValue);

    /// <summary><c>Σ codes[j] · query[j]</c> with the given kernel (tests run each one).</summary>
    public static int Dot(Int8Kernel kernel, ReadOnlySpan<sbyte> codes, ReadOnlySpan<short> query)
    {
        if (codes.Length != query.Length)
        {
            throw new ArgumentException("The code and query lengths differ.", nameof(query));
        }

        if (!IsSupported(kernel))
        {
            throw new PlatformNotSupportedException($"This CPU does not run the {kernel} kernel.");
        }

        ref sbyte c = ref MemoryMarshal.GetReference(codes);
        ref short q = ref MemoryMarshal.GetReference(query);
        return kernel switch
        {
            Int8Kernel.Avx512 => Avx512Kernel.Dot(ref c, ref q, codes.Length),
            Int8Kernel.Avx2 => Avx2Kernel.Dot(ref c, ref q, codes.Length),
            Int8Kernel.Vector128 => Vector128Kernel.Dot(ref c, ref q, codes.Length),
            _ => ScalarKernel.Dot(ref c, ref q, codes.Length),
        };
    }

    /// <summary>One kernel; a struct type argument, so the scan loop is compiled once per kernel with the call inlined.</summary>
    internal interface IKernel
    {
        static abstract int Dot(ref sbyte codes, ref short query, int length);
    }

    internal readonly struct ScalarKernel : IKernel
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Dot(ref sbyte codes, ref short query, int length)
        {
            int sum = 0;
            for (int j = 0; j < length; j++)
            {
                sum += Unsafe.Add(ref codes, j) * Unsafe.Add(ref query, j);
            }

            return sum;
        }
    }

    internal readonly struct Vector128Kernel : IKernel
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Dot(ref sbyte codes, ref short query, int length)
        {
            var sum = Vector128<int>.Zero;
            int j = 0;
            for (; j + 16 <= length; j += 16)
            {
                var (low, high) = Vector128.Widen(Vector128.LoadUnsafe(ref codes, (nuint)j));
                sum += MultiplyWidening(low, Vector128.LoadUnsafe(ref query, (nuint)j))
                    + MultiplyWidening(high, Vector128.LoadUnsafe(ref query, (nuint)(j + 8)));
            }

            return Vector128.Sum(sum) + ScalarKernel.Dot(ref Unsafe.Add(ref codes, j), ref Unsafe.Add(ref query, j), length - j);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector128<int> MultiplyWidening(Vector128<short> codes, Vector128<short> query)
        {
            var (codesLow, codesHigh) = Vector128.Widen(codes);
            var (queryLow, queryHigh) = Vector128.Widen(query);
            return (codesLow * queryLow) + (codesHigh * queryHigh);
        }
    }

    internal readonly struct Avx2Kernel : IKernel
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Dot(ref sbyte codes, ref short query, int length)
        {
            var sum0 = Vector256<int>.Zero;
            var sum1 = Vector256<int>.Zero;
            int j = 0;
            for (; j + 32 <= length; j += 32)
            {
                sum0 += Avx2.MultiplyAddAdjacent(
                    Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref codes, (nuint)j)),
                    Vector256.LoadUnsafe(ref query, (nuint)j));
                sum1 += Avx2.MultiplyAddAdjacent(
                    Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref codes, (nuint)(j + 16))),
                    Vector256.LoadUnsafe(ref query, (nuint)(j + 16)));
            }

            if (j + 16 <= length)
            {
                sum0 += Avx2.MultiplyAddAdjacent(
                    Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref codes, (nuint)j)),
                    Vector256.LoadUnsafe(ref query, (nuint)j));
                j += 16;
            }

            int sum = Vector256.Sum(sum0 + sum1);
            for (; j < length; j++)
            {
                sum += Unsafe.Add(ref codes, j) * Unsafe.Add(ref query, j);
            }

            return sum;
        }
    }

    internal readonly struct Avx512Kernel : IKernel
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Dot(ref sbyte codes, ref short query, int length)
        {
            var sum0 = Vector512<int>.Zero;
            var sum1 = Vector512<int>.Zero;
            int j = 0;
            for (; j + 64 <= length; j += 64)
            {
                sum0 += Avx512BW.MultiplyAddAdjacent(
                    Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref codes, (nuint)j)),
                    Vector512.LoadUnsafe(ref query, (nuint)j));
                sum1 += Avx512BW.MultiplyAddAdjacent(
                    Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref codes, (nuint)(j + 32))),
                    Vector512.LoadUnsafe(ref query, (nuint)(j + 32)));
            }

            if (j + 32 <= length)
            {
                sum0 += Avx512BW.MultiplyAddAdjacent(
                    Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref codes, (nuint)j)),
                    Vector512.LoadUnsafe(ref query, (nuint)j));
                j += 32;
            }

            // The rest (at most 31 dimensions) through the AVX2 kernel, which finishes with the scalar loop.
            return Vector512.Sum(sum0 + sum1) + Avx2Kernel.Dot(ref Unsafe.Add(ref codes, j), ref Unsafe.Add(ref query, j), length - j);
        }
    }
}
