using System.Reflection;

namespace ProductSimilarity.Functions.Tests.Infrastructure;

/// <summary>Folders the build recorded in the test assembly (see the .csproj).</summary>
internal static class TestPaths
{
    /// <summary>The Functions app's build output (bin folder).</summary>
    public static string FunctionsOutputDirectory => Metadata("FunctionsOutputDirectory");

    /// <summary>The repository root (holds package.json and node_modules).</summary>
    public static string RepositoryRoot => Metadata("RepositoryRoot");

    /// <summary>A file under TestData, copied beside the test assembly.</summary>
    public static string TestData(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", name);

    private static string Metadata(string key)
    {
        var value = typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == key)?.Value;
        return string.IsNullOrEmpty(value)
            ? throw new InvalidOperationException($"The test assembly has no '{key}' metadata; build it with its .csproj.")
            : value;
    }
}
