using System.CommandLine;
using Microsoft.Extensions.Logging;
using OrleansLocks.Cli.Connection;

namespace OrleansLocks.Cli;

/// <summary>
/// What every command shares: the global options, where output goes, the clock, and the one place
/// where failures become exit codes and messages on standard error.
/// </summary>
internal sealed class CliContext(TextWriter output, TextWriter error, TimeProvider time, bool outputIsTerminal)
{
    public GlobalOptions Globals { get; } = new();

    /// <summary>Results: tables or JSON.</summary>
    public TextWriter Output { get; } = output;

    /// <summary>The clock for relative times and refreshes.</summary>
    public TimeProvider Time { get; } = time;

    /// <summary>Whether a person watches the output (then <c>watch</c> redraws the screen).</summary>
    public bool OutputIsTerminal { get; } = outputIsTerminal;

    /// <summary>
    /// Runs one command: <paramref name="body"/> checks its arguments, then connects (through the
    /// function it is given) and works. Every failure is mapped to its exit code here.
    /// </summary>
    public async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken, Func<CommandRun, Task<int>> body)
    {
        try
        {
            return await body(new CommandRun(this, parse, cancellationToken));
        }
        catch (UsageException ex)
        {
            return Fail(ExitCodes.Usage, ex.Message);
        }
        catch (ArgumentException ex)
        {
            // The rule the argument breaks, as the lock library or the admin grain words it.
            return Fail(ExitCodes.Usage, ex.Message);
        }
        catch (ClusterUnreachableException ex)
        {
            return Fail(ExitCodes.Unreachable, ex.Message);
        }
        catch (LockStorageException ex)
        {
            return Fail(ExitCodes.StorageFailure, $"The silo could not use the locks' storage: {Display.OneLine(ex.Message)}.");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Fail(ExitCodes.Interrupted, "Interrupted.");
        }
        catch (Exception ex) when (ex is SiloUnavailableException or Orleans.Runtime.Messaging.ConnectionFailedException or OrleansMessageRejectionException or TimeoutException)
        {
            return Fail(ExitCodes.Unreachable, $"Lost the cluster during the call: {Display.OneLine(ex.Message)}.");
        }
        catch (Exception ex)
        {
            return Fail(ExitCodes.Unexpected, $"Failed: {ex.GetType().Name}: {Display.OneLine(ex.Message)}.");
        }
    }

    private int Fail(int exitCode, string message)
    {
        error.WriteLine($"orleanslocks: {message}");
        error.Flush();
        return exitCode;
    }
}

/// <summary>One command's run: its parsed options, the connection when it asks for one, and Ctrl+C.</summary>
internal sealed class CommandRun(CliContext context, ParseResult parse, CancellationToken cancellationToken)
{
    public ParseResult Parse { get; } = parse;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    public bool Json => Parse.GetValue(context.Globals.Json);

    public TextWriter Output => context.Output;

    public TimeProvider Time => context.Time;

    public bool OutputIsTerminal => context.OutputIsTerminal;

    /// <summary>Connects to the cluster named by the global options (after the command checked its own arguments).</summary>
    public Task<ClusterConnection> ConnectAsync() =>
        ClusterConnection.ConnectAsync(
            context.Globals.Target(Parse),
            Parse.GetValue(context.Globals.Verbose) ? LogLevel.Information : null,
            CancellationToken);
}
