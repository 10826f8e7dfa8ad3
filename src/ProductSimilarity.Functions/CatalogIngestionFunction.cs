using Azure.Storage.Blobs;
using Microsoft.Azure.Functions.Worker;
using ProductSimilarity.Api.Ingestion;
using ProductSimilarity.Core.Configuration;

namespace ProductSimilarity.Functions;

/// <summary>Ingests a catalog when it lands in the <c>catalogs</c> container. One call into <see cref="BlobCatalogIngestor"/>.</summary>
/// <remarks>
/// Event Grid source: Flex Consumption does not poll containers. Binding to <see cref="BlobClient"/> (not a string or
/// bytes) lets the ingestor stream the blob, so a catalog of any size never sits in memory.
/// </remarks>
public sealed class CatalogIngestionFunction(BlobCatalogIngestor ingestor)
{
    /// <summary>Runs the ingestion pipeline on the blob and writes its status document and error report.</summary>
    [Function(nameof(IngestCatalog))]
    public Task IngestCatalog(
        [BlobTrigger(IngestionOptions.CatalogContainer + "/{name}", Source = BlobTriggerSource.EventGrid, Connection = "CatalogStorage")] BlobClient catalog,
        string name,
        CancellationToken cancellationToken) => ingestor.IngestAsync(catalog, cancellationToken);
}
