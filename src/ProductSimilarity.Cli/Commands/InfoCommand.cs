using System.CommandLine;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Embeddings.Onnx;
using ProductSimilarity.Search.Local;

namespace ProductSimilarity.Cli.Commands;

/// <summary>
/// <c>psim info</c>: the embedding model, its int8 scheme and the CPU features behind it, the adapter, the index (path,
/// size, documents, and its HNSW graph: in use for the current commit or not and why, nodes, tombstones, M and ef, bytes
/// in memory and on disk), and every configuration value with where it came from. Loads no model; it loads the saved
/// HNSW graph once to measure it.
/// </summary>
internal static class InfoCommand
{
    public static Command Create(CliConsole console)
    {
        var json = PsimApp.JsonOption();
        var command = new Command("info", "Show the model, int8 scheme and CPU features, index path, size, documents and HNSW graph state, and where each configuration value came from.") { json };
        command.SetAction(async (parse, ct) =>
        {
            await using var services = CliHost.Build(PsimApp.Globals(parse));
            var options = services.GetRequiredService<IOptions<ProductSimilarityOptions>>().Value;
            var configuration = (IConfigurationRoot)services.GetRequiredService<IConfiguration>();
            var onnx = options.Embeddings.Onnx;
            var cpu = CpuInt8Features.Current;

            Dictionary<string, object?> model;
            if (options.Embeddings.Provider == EmbeddingProvider.Onnx)
            {
                // Create checks options and files only; the model stays unloaded, so info is instant.
                using var generator = OnnxBertEmbeddingGenerator.Create(onnx);
                model = new()
                {
                    ["provider"] = "Onnx",
                    ["id"] = generator.ModelId,
                    ["source"] = generator.ModelName,
                    ["pooling"] = generator.Pooling.ToString(),
                    ["query_prefix"] = generator.QueryPrefix,
                    ["passage_prefix"] = generator.PassagePrefix,
                    ["quantization"] = onnx.Quantization.ToString(),
                    ["int8_scheme"] = generator.Int8Scheme?.Scheme.ToString(),
                    ["int8_scheme_reason"] = (generator.Int8Scheme ?? Int8SchemeSelector.Choose(onnx.Int8Scheme, cpu)).Reason,
                };
            }
            else
            {
                model = new()
                {
                    ["provider"] = "AzureOpenAI",
                    ["deployment"] = options.Embeddings.AzureOpenAI.Deployment,
                    ["dimensions"] = options.Embeddings.AzureOpenAI.Dimensions,
                };
            }

            var index = new Dictionary<string, object?> { ["provider"] = options.Index.Provider.ToString() };
            if (options.Index.Provider == IndexProvider.Local)
            {
                var path = Path.GetFullPath(options.Index.Local.Path);
                index["path"] = path;
                if (Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any())
                {
                    index["size_bytes"] = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
                    await using var reader = LocalProductIndex.Open(path, readOnly: true, BenchCommand.LocalOptions(options, null, options.Index.Local.Hnsw.ExpansionSearch));
                    index["documents"] = await reader.CountAsync(ct).ConfigureAwait(false);
                    index["dimensions"] = reader.Dimensions;
                    if (reader.DescribeVectorGraph() is { } graph)
                    {
                        index["hnsw"] = new Dictionary<string, object?>
                        {
                            ["status"] = graph.Status,
                            ["in_use"] = graph.InUse,
                            ["min_products"] = graph.MinProducts,
                            ["commit_generation"] = graph.CommitGeneration,
                            ["graph_generation"] = graph.GraphGeneration,
                            ["nodes"] = graph.Nodes,
                            ["tombstones"] = graph.Tombstones,
                            ["connectivity_m"] = graph.Connectivity,
                            ["expansion_add"] = graph.ExpansionAdd,
                            ["expansion_search"] = graph.ExpansionSearch,
                            ["memory_bytes"] = graph.MemoryBytes,
                            ["disk_bytes"] = graph.DiskBytes,
                        };
                    }
                }
                else
                {
                    index["documents"] = 0;
                    index["note"] = "no index yet; run psim ingest or psim demo";
                }
            }
            else
            {
                index["endpoint"] = options.Index.AzureAISearch.Endpoint?.ToString();
                index["name"] = options.Index.AzureAISearch.IndexName;
            }

            var settings = Flatten(ProductSimilarityOptions.SectionName, options)
                .Select(s => new Dictionary<string, object?> { ["key"] = s.Key, ["value"] = s.Value, ["source"] = SourceOf(configuration, s.Key) })
                .ToList();
            var result = new Dictionary<string, object?>
            {
                ["cpu"] = EmbeddingBench.CpuModel(),
                ["cpu_features"] = cpu.Describe(),
                ["vnni"] = cpu.HasVnni,
                ["model"] = model,
                ["adapter"] = "none",
                ["index"] = index,
                ["configuration"] = settings,
            };

            if (parse.GetValue(json))
            {
                console.WriteJson(result);
                return ExitCodes.Ok;
            }

            console.Out.WriteLine($"cpu:            {result["cpu"]}; {cpu.Describe()}");
            foreach (var (key, value) in model)
            {
                if (value is not null)
                {
                    console.Out.WriteLine($"model.{key + ":",-20} {value}");
                }
            }

            console.Out.WriteLine($"adapter:        none");
            foreach (var (key, value) in index)
            {
                if (value is Dictionary<string, object?> inner)
                {
                    foreach (var (innerKey, innerValue) in inner)
                    {
                        console.Out.WriteLine($"index.{key}.{innerKey + ":",-20} {innerValue ?? "-"}");
                    }
                }
                else
                {
                    console.Out.WriteLine($"index.{key + ":",-20} {value}");
                }
            }

            console.Out.WriteLine("configuration (value, source):");
            foreach (var setting in settings)
            {
                console.Out.WriteLine($"  {setting["key"]} = {setting["value"] ?? "(empty)"}  [{setting["source"]}]");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Every leaf option as <c>ProductSimilarity:Embeddings:Onnx:BatchSize</c> = value.</summary>
    private static IEnumerable<KeyValuePair<string, string?>> Flatten(string prefix, object options)
    {
        foreach (var property in options.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (!property.CanWrite || property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            var key = $"{prefix}:{property.Name}";
            var value = property.GetValue(options);
            if (value is not null && property.PropertyType.IsClass && property.PropertyType != typeof(string) && property.PropertyType != typeof(Uri))
            {
                foreach (var inner in Flatten(key, value))
                {
                    yield return inner;
                }
            }
            else
            {
                // Secrets are reported as set or not, never printed.
                yield return new(key, property.Name.Contains("Key", StringComparison.Ordinal) && value is string { Length: > 0 } ? "(set)" : value?.ToString());
            }
        }
    }

    /// <summary>The last configuration source that sets <paramref name="key"/> (later sources win), or "default".</summary>
    private static string SourceOf(IConfigurationRoot configuration, string key)
    {
        foreach (var provider in configuration.Providers.Reverse())
        {
            if (provider.TryGet(key, out _))
            {
                return provider switch
                {
                    JsonConfigurationProvider j => $"file {j.Source.FileProvider?.GetFileInfo(j.Source.Path ?? string.Empty).PhysicalPath ?? j.Source.Path}",
                    EnvironmentVariablesConfigurationProvider => $"environment {key.Replace(":", "__", StringComparison.Ordinal)}",
                    _ => "command line",
                };
            }
        }

        return "default";
    }
}
