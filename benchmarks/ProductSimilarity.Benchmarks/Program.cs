using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/ProductSimilarity.Benchmarks -- --filter '*CatalogReader*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
