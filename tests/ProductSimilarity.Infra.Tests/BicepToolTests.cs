namespace ProductSimilarity.Infra.Tests;

/// <summary>The Bicep CLI compiles and lints the templates without a single error or warning.</summary>
[Collection(InfraCollection.Name)]
public sealed class BicepToolTests(InfraFixture fixture)
{
    [Fact]
    public void Build_MainBicep_CompilesWithoutDiagnostics()
    {
        Assert.True(fixture.Build.ExitCode == 0, fixture.Build.ToString());
        Assert.True(fixture.Build.Diagnostics.Count == 0, fixture.Build.ToString());
        Assert.Contains("\"$schema\"", fixture.CompiledTemplate, StringComparison.Ordinal);
    }

    [Fact]
    public void Lint_AllBicepFiles_ReportsNothing()
    {
        Assert.True(fixture.Lint.ExitCode == 0, fixture.Lint.ToString());
        Assert.True(fixture.Lint.Diagnostics.Count == 0, fixture.Lint.ToString());
    }

    [Fact]
    public void BuildParams_MainBicepparam_CompilesWithDefaults()
    {
        Assert.True(fixture.BuildParams.ExitCode == 0, fixture.BuildParams.ToString());
        Assert.True(fixture.BuildParams.Diagnostics.Count == 0, fixture.BuildParams.ToString());
        var parameters = fixture.Parameters?["parameters"];
        Assert.NotNull(parameters);
        Assert.Equal("psim", (string?)parameters["environmentName"]?["value"]);
        Assert.False((bool?)parameters["enableAzureOpenAI"]?["value"]);
        Assert.Equal("basic", (string?)parameters["searchSku"]?["value"]);
    }

    [Fact]
    public void Snapshot_AllParameterSets_EvaluateWithoutDiagnostics()
    {
        Assert.True(fixture.DefaultSnapshotRun.ExitCode == 0, fixture.DefaultSnapshotRun.ToString());
        Assert.True(fixture.FullSnapshotRun.ExitCode == 0, fixture.FullSnapshotRun.ToString());
        Assert.True(fixture.ProdSnapshotRun.ExitCode == 0, fixture.ProdSnapshotRun.ToString());
        Assert.Empty(fixture.DefaultSnapshotRun.Diagnostics);
        Assert.Empty(fixture.FullSnapshotRun.Diagnostics);
        Assert.Empty(fixture.ProdSnapshotRun.Diagnostics);
        Assert.Empty(fixture.DefaultSnapshot.Diagnostics);
        Assert.Empty(fixture.FullSnapshot.Diagnostics);
        Assert.Empty(fixture.ProdSnapshot.Diagnostics);
    }

    [Fact]
    public void Templates_NoRegistryModules_RestoreOffline()
    {
        var files = Directory.EnumerateFiles(Path.Combine(InfraWorkspace.RepoRoot, "infra"), "*.bicep*", SearchOption.AllDirectories);
        foreach (var file in files)
        {
            var text = File.ReadAllText(file);
            Assert.DoesNotContain("'br:", text, StringComparison.Ordinal);
            Assert.DoesNotContain("'br/", text, StringComparison.Ordinal);
            Assert.DoesNotContain("'ts:", text, StringComparison.Ordinal);
        }
    }
}
