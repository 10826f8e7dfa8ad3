using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using ProductSimilarity.Core.Configuration;

namespace ProductSimilarity.Embeddings.Onnx;

/// <summary>The integer dot-product instructions of the CPU that decide how ONNX Runtime runs int8 matrix products.</summary>
/// <param name="Architecture">The process architecture, e.g. <c>X64</c> or <c>Arm64</c>.</param>
/// <param name="Avx2">AVX2 is usable (the OS saves its registers).</param>
/// <param name="Avx512Vnni">AVX-512 VNNI is usable (<c>VPDPBUSD</c> on 512-bit registers).</param>
/// <param name="AvxVnni">AVX-VNNI is usable (<c>VPDPBUSD</c> with a VEX encoding, on 256-bit registers).</param>
public sealed record CpuInt8Features(Architecture Architecture, bool Avx2, bool Avx512Vnni, bool AvxVnni)
{
    /// <summary>Whether ONNX Runtime's u8s8 kernels accumulate in 32 bits here (a VNNI instruction), so signed 8-bit weights cannot saturate.</summary>
    public bool HasVnni => Avx512Vnni || AvxVnni;

    /// <summary>The features of the CPU this process runs on, read once.</summary>
    public static CpuInt8Features Current { get; } = Detect();

    /// <summary>A short list such as <c>x64: AVX2, AVX-512 VNNI, AVX-VNNI</c>.</summary>
    public string Describe()
    {
        var name = Architecture.ToString().ToLowerInvariant();
        if (Architecture is not (Architecture.X64 or Architecture.X86))
        {
            return name;
        }

        List<string> features = [];
        if (Avx2)
        {
            features.Add("AVX2");
        }

        if (Avx512Vnni)
        {
            features.Add("AVX-512 VNNI");
        }

        if (AvxVnni)
        {
            features.Add("AVX-VNNI");
        }

        return features.Count == 0 ? $"{name}: no AVX2" : $"{name}: {string.Join(", ", features)}";
    }

    private static CpuInt8Features Detect()
    {
        var architecture = RuntimeInformation.ProcessArchitecture;
        if (!X86Base.IsSupported)
        {
            return new CpuInt8Features(architecture, false, false, false);
        }

        // .NET 10 has no Avx512Vnni class, so read the CPUID bit (leaf 7, ECX bit 11) that ONNX Runtime's MLAS reads, and
        // require that AVX-512 is usable at all (the OS saves the registers and the runtime did not disable it). Erring
        // towards "no VNNI" only costs speed; erring the other way would cost quality, so every doubt says no.
        var (_, _, ecx, _) = X86Base.CpuId(7, 0);
        bool avx512Vnni = (ecx & (1 << 11)) != 0 && Avx512F.IsSupported && Avx512BW.IsSupported;
        return new CpuInt8Features(architecture, System.Runtime.Intrinsics.X86.Avx2.IsSupported, avx512Vnni, System.Runtime.Intrinsics.X86.AvxVnni.IsSupported);
    }
}

/// <summary>The int8 scheme in force and why it was chosen.</summary>
/// <param name="Scheme">The concrete scheme: never <see cref="OnnxInt8Scheme.Auto"/>.</param>
/// <param name="Reason">One sentence for <c>psim info</c> and <c>psim bench</c>.</param>
public sealed record Int8SchemeChoice(OnnxInt8Scheme Scheme, string Reason);

/// <summary>Resolves <see cref="OnnxInt8Scheme.Auto"/> to the scheme that keeps int8 quality on the CPU at hand.</summary>
/// <remarks>
/// <para>
/// ONNX Runtime's CPU kernels for <c>DynamicQuantizeMatMul</c> multiply uint8 activations by the weights. With int8
/// weights (u8s8) on x86-64 without VNNI, MLAS uses <c>VPMADDUBSW</c>, which adds two u8×s8 products into a signed
/// 16-bit lane and saturates: 255 × 127 × 2 = 64,770 does not fit in 32,767. ONNX Runtime's quantisation guide names
/// the remedies: weights in 7 bits ("reduce range": 255 × 63 × 2 = 32,130 fits) or uint8 weights (u8u8, whose kernels
/// widen to 16 bits before multiplying and never saturate). With VNNI (<c>VPDPBUSD</c>) the products go straight into
/// 32-bit sums, so full 8-bit signed weights are exact and fastest.
/// </para>
/// <para>
/// Both remedies compute the same integers on every x86-64 CPU, so their quality can be tested on a machine with VNNI.
/// <see cref="OnnxInt8Scheme.ReduceRange"/> is the fallback: on the bundled models it kept cosine ≥ 0.99 to fp32 on every
/// test sentence, it runs on the fast u8s8 kernels, and u8u8 was measured slower (see docs/configuration.md).
/// arm64 has no such saturation (its int8 dot-product kernels accumulate in 32 bits), so it keeps signed 8-bit weights.
/// </para>
/// <para>Stateless; thread-safe.</para>
/// </remarks>
public static class Int8SchemeSelector
{
    /// <summary>The scheme <paramref name="requested"/> resolves to on a CPU with <paramref name="cpu"/>, and why.</summary>
    public static Int8SchemeChoice Choose(OnnxInt8Scheme requested, CpuInt8Features cpu)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        var features = cpu.Describe();
        if (requested != OnnxInt8Scheme.Auto)
        {
            var warning = requested == OnnxInt8Scheme.S8 && IsX86(cpu) && !cpu.HasVnni
                ? " Warning: this CPU has no VNNI, so ONNX Runtime's u8s8 kernel can saturate and embeddings lose quality."
                : string.Empty;
            return new Int8SchemeChoice(requested, $"set by Embeddings:Onnx:Int8Scheme ({features}).{warning}");
        }

        if (!IsX86(cpu))
        {
            return new Int8SchemeChoice(
                OnnxInt8Scheme.S8, $"Auto: {features} int8 kernels accumulate in 32 bits, so signed 8-bit weights cannot saturate.");
        }

        return cpu.HasVnni
            ? new Int8SchemeChoice(OnnxInt8Scheme.S8, $"Auto: VNNI present ({features}), so signed 8-bit weights accumulate exactly in 32 bits.")
            : new Int8SchemeChoice(
                OnnxInt8Scheme.ReduceRange,
                $"Auto: no VNNI ({features}); 8-bit weights would saturate VPMADDUBSW's 16-bit sums, so weights use 7 bits.");
    }

    /// <summary>The suffix the model id gets for <paramref name="scheme"/>, e.g. <c>-int8-s8</c>.</summary>
    public static string ModelIdSuffix(OnnxInt8Scheme scheme) => scheme switch
    {
        OnnxInt8Scheme.S8 => "-int8-s8",
        OnnxInt8Scheme.ReduceRange => "-int8-s7",
        OnnxInt8Scheme.U8U8 => "-int8-u8",
        _ => throw new ArgumentOutOfRangeException(nameof(scheme), scheme, "Auto has no model id; resolve it with Choose first."),
    };

    private static bool IsX86(CpuInt8Features cpu) => cpu.Architecture is Architecture.X64 or Architecture.X86;
}
