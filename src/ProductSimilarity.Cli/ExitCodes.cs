namespace ProductSimilarity.Cli;

/// <summary>Exit codes, the same for every command.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int RowsRejected = 3;
}

/// <summary>A failure the user can act on: printed as one line, no stack trace.</summary>
internal sealed class CliException(string message, int exitCode = ExitCodes.Failure) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
