using ProductSimilarity.Cli;

// psim: the command line of ProductSimilarity. Each command lives in Commands/; the shared wiring in CliHost.
return await PsimApp.RunAsync(args, Console.Out, Console.Error).ConfigureAwait(false);
