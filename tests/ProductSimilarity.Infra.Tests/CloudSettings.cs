namespace ProductSimilarity.Infra.Tests;

/// <summary>
/// The app settings a cloud deployment must set (in Azure app-settings form, <c>__</c> for <c>:</c>).
/// The Bicep template sets each of them; the infrastructure tests check that it does. It lives with those tests, its
/// only users.
/// </summary>
internal static class CloudSettings
{
    /// <summary>Settings every cloud deployment needs.</summary>
    public static IReadOnlyList<string> Required { get; } =
    [
        "ProductSimilarity__Index__Provider",
        "ProductSimilarity__Index__AzureAISearch__Endpoint",
        "ProductSimilarity__Index__AzureAISearch__IndexName",
        "ProductSimilarity__Embeddings__Provider",
        "CatalogStorage__blobServiceUri",
        "CatalogStorage__queueServiceUri",
        "CatalogStorage__credential",
    ];

    /// <summary>Additional settings when <c>ProductSimilarity:Embeddings:Provider=AzureOpenAI</c>.</summary>
    public static IReadOnlyList<string> RequiredForAzureOpenAI { get; } =
    [
        "ProductSimilarity__Embeddings__AzureOpenAI__Endpoint",
        "ProductSimilarity__Embeddings__AzureOpenAI__Deployment",
        "ProductSimilarity__Embeddings__AzureOpenAI__Dimensions",
    ];

    /// <summary>The connection name of the blob trigger (identity-based: <c>CatalogStorage__blobServiceUri</c> and friends).</summary>
    public const string CatalogStorageConnection = "CatalogStorage";
}
