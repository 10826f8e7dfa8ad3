using Microsoft.Extensions.AI;
using ProductSimilarity.Core.Ingestion;
using ProductSimilarity.Embeddings.Adapters;
using ProductSimilarity.Embeddings.Tests.Onnx;
using ProductSimilarity.Embeddings.Training;

namespace ProductSimilarity.Embeddings.Tests.Training;

public sealed class LinearAdapterEmbeddingGeneratorTests
{
    [Fact]
    public async Task GenerateAsync_Adapter_ReturnsNormalisedLinearMapOfTheInnerVectors()
    {
        using var folder = new TempDirectory();
        var path = folder.File("adapter.safetensors");
        SafeTensors.Write(path, new Dictionary<string, FloatTensor>
        {
            ["weight"] = new([2, 3], [1, 0, 0, 0, 0, 2]), // y0 = x0, y1 = 2 x2
            ["bias"] = new([2], [0, 1]),
        });
        using var adapter = LinearAdapterEmbeddingGenerator.Load(new FixedGenerator([3, 5, 1.5f]), path);

        var result = await adapter.GenerateAsync(["anything"]);

        Assert.Equal([0.6f, 0.8f], result[0].Vector.ToArray()); // (3, 4) / 5
        Assert.StartsWith("fixed-model+adapter-", adapter.GetService<EmbeddingGeneratorMetadata>()!.DefaultModelId, StringComparison.Ordinal);
        Assert.Equal(2, adapter.GetService<EmbeddingGeneratorMetadata>()!.DefaultModelDimensions);
        Assert.Equal(new EmbeddingAdapterMetadata(adapter.AdapterId, "fixed-model"), adapter.GetService<EmbeddingAdapterMetadata>());
        Assert.Matches("^adapter-[0-9a-f]{12}$", adapter.AdapterId);
    }

    [Fact]
    public async Task GenerateAsync_VectorOfAnotherLength_SaysTheAdapterWasTrainedForAnotherModel()
    {
        using var folder = new TempDirectory();
        var path = folder.File("adapter.safetensors");
        SafeTensors.Write(path, new Dictionary<string, FloatTensor> { ["weight"] = new([2, 2], [1, 0, 0, 1]), ["bias"] = new([2], [0, 0]) });
        using var adapter = LinearAdapterEmbeddingGenerator.Load(new FixedGenerator([1, 2, 3]), path);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => adapter.GenerateAsync(["x"]));

        Assert.Contains("trained for another model", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingFile_NamesTheSetting()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => LinearAdapterEmbeddingGenerator.Load(new FixedGenerator([1]), "/nonexistent/adapter.safetensors"));

        Assert.Contains("ProductSimilarity:Embeddings:AdapterPath", ex.Message, StringComparison.Ordinal);
    }

    private sealed class FixedGenerator(float[] vector) : IEmbeddingGenerator<string, Embedding<float>>
    {
        private readonly EmbeddingGeneratorMetadata _metadata = new("fake", null, "fixed-model", vector.Length);

        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(values.Select(_ => new Embedding<float>(vector.ToArray()))));

        public object? GetService(Type serviceType, object? serviceKey = null) => serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata : null;

        public void Dispose()
        {
        }
    }
}
