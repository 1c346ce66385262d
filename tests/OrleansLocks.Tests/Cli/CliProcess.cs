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
        var running = Start(arguments, environment);
        return await running.WaitAsync();
    }

    /// <summary>Starts the tool and returns at once, for a run that a test interrupts (watch until Ctrl+C).</summary>
    public static RunningCli Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
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

        return new RunningCli(Process.Start(info) ?? throw new InvalidOperationException("Could not start the orleanslocks tool."), RunBound);
    }
}

/// <summary>A started run of the tool: its output so far, a first line to wait for, Ctrl+C, and its end.</summary>
public sealed class RunningCli
{
    private readonly Process _process;
    private readonly TimeSpan _bound;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();
    private readonly TaskCompletionSource _firstLine = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal RunningCli(Process process, TimeSpan bound)
    {
        _process = process;
        _bound = bound;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_output)
                {
                    _output.Append(e.Data).Append('\n');
                }

                _firstLine.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_error)
                {
                    _error.Append(e.Data).Append('\n');
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Waits (with a bound) until the tool printed its first line of output.</summary>
    public async Task FirstLineAsync()
    {
        var exited = _process.WaitForExitAsync();
        if (await Task.WhenAny(_firstLine.Task, exited, Task.Delay(_bound)) != _firstLine.Task)
        {
            throw new InvalidOperationException($"The tool printed nothing:\n{Result()}");
        }
    }

    /// <summary>Ctrl+C: SIGINT to the tool's process.</summary>
    public Task InterruptAsync() =>
        ProcessRunner.RunAsync("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10));

    public async Task<CliResult> WaitAsync()
    {
        using var cts = new CancellationTokenSource(_bound);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"orleanslocks did not exit within {_bound}:\n{Result()}");
        }

        _process.WaitForExit();
        var result = Result();
        _process.Dispose();
        return result;
    }

    private CliResult Result()
    {
        lock (_output)
        {
            lock (_error)
            {
                return new CliResult(_process.HasExited ? _process.ExitCode : -1, _output.ToString(), _error.ToString());
            }
        }
    }
}
