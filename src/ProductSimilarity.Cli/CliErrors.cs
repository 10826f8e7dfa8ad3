using System.Text;
using Microsoft.Extensions.Options;

namespace ProductSimilarity.Cli;

/// <summary>Turns any exception that escapes a command into one line for stderr and an exit code.</summary>
internal static class CliErrors
{
    /// <summary>The one-line message (<c>error: …</c>) and the exit code for <paramref name="exception"/>.</summary>
    /// <remarks>
    /// <see cref="CliException"/> carries its own exit code; invalid configuration is a usage error (2); cancellation
    /// and everything else is a failure (1). Wrappers (<see cref="AggregateException"/>, <see cref="TypeInitializationException"/>,
    /// <see cref="System.Reflection.TargetInvocationException"/>) are unwrapped so the line names the real cause.
    /// </remarks>
    public static (string Message, int ExitCode) Describe(Exception exception)
    {
        var ex = Unwrap(exception);
        return ex switch
        {
            CliException cli => ("error: " + OneLine(cli.Message), cli.ExitCode),
            OperationCanceledException => ("cancelled.", ExitCodes.Failure),
            OptionsValidationException options => ("error: invalid configuration: " + OneLine(string.Join(" ", options.Failures)), ExitCodes.Usage),
            _ => ("error: " + OneLine(Describe(ex, exception)), ExitCodes.Failure),
        };
    }

    private static Exception Unwrap(Exception ex)
    {
        while (true)
        {
            switch (ex)
            {
                case AggregateException { InnerExceptions.Count: 1 } aggregate:
                    ex = aggregate.InnerExceptions[0];
                    continue;
                case AggregateException { InnerExceptions.Count: > 1 } retries
                    when retries.InnerExceptions.All(e => e.Message == retries.InnerExceptions[0].Message):
                    // Retry policies (Azure.Core among them) wrap one failure per try: say it once, with the count.
                    ex = new InvalidOperationException($"{retries.InnerExceptions[0].Message} (failed {retries.InnerExceptions.Count} times)", retries.InnerExceptions[0].InnerException);
                    return ex;
                case TypeInitializationException { InnerException: { } inner }:
                    ex = inner;
                    continue;
                case System.Reflection.TargetInvocationException { InnerException: { } inner }:
                    ex = inner;
                    continue;
                default:
                    return ex;
            }
        }
    }

    private static string Describe(Exception ex, Exception original)
    {
        // A message alone can be too vague to act on ("Connection refused"): add the causes below it, once each.
        var text = new StringBuilder(ex.Message);
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (!string.IsNullOrWhiteSpace(inner.Message) && !text.ToString().Contains(inner.Message, StringComparison.Ordinal))
            {
                text.Append(" (").Append(inner.Message.TrimEnd('.')).Append(')');
            }
        }

        if (text.Length == 0)
        {
            text.Append(original.GetType().Name);
        }

        return text.ToString();
    }

    /// <summary>Folds a message onto one line: line breaks and runs of white space become single spaces.</summary>
    public static string OneLine(string message)
    {
        var builder = new StringBuilder(message.Length);
        var space = false;
        foreach (var c in message)
        {
            if (char.IsWhiteSpace(c))
            {
                space = builder.Length > 0;
                continue;
            }

            if (space)
            {
                builder.Append(' ');
                space = false;
            }

            builder.Append(c);
        }

        return builder.ToString();
    }
}
