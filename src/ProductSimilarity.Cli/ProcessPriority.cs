using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using ProductSimilarity.Core.Configuration;

namespace ProductSimilarity.Cli;

/// <summary>
/// Lowers the scheduling priority of this process (<c>ProductSimilarity:Ingestion:Priority</c> = <c>Low</c>: nice 10, or
/// the nice value it already has when that is lower still), so that an
/// ingestion beside <c>psim serve</c> takes only the CPU the server leaves idle. Alone on a machine it runs as fast as
/// before: a lower priority only matters when something else wants the cores.
/// </summary>
/// <remarks>
/// On Linux the nice value belongs to each thread, and a new thread inherits its creator's, so every thread that exists
/// now is lowered (those the runtime and ONNX Runtime start later inherit it). Elsewhere the process's priority class is
/// set. Lowering needs no privilege; failures are ignored (the ingestion runs at normal priority). Not thread-safe; call
/// once, early.
/// </remarks>
internal static partial class ProcessPriority
{
    /// <summary>The nice value of <see cref="IngestionPriority.Low"/> on Linux and macOS.</summary>
    public const int LowNice = 10;

    private const int PrioProcess = 0;

    /// <summary>Applies <paramref name="priority"/> to this process and logs the outcome (Debug).</summary>
    /// <param name="priority">The priority.</param>
    /// <param name="logger">Where the outcome is logged.</param>
    /// <returns>Whether the priority was lowered.</returns>
    public static bool Apply(IngestionPriority priority, ILogger logger)
    {
        bool lowered = Lower(priority);
        if (lowered)
        {
            LogLowered(logger, OperatingSystem.IsLinux() ? NiceOf(Environment.ProcessId)?.ToString(CultureInfo.InvariantCulture) ?? "?" : "below normal");
        }
        else
        {
            LogUnchanged(logger, priority);
        }

        return lowered;
    }

    private static bool Lower(IngestionPriority priority)
    {
        if (priority != IngestionPriority.Low)
        {
            return false;
        }

        try
        {
            if (OperatingSystem.IsLinux())
            {
                bool any = false;
                foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
                {
                    // Never raise a priority: a thread already at LowNice or lower keeps its own.
                    if (int.TryParse(Path.GetFileName(task), NumberStyles.None, CultureInfo.InvariantCulture, out int tid)
                        && NiceOf(tid) is not >= LowNice)
                    {
                        any |= SetPriority(PrioProcess, tid, LowNice) == 0;
                    }
                    else
                    {
                        any = true;
                    }
                }

                return any;
            }

            if (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
            {
                return SetPriority(PrioProcess, 0, LowNice) == 0;
            }

            using var process = Process.GetCurrentProcess();
            process.PriorityClass = ProcessPriorityClass.BelowNormal;
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception or DllNotFoundException or EntryPointNotFoundException or PlatformNotSupportedException)
        {
            return false;
        }
    }

    /// <summary>The nice value of thread <paramref name="tid"/> (Linux), or null when it cannot be read.</summary>
    /// <param name="tid">The thread id (a directory name under <c>/proc/self/task</c>).</param>
    internal static int? NiceOf(int tid)
    {
        // /proc/self/task/TID/stat: "tid (comm) state ..."; nice is the 19th field, counted after the closing parenthesis.
        try
        {
            var stat = File.ReadAllText($"/proc/self/task/{tid.ToString(CultureInfo.InvariantCulture)}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[16], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or FormatException or IndexOutOfRangeException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    [LoggerMessage(EventId = 30, Level = LogLevel.Debug, Message = "Ingestion CPU priority lowered (nice {Nice})")]
    private static partial void LogLowered(ILogger logger, string nice);

    [LoggerMessage(EventId = 31, Level = LogLevel.Debug, Message = "Ingestion CPU priority unchanged (Priority={Priority})")]
    private static partial void LogUnchanged(ILogger logger, IngestionPriority priority);

    [DllImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static extern int SetPriority(int which, int who, int priority);
}
