using Microsoft.Extensions.Logging;

namespace ProductSimilarity.Search.AzureAISearch;

/// <summary>Log messages of <see cref="AzureAISearchProductIndex"/>.</summary>
internal static partial class AzureAISearchLog
{
    [LoggerMessage(EventId = 3100, Level = LogLevel.Information, Message = "Azure AI Search index {IndexName} created or updated with {Dimensions} vector dimensions")]
    public static partial void IndexEnsured(ILogger logger, string indexName, int dimensions);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Debug, Message = "Azure AI Search index {IndexName}: sending {Operation} batch of {Count} documents ({Bytes} bytes estimated)")]
    public static partial void SendingBatch(ILogger logger, string indexName, string operation, int count, long bytes);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "Azure AI Search index {IndexName}: {Count} documents failed with retryable statuses during {Operation}; retry {Attempt} in {DelayMs} ms")]
    public static partial void RetryingKeys(ILogger logger, string indexName, int count, string operation, int attempt, double delayMs);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Information, Message = "Azure AI Search index {IndexName} does not exist yet")]
    public static partial void IndexMissing(ILogger logger, string indexName);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Error, Message = "Azure AI Search index {IndexName}: {Count} documents failed during {Operation}")]
    public static partial void KeysFailed(ILogger logger, string indexName, int count, string operation);
}
