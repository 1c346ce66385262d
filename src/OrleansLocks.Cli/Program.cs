using OrleansLocks.Cli;

return await CliApplication.RunAsync(args, Console.Out, Console.Error, TimeProvider.System, outputIsTerminal: !Console.IsOutputRedirected);
