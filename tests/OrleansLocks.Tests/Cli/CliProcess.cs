using System.Diagnostics;
using System.Text;

namespace OrleansLocks.Tests.Cli;

/// <summary>What one run of the built <c>orleanslocks</c> tool printed, and how it exited.</summary>
public sealed record CliResult(int ExitCode, string Output, string Error)
{
    /// <summary>Everything it printed, for checks that nothing secret was shown anywhere.</summary>
    public string All => Output + Error;

    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Output}--- stderr ---\n{Error}";
}

/// <summary>Runs the built tool (src/OrleansLocks.Cli) as users do: <c>dotnet OrleansLocks.Cli.dll ...</c>.</summary>
public static class CliProcess
{
    // A bound for a hung tool, far above any normal run; not an assertion on how fast it is.
    private static readonly TimeSpan RunBound = TimeSpan.FromSeconds(120);

    public static async Task<CliResult> RunAsync(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        info.ArgumentList.Add(BuiltProgram.PathOf(Path.Combine("src", "OrleansLocks.Cli"), "OrleansLocks.Cli.dll"));
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // Only what a test gives: an ambient connection string must not steer the tool.
        info.Environment.Remove("ORLEANSLOCKS_CONNECTION_STRING");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the orleanslocks tool.");
        var output = new StringBuilder();
        var error = new StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.Append(e.Data).Append('\n');
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (error)
                {
                    error.Append(e.Data).Append('\n');
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(RunBound);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"orleanslocks {string.Join(' ', arguments)} did not exit within {RunBound}:\n{output}\n{error}");
        }

        process.WaitForExit();
        return new CliResult(process.ExitCode, output.ToString(), error.ToString());
    }
}
