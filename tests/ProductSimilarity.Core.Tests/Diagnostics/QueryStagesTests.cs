using System.Diagnostics;
using ProductSimilarity.Core.Diagnostics;

namespace ProductSimilarity.Core.Tests.Diagnostics;

/// <summary>
/// <see cref="QueryStages"/>: a query started by <see cref="ProductSimilarityTelemetry.StartQuery"/> collects the stage
/// timings of everything it calls, across awaits; outside a query a stage timer records nothing.
/// </summary>
public sealed class QueryStagesTests
{
    [Fact]
    public async Task Time_InsideAQuery_AddsToThatQuerysStage()
    {
        using var query = ProductSimilarityTelemetry.StartQuery("search");
        await StageAsync(QueryStage.Embed);
        using (QueryStages.Time(QueryStage.Keyword))
        {
            Thread.Sleep(1);
        }

        Assert.Same(query.Stages, QueryStages.Current);
        Assert.True(query.Stages[QueryStage.Embed] > TimeSpan.Zero);
        Assert.True(query.Stages[QueryStage.Keyword] > TimeSpan.Zero);
        Assert.Equal(TimeSpan.Zero, query.Stages[QueryStage.Vector]);
        Assert.Matches(@"^embed \d+\.\d ms, keyword \d+\.\d ms$", query.Stages.ToString());
    }

    [Fact]
    public void Time_OutsideAQuery_RecordsNothing()
    {
        Assert.Null(QueryStages.Current);
        using (QueryStages.Time(QueryStage.Vector))
        {
            Thread.Sleep(1);
        }

        Assert.Null(QueryStages.Current);
    }

    [Fact]
    public void Dispose_EndsTheQuery_LaterStagesGoNowhere()
    {
        var query = ProductSimilarityTelemetry.StartQuery("similar");
        query.Dispose();

        Assert.Null(QueryStages.Current);
        using (QueryStages.Time(QueryStage.Vector))
        {
            Thread.Sleep(1);
        }

        Assert.Equal(TimeSpan.Zero, query.Stages[QueryStage.Vector]);
        Assert.Equal("none", query.Stages.ToString());
    }

    [Fact]
    public void Add_NamesStagesForTheLog()
    {
        using var query = ProductSimilarityTelemetry.StartQuery("recommendations");
        query.Stages.Add(QueryStage.GraphSync, Stopwatch.Frequency / 100); // 10 ms
        query.Stages.Add(QueryStage.SegmentLoad, Stopwatch.Frequency / 1000); // 1 ms

        Assert.Equal("segment-load 1.0 ms, graph-sync 10.0 ms", query.Stages.ToString());
    }

    // An async stage: the collector flows into awaited calls.
    private static async Task StageAsync(QueryStage stage)
    {
        await Task.Yield();
        using (QueryStages.Time(stage))
        {
            await Task.Delay(1);
        }
    }
}
