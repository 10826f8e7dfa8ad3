using BenchmarkDotNet.Running;
using ProductSimilarity.Benchmarks;

// dotnet run -c Release --project benchmarks/ProductSimilarity.Benchmarks -- --filter '*CatalogReader*'
// dotnet run -c Release --project benchmarks/ProductSimilarity.Benchmarks -- memory xlsx|xlsx-exceldatareader|xml [rows]
if (args is ["memory", var kind, ..])
{
    return await CatalogMemory.RunAsync(kind, args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 100_000);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
