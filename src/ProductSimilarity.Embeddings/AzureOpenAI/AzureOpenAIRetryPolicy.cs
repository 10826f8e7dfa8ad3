using System.ClientModel.Primitives;
using System.Globalization;

namespace ProductSimilarity.Embeddings.AzureOpenAI;

/// <summary>
/// A <see cref="ClientRetryPolicy"/> for Azure OpenAI that waits as long as the service asks on throttling
/// (<c>retry-after-ms</c>, <c>x-ms-retry-after-ms</c>, then <c>Retry-After</c> in seconds or as an HTTP date),
/// caps each wait, bounds the number of retries, and waits on an injectable <see cref="TimeProvider"/>.
/// </summary>
/// <remarks>
/// <para>
/// Azure.AI.OpenAI 2.1.0 installs an internal policy that reads the same headers, but it has no cap on the wait,
/// mis-parses the HTTP-date form of <c>Retry-After</c>, and sleeps on the wall clock, so it cannot be tested without
/// real waiting. This policy replaces it; which responses are retried (408, 429, 500, 502, 503, 504 and transport
/// failures) stays the <see cref="System.ClientModel"/> default.
/// </para>
/// <para>Thread-safe: it holds no per-request state, so one instance can serve every request of a client.</para>
/// </remarks>
public sealed class AzureOpenAIRetryPolicy : ClientRetryPolicy
{
    /// <summary>Retries after the first try when none is given.</summary>
    public const int DefaultMaxRetries = 5;

    /// <summary>The longest single wait when none is given.</summary>
    public static readonly TimeSpan DefaultMaxDelay = TimeSpan.FromSeconds(60);

    private readonly TimeSpan _maxDelay;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates the policy.</summary>
    /// <param name="maxRetries">Retries after the first try (so at most <c>maxRetries + 1</c> requests).</param>
    /// <param name="maxDelay">The longest single wait; a longer <c>Retry-After</c> is cut to this. Default 60 s.</param>
    /// <param name="timeProvider">The clock to wait on; <see cref="TimeProvider.System"/> by default.</param>
    public AzureOpenAIRetryPolicy(int maxRetries = DefaultMaxRetries, TimeSpan? maxDelay = null, TimeProvider? timeProvider = null)
        : base(maxRetries)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetries);
        _maxDelay = maxDelay ?? DefaultMaxDelay;
        ArgumentOutOfRangeException.ThrowIfLessThan(_maxDelay, TimeSpan.Zero, nameof(maxDelay));
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc/>
    protected override TimeSpan GetNextDelay(PipelineMessage message, int tryCount)
    {
        ArgumentNullException.ThrowIfNull(message);
        TimeSpan delay = TryGetServerDelay(message.Response) ?? base.GetNextDelay(message, tryCount);
        if (delay < TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        return delay > _maxDelay ? _maxDelay : delay;
    }

    /// <inheritdoc/>
    protected override Task WaitAsync(TimeSpan time, CancellationToken cancellationToken)
        => Task.Delay(time, _timeProvider, cancellationToken);

    /// <inheritdoc/>
    protected override void Wait(TimeSpan time, CancellationToken cancellationToken)
        => Task.Delay(time, _timeProvider, cancellationToken).GetAwaiter().GetResult();

    private TimeSpan? TryGetServerDelay(PipelineResponse? response)
    {
        if (response is null)
        {
            return null;
        }

        // Azure OpenAI sends the millisecond headers alongside Retry-After; they are the more precise of the two.
        foreach (string name in (ReadOnlySpan<string>)["retry-after-ms", "x-ms-retry-after-ms"])
        {
            if (response.Headers.TryGetValue(name, out string? ms)
                && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out double milliseconds)
                && double.IsFinite(milliseconds))
            {
                return Clamp(milliseconds);
            }
        }

        if (!response.Headers.TryGetValue("Retry-After", out string? retryAfter) || string.IsNullOrWhiteSpace(retryAfter))
        {
            return null;
        }

        if (double.TryParse(retryAfter, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && double.IsFinite(seconds))
        {
            return Clamp(seconds * 1000);
        }

        if (DateTimeOffset.TryParse(retryAfter, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset until))
        {
            return until - _timeProvider.GetUtcNow();
        }

        return null;
    }

    // Clamped before building the TimeSpan: an absurd header value must not overflow it.
    private TimeSpan Clamp(double milliseconds)
        => milliseconds >= _maxDelay.TotalMilliseconds ? _maxDelay
            : milliseconds <= 0 ? TimeSpan.Zero
            : TimeSpan.FromMilliseconds(milliseconds);
}
