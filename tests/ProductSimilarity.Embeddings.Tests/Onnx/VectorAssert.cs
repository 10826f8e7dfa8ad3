using System.Numerics.Tensors;

namespace ProductSimilarity.Embeddings.Tests.Onnx;

internal static class VectorAssert
{
    /// <summary>The model id a model file must get: its file name and the first 12 hex digits of its SHA-256.</summary>
    public static string FileModelId(string path) =>
        $"{Path.GetFileName(path)}@{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)))[..12]}";

    public static float Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => TensorPrimitives.CosineSimilarity(a, b);

    public static void UnitLength(ReadOnlySpan<float> vector, int dimensions)
    {
        Assert.Equal(dimensions, vector.Length);
        foreach (var x in vector)
        {
            Assert.True(float.IsFinite(x), "vector has a non-finite component");
        }

        Assert.InRange(TensorPrimitives.Norm(vector), 0.9999f, 1.0001f);
    }
}
