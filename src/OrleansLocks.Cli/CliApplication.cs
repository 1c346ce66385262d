using System.CommandLine;
using OrleansLocks.Cli.Commands;

namespace OrleansLocks.Cli;

/// <summary>The <c>orleanslocks</c> command line: its commands, options and help.</summary>
internal static class CliApplication
{
    public const string Description = """
        orleanslocks: see who holds which OrleansLocks lock, and force a stuck one free.
        Connects to the cluster as an Orleans client: --gateway host:port, or --connection-string
        (or ORLEANSLOCKS_CONNECTION_STRING) for the silos' PostgreSQL membership table. Never shows a
        lock's token: nothing it reads carries one.
        """;

    /// <summary>Parses <paramref name="args"/> and runs the command; returns the exit code (<see cref="ExitCodes"/>).</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, TimeProvider time, bool outputIsTerminal, CancellationToken cancellationToken = default)
    {
        var context = new CliContext(output, error, time, outputIsTerminal);
        var root = new RootCommand(Description + Environment.NewLine + ExitCodes.Help.TrimEnd());
        context.Globals.AddTo(root);
        root.Add(ListCommand.Create(context));
        root.Add(InspectCommand.Create(context));
        root.Add(ReleaseCommands.CreateRelease(context));
        root.Add(ReleaseCommands.CreateReleaseOwner(context));
        root.Add(WatchCommand.Create(context));
        var parse = root.Parse(args);

        // Usage errors go to standard error with the tool's prefix, and without the whole help text
        // on standard output (which scripts read).
        if (parse.Errors.Count > 0)
        {
            foreach (var problem in parse.Errors)
            {
                error.WriteLine($"orleanslocks: {problem.Message}");
            }

            error.WriteLine($"See: orleanslocks {(parse.CommandResult.Command == root ? "" : parse.CommandResult.Command.Name + " ")}--help");
            error.Flush();
            return Task.FromResult(ExitCodes.Usage);
        }

        var configuration = new InvocationConfiguration
        {
            Output = output,
            Error = error,
        };
        return parse.InvokeAsync(configuration, cancellationToken);
    }
}
