namespace ProductSimilarity.Core.Ingestion;

/// <summary>
/// Describes a trained adapter applied on top of an embedding model; an adapting decorator returns it from
/// <c>IEmbeddingGenerator.GetService</c>, so ingestion and the index can record which adapter produced the vectors.
/// </summary>
/// <param name="AdapterId">A stable id of the adapter's weights (file name and content hash).</param>
/// <param name="BaseModelId">The model whose vectors the adapter maps.</param>
public sealed record EmbeddingAdapterMetadata(string AdapterId, string BaseModelId);
