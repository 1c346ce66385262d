using System.Diagnostics;
using System.Text;

namespace OrleansLocks.Testing;

/// <summary>The real Silo host (Silo/), started as its own process with environment variables only.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SiloProcess(Process process)
    {
        _process = process;
    }

    public int GatewayPort { get; private init; }

    /// <summary>
    /// Where the silo's HTTP endpoints (health, metrics) listen: a free loopback port of its own unless
    /// the environment named one (ASPNETCORE_URLS), so that several silos never compete for the default.
    /// </summary>
    public Uri HttpAddress { get; private init; } = null!;

    /// <summary>The operating system's id of the silo process (to read its CPU time and memory).</summary>
    public int ProcessId => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <param name="environment">The silo's settings.</param>
    /// <param name="launcher">A command to run <c>dotnet</c> under (such as nsenter into a network namespace), if any.</param>
    public static async Task<SiloProcess> StartAsync(IReadOnlyDictionary<string, string> environment, IReadOnlyList<string>? launcher = null)
    {
        var info = new ProcessStartInfo(launcher is { Count: > 0 } ? launcher[0] : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // Not the build output: the host must find its appsettings*.json wherever it is started from.
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var argument in launcher is { Count: > 0 } ? [.. launcher.Skip(1), "dotnet"] : Array.Empty<string>())
        {
            info.ArgumentList.Add(argument);
        }

        info.ArgumentList.Add(SiloAssemblyPath());
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["Logging__Console__FormatterName"] = "simple";
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePort.Next()}";
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var silo = new SiloProcess(process)
        {
            GatewayPort = int.Parse(environment["Orleans__GatewayPort"], System.Globalization.CultureInfo.InvariantCulture),
            HttpAddress = new Uri(info.Environment["ASPNETCORE_URLS"]!.Split(';')[0]),
        };
        process.OutputDataReceived += (_, e) => silo.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => silo.OnLine(e.Data);
        process.Exited += (_, _) =>
        {
            process.WaitForExit(); // drains the redirected output before it is quoted
            silo._started.TrySetException(new InvalidOperationException($"The silo exited with {process.ExitCode} before it started:\n{silo.Output}"));
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var timeout = Task.Delay(TimeSpan.FromSeconds(60));
        if (await Task.WhenAny(silo._started.Task, timeout) == timeout)
        {
            await silo.DisposeAsync();
            throw new TimeoutException($"The silo did not start within 60 s:\n{silo.Output}");
        }

        await silo._started.Task;
        return silo;
    }

    /// <summary>Ctrl+C: SIGINT, then wait for a clean exit.</summary>
    public Task<int> InterruptAsync() => StopBySignalAsync("-INT");

    /// <summary>
    /// A service manager's stop (systemd, Kubernetes): SIGTERM, then wait for a clean exit. Unlike SIGINT it
    /// works whatever started the test: a program started in the background of a non-interactive shell
    /// (<c>cmd &amp;</c>) passes SIGINT as ignored to every process it starts, silos included.
    /// </summary>
    public Task<int> TerminateAsync() => StopBySignalAsync("-TERM");

    private async Task<int> StopBySignalAsync(string signal)
    {
        await ProcessRunner.RunAsync("kill", [signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGSTOP: the process freezes (a long GC pause, a stalled VM) without closing its sockets.</summary>
    public Task PauseAsync() => SignalAsync("-STOP");

    /// <summary>SIGCONT: the frozen process runs on, unaware of what happened meanwhile.</summary>
    public Task ResumeAsync() => SignalAsync("-CONT");

    /// <summary>Whether the process exited by itself within <paramref name="timeout"/>.</summary>
    public async Task<bool> ExitsWithinAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private Task SignalAsync(string signal) =>
        ProcessRunner.RunAsync("kill", [signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5));

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (line.Contains("Application started", StringComparison.Ordinal))
        {
            _started.TrySetResult();
        }
    }

    private static string SiloAssemblyPath() => BuiltProgram.PathOf("Silo", "OrleansLocks.Silo.dll");
}
