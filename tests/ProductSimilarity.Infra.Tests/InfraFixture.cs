namespace ProductSimilarity.Infra.Tests;

/// <summary>
/// Compiles the templates once per test run: build, lint, build-params and three snapshots (the default
/// parameters, which embed with ONNX; a variant with Azure OpenAI, private networking, a deploying
/// developer and the Event Grid subscription's key set; and main.prod.bicepparam). The CLI runs overlap
/// to save time.
/// </summary>
/// <remarks>Read-only after <see cref="InitializeAsync"/>; thread-safe for reads.</remarks>
public sealed class InfraFixture : IAsyncLifetime
{
    /// <summary>A placeholder for the blobs_extension key; only a test parameter file holds it.</summary>
    internal const string TestExtensionKey = "test-only-placeholder";

    private readonly InfraWorkspace _workspace = InfraWorkspace.Create();

    internal BicepResult Build { get; private set; } = null!;

    internal string CompiledTemplate { get; private set; } = "";

    internal BicepResult Lint { get; private set; } = null!;

    internal BicepResult BuildParams { get; private set; } = null!;

    internal System.Text.Json.Nodes.JsonNode? Parameters { get; private set; }

    internal BicepResult DefaultSnapshotRun { get; private set; } = null!;

    /// <summary>main.bicepparam as it is: ONNX embeddings, no event subscription yet.</summary>
    internal ArmSnapshot DefaultSnapshot { get; private set; } = null!;

    internal BicepResult FullSnapshotRun { get; private set; } = null!;

    /// <summary>
    /// main.bicepparam as azd evaluates it with PSIM_ENABLE_AZURE_OPENAI=true, PSIM_VNET_ENABLED=true,
    /// PSIM_ALERT_EMAIL and AZURE_PRINCIPAL_ID set, plus a blobs_extension key.
    /// </summary>
    internal ArmSnapshot FullSnapshot { get; private set; } = null!;

    internal BicepResult ProdSnapshotRun { get; private set; } = null!;

    /// <summary>main.prod.bicepparam, the documented production profile.</summary>
    internal ArmSnapshot ProdSnapshot { get; private set; } = null!;

    /// <summary>The deploying developer's object id in <see cref="FullSnapshot"/>.</summary>
    internal const string DeveloperPrincipalId = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

    /// <summary>The environment of <see cref="FullSnapshot"/>.</summary>
    internal static IReadOnlyDictionary<string, string> FullEnvironment { get; } = new Dictionary<string, string>
    {
        ["PSIM_ENABLE_AZURE_OPENAI"] = "true",
        ["PSIM_VNET_ENABLED"] = "true",
        ["PSIM_ALERT_EMAIL"] = "ops@example.com",
        ["AZURE_PRINCIPAL_ID"] = DeveloperPrincipalId,
    };

    /// <inheritdoc/>
    public async Task InitializeAsync()
    {
        var fullParameters = _workspace.WriteParameters("full.bicepparam", $"param blobsExtensionKey = '{TestExtensionKey}'");
        var build = _workspace.BuildAsync();
        var lint = _workspace.LintAsync();
        var buildParams = _workspace.BuildParamsAsync("main.bicepparam");
        var defaultSnapshot = _workspace.SnapshotAsync("main.bicepparam");
        var fullSnapshot = _workspace.SnapshotAsync(fullParameters, FullEnvironment);
        var prodSnapshot = _workspace.SnapshotAsync("main.prod.bicepparam", new Dictionary<string, string> { ["PSIM_ALERT_EMAIL"] = "oncall@example.com" });

        (Build, CompiledTemplate) = await build;
        Lint = await lint;
        (BuildParams, Parameters) = await buildParams;
        (DefaultSnapshotRun, var defaults) = await defaultSnapshot;
        (FullSnapshotRun, var full) = await fullSnapshot;
        (ProdSnapshotRun, var prod) = await prodSnapshot;
        DefaultSnapshot = defaults ?? throw new InvalidOperationException(DefaultSnapshotRun.ToString());
        FullSnapshot = full ?? throw new InvalidOperationException(FullSnapshotRun.ToString());
        ProdSnapshot = prod ?? throw new InvalidOperationException(ProdSnapshotRun.ToString());
    }

    /// <inheritdoc/>
    public Task DisposeAsync()
    {
        _workspace.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>Shares one <see cref="InfraFixture"/> across the template test classes.</summary>
[CollectionDefinition(Name)]
public sealed class InfraCollection : ICollectionFixture<InfraFixture>
{
    /// <summary>The collection name.</summary>
    public const string Name = "infra";
}
