using System.Collections.Concurrent;
using Azure.Core;

namespace ProductSimilarity.Embeddings.Tests.AzureOpenAI;

/// <summary>Hands out a fixed bearer token and records the scopes it was asked for.</summary>
internal sealed class FakeTokenCredential(string token) : TokenCredential
{
    private readonly ConcurrentQueue<string[]> _scopes = new();

    public IReadOnlyList<string[]> RequestedScopes => [.. _scopes];

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        _scopes.Enqueue(requestContext.Scopes);
        return new AccessToken(token, DateTimeOffset.UtcNow.AddHours(1));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        => ValueTask.FromResult(GetToken(requestContext, cancellationToken));
}
