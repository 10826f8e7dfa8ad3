using System.CommandLine;
using ProductSimilarity.Cli.Commands;
using ProductSimilarity.Core.Configuration;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Core.Similarity;

namespace ProductSimilarity.Cli;

/// <summary>The psim command tree. Runs in-process for tests with any output writers.</summary>
internal static class PsimApp
{
    public static readonly Option<string?> IndexOption = new("--index")
    {
        Description = $"Local index folder. Default: ProductSimilarity:Index:Local:Path from psim.json or the environment, else '{LocalIndexOptions.DefaultPath}'.",
        Recursive = true,
        HelpName = "DIR",
    };

    public static readonly Option<string?> ConfigOption = new("--config")
    {
        Description = "JSON configuration file (default: ./psim.json when present).",
        Recursive = true,
        HelpName = "FILE",
    };

    public static readonly Option<bool> VerboseOption = new("--verbose", "-v")
    {
        Description = "Debug logging to stderr.",
        Recursive = true,
    };

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        var console = new CliConsole(stdout, stderr);
        var root = new RootCommand("psim: product similarity and recommendations. Ingest a catalog, then ask for similar products, search or recommendations.")
        {
            IndexOption,
            ConfigOption,
            VerboseOption,
            IngestCommand.Create(console),
            SimilarCommand.Create(console),
            SearchCommand.Create(console),
            RecommendCommand.Create(console),
            EvalCommand.Create(console),
            ExportCommand.Create(console),
            TrainCommand.Create(console),
            BenchCommand.Create(console),
            EmbeddingBench.CreateWorker(console),
            InfoCommand.Create(console),
            ModelCommand.Create(console),
            DemoCommand.Create(console),
            ServeCommand.Create(console),
        };

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await stderr.WriteLineAsync($"error: {error.Message}").ConfigureAwait(false);
            }

            await stderr.WriteLineAsync("Run 'psim --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The one error path of psim: whatever escapes a command ends here as one line on stderr (the stack only
            // with --verbose), so a user never sees a trace, whichever exception type a library throws.
            var (message, exitCode) = CliErrors.Describe(ex);
            await stderr.WriteLineAsync(message).ConfigureAwait(false);
            if (parse.GetValue(VerboseOption))
            {
                await stderr.WriteLineAsync(ex.ToString()).ConfigureAwait(false);
            }

            return exitCode;
        }
    }

    public static GlobalSettings Globals(ParseResult parse) =>
        new(parse.GetValue(IndexOption), parse.GetValue(ConfigOption), parse.GetValue(VerboseOption));

    /// <summary>Shared <c>--top</c>, <c>--json</c>, <c>--ranking</c> and filter options.</summary>
    public static Option<int> TopOption() => new("--top", "-k")
    {
        Description = "Number of results (1-100).",
        DefaultValueFactory = _ => 10,
        Validators = { r => { if (r.GetValueOrDefault<int>() is < 1 or > 100) { r.AddError("--top must be between 1 and 100."); } } },
    };

    public static Option<bool> ExplainOption() => new("--explain")
    {
        Description = "Explain each result: vector, keyword and fused score with ranks, the terms it shares with the query (product codes marked) and the matching brand, category and price band.",
    };

    public static Option<bool> JsonOption() => new("--json") { Description = "Print one JSON object instead of a table." };

    public static Option<OnnxQuantization?> QuantizationOption() => new("--quantization")
    {
        Description = "none or int8: run the local ONNX model as it is or quantised to int8 (faster on CPU). Default: ProductSimilarity:Embeddings:Onnx:Quantization (int8).",
    };

    /// <summary>Maps <c>--quantization</c>, when given, onto its configuration key.</summary>
    public static void AddQuantizationOverride(ParseResult parse, Option<OnnxQuantization?> option, IDictionary<string, string?> overrides)
    {
        if (parse.GetValue(option) is { } quantization)
        {
            overrides["ProductSimilarity:Embeddings:Onnx:Quantization"] = quantization.ToString();
        }
    }

    public static Option<OnnxInt8Scheme?> Int8SchemeOption() => new("--int8-scheme")
    {
        Description = "auto, s8, reducerange or u8u8: the int8 weight scheme. Default: ProductSimilarity:Embeddings:Onnx:Int8Scheme (auto: s8 with VNNI, else reducerange).",
    };

    /// <summary>Maps <c>--int8-scheme</c>, when given, onto its configuration key.</summary>
    public static void AddInt8SchemeOverride(ParseResult parse, Option<OnnxInt8Scheme?> option, IDictionary<string, string?> overrides)
    {
        if (parse.GetValue(option) is { } scheme)
        {
            overrides["ProductSimilarity:Embeddings:Onnx:Int8Scheme"] = scheme.ToString();
        }
    }

    public static Option<RankingMode?> RankingOption() => new("--ranking")
    {
        Description = "vector, keyword or hybrid. Default: ProductSimilarity:Ranking:Mode (hybrid).",
    };

    public sealed class FilterOptions
    {
        public Option<string?> Category { get; } = new("--category") { Description = "Only this category (exact, case-insensitive)." };
        public Option<string?> Brand { get; } = new("--brand") { Description = "Only this brand (exact, case-insensitive)." };
        public Option<decimal?> MinPrice { get; } = new("--min-price") { Description = "Lowest price (inclusive)." };
        public Option<decimal?> MaxPrice { get; } = new("--max-price") { Description = "Highest price (inclusive)." };
        public Option<bool?> InStock { get; } = new("--in-stock") { Description = "true: only products in stock; false: only out of stock." };

        public void AddTo(Command command)
        {
            command.Add(Category);
            command.Add(Brand);
            command.Add(MinPrice);
            command.Add(MaxPrice);
            command.Add(InStock);
        }

        public ProductFilter Read(ParseResult parse) => new()
        {
            Category = parse.GetValue(Category),
            Brand = parse.GetValue(Brand),
            MinPrice = parse.GetValue(MinPrice),
            MaxPrice = parse.GetValue(MaxPrice),
            InStock = parse.GetValue(InStock),
        };
    }
}
