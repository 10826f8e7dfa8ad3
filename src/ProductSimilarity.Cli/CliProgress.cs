using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ProductSimilarity.Cli;

/// <summary>Receives the progress of a long job.</summary>
internal interface IProgressSink
{
    /// <summary>Reports <paramref name="done"/> units of <paramref name="total"/> (null when unknown), with an optional short detail.</summary>
    void Report(long done, long? total = null, string? detail = null);
}

/// <summary>
/// Progress for long commands (ingest, eval, export, train, bench), on stderr so stdout stays clean for tables and
/// JSON: a live Spectre.Console bar with the rate and the time left on a terminal; plain lines every few seconds when
/// stderr is redirected or <c>CI</c> is set (logs stay readable).
/// </summary>
/// <remarks>One instance per job; <see cref="IProgressSink.Report"/> may be called from any thread.</remarks>
internal static class CliProgress
{
    /// <summary>How often plain lines are written.</summary>
    public static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(5);

    /// <summary>True when the live bar is used: stderr is the terminal and <c>CI</c> is not set.</summary>
    public static bool IsLive(CliConsole console) =>
        console.ErrorIsTerminal && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));

    /// <summary>Runs <paramref name="work"/> with a progress display named <paramref name="description"/>.</summary>
    /// <param name="console">Where the display goes (its stderr).</param>
    /// <param name="description">What is being done, e.g. <c>ingest catalog.csv</c>.</param>
    /// <param name="unit">The unit counted, plural (<c>rows</c>, <c>queries</c>).</param>
    /// <param name="work">The job; it reports through the sink it is given.</param>
    public static async Task<T> RunAsync<T>(CliConsole console, string description, string unit, Func<IProgressSink, Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(work);
        if (!IsLive(console))
        {
            var plain = new PlainSink(console.Error, description, unit);
            var result = await work(plain).ConfigureAwait(false);
            plain.Finish();
            return result;
        }

        var ansi = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(console.Error) });
        return await ansi.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new CountColumn(unit), new RateColumn(unit), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(description), autoStart: true, maxValue: 1);
                task.IsIndeterminate = true;
                var result = await work(new LiveSink(task, description)).ConfigureAwait(false);
                if (task.IsIndeterminate)
                {
                    task.IsIndeterminate = false;
                    task.MaxValue = Math.Max(1, task.Value);
                }

                task.Value = task.MaxValue;
                task.StopTask();
                return result;
            }).ConfigureAwait(false);
    }

    /// <summary>Formats a duration as <c>1h02m</c>, <c>3m05s</c> or <c>12s</c>.</summary>
    public static string FormatDuration(TimeSpan span) => span.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}h{span.Minutes:00}m")
        : span.TotalMinutes >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes}m{span.Seconds:00}s")
            : string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, (int)Math.Round(span.TotalSeconds))}s");

    /// <summary>One plain progress line: what, how many of how many, rate and time left.</summary>
    public static string FormatLine(string description, string unit, long done, long? total, string? detail, TimeSpan elapsed)
    {
        var rate = done / Math.Max(elapsed.TotalSeconds, 0.001);
        var line = total is > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{description}: {done}/{total} {unit} ({100.0 * done / total.Value:0.0}%), {rate:0.#} {unit}/s")
            : string.Create(CultureInfo.InvariantCulture, $"{description}: {done} {unit}, {rate:0.#} {unit}/s");
        if (total is > 0 && done > 0 && done < total)
        {
            line += $", ETA {FormatDuration(TimeSpan.FromSeconds((total.Value - done) / rate))}";
        }

        return string.IsNullOrEmpty(detail) ? line : $"{line} ({detail})";
    }

    private sealed class PlainSink(TextWriter error, string description, string unit) : IProgressSink
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Lock _gate = new();
        private TimeSpan _last = TimeSpan.Zero;
        private (long Done, long? Total, string? Detail) _latest;
        private bool _wrote;

        public void Report(long done, long? total = null, string? detail = null)
        {
            lock (_gate)
            {
                _latest = (done, total, detail);
                if (_clock.Elapsed - _last < PlainInterval)
                {
                    return;
                }

                _last = _clock.Elapsed;
                _wrote = true;
                error.WriteLine(FormatLine(description, unit, done, total, detail, _clock.Elapsed));
            }
        }

        public void Finish()
        {
            lock (_gate)
            {
                if (_wrote || _latest.Done > 0)
                {
                    error.WriteLine(FormatLine(description, unit, _latest.Done, _latest.Total, _latest.Detail, _clock.Elapsed) + $" in {FormatDuration(_clock.Elapsed)}");
                }
            }
        }
    }

    private sealed class LiveSink(ProgressTask task, string description) : IProgressSink
    {
        private readonly Lock _gate = new();

        public void Report(long done, long? total = null, string? detail = null)
        {
            lock (_gate)
            {
                if (total is > 0)
                {
                    task.IsIndeterminate = false;
                    task.MaxValue = total.Value;
                }

                task.Value = total is > 0 ? Math.Min(done, total.Value) : done;
                task.Description = Markup.Escape(string.IsNullOrEmpty(detail) ? description : $"{description} ({detail})");
            }
        }
    }

    private sealed class CountColumn(string unit) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(task.IsIndeterminate
                ? string.Create(CultureInfo.InvariantCulture, $"{task.Value:0} {unit}")
                : string.Create(CultureInfo.InvariantCulture, $"{task.Value:0}/{task.MaxValue:0} {unit}"));
    }

    private sealed class RateColumn(string unit) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(task.Speed is { } speed ? string.Create(CultureInfo.InvariantCulture, $"{speed:0.#} {unit}/s") : string.Empty, new Style(Color.Grey));
    }
}
