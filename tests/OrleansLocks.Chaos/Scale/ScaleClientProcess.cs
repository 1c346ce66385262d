using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace OrleansLocks.Chaos.Scale;

/// <summary>The controller's side of one <see cref="ScaleHolder"/> process: sends commands, gathers their answers and the waiters' events.</summary>
internal sealed class ScaleClientProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentDictionary<string, Pending> _pending = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _input = new();
    private int _commands;

    private ScaleClientProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    /// <summary>The operating system's id of the client process.</summary>
    public int ProcessId => _process.Id;

    /// <summary>The waiters' event lines ("g|r|d|x tag ..."), as they came.</summary>
    public ConcurrentQueue<string> Events { get; } = new();

    /// <summary>The process's resident memory now, in bytes.</summary>
    public long ResidentBytes => ScaleMemory.ResidentBytes(_process.Id);

    public static async Task<ScaleClientProcess> StartAsync(string name, string connectionString, ScaleOptions options, string logDir)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            typeof(ScaleClientProcess).Assembly.Location, "scale-client", "--name", name,
            "--lease-ms", options.LeaseTimeout.TotalMilliseconds.ToString(CultureInfo.InvariantCulture),
            "--renewal-ms", options.RenewalInterval.TotalMilliseconds.ToString(CultureInfo.InvariantCulture),
        })
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["CHAOS_CONNECTION"] = connectionString;
        var process = new Process { StartInfo = info };
        var client = new ScaleClientProcess(name, process);
        process.OutputDataReceived += (_, e) => client.OnLine(e.Data);
        ChildProcessLog.WriteErrorsTo(process, Path.Combine(logDir, $"{name}.log"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (await Task.WhenAny(client._ready.Task, Task.Delay(TimeSpan.FromSeconds(60))) != client._ready.Task)
        {
            await client.DisposeAsync();
            throw new TimeoutException($"Scale client {name} did not connect within 60 s; see {logDir}/{name}.log.");
        }

        return client;
    }

    /// <summary>Runs one command; returns its data lines (without the id) and its summary (the text after "done").</summary>
    public async Task<(List<string> Lines, string Summary)> RunAsync(string command, TimeSpan timeout)
    {
        var id = $"q{Interlocked.Increment(ref _commands)}";
        var pending = new Pending();
        _pending[id] = pending;
        Send($"{id} {command}");
        if (await Task.WhenAny(pending.Done.Task, Task.Delay(timeout)) != pending.Done.Task)
        {
            throw new TimeoutException($"Scale client {Name} did not finish '{command}' within {timeout}.");
        }

        _pending.TryRemove(id, out _);
        var summary = await pending.Done.Task;
        if (summary.StartsWith("failed ", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Scale client {Name} failed '{command}': {summary}");
        }

        return (pending.Lines.ToList(), summary);
    }

    /// <summary>Starts a waiter in the line of <paramref name="key"/>; its grant and release come as <see cref="Events"/>.</summary>
    public void StartWaiter(string key, string tag) => Send($"w wait {key} {tag}");

    public async ValueTask DisposeAsync()
    {
        try
        {
            Send("x quit");
        }
        catch (IOException)
        {
            // Gone already.
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private void Send(string line)
    {
        lock (_input)
        {
            _process.StandardInput.WriteLine(line);
            _process.StandardInput.Flush();
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (line == "ready")
        {
            _ready.TrySetResult();
            return;
        }

        if (line.StartsWith("ev ", StringComparison.Ordinal))
        {
            Events.Enqueue(line[3..]);
            return;
        }

        var space = line.IndexOf(' ', StringComparison.Ordinal);
        if (space < 0 || !_pending.TryGetValue(line[..space], out var pending))
        {
            return;
        }

        var rest = line[(space + 1)..];
        if (rest.StartsWith("done ", StringComparison.Ordinal))
        {
            pending.Done.TrySetResult(rest[5..]);
        }
        else
        {
            pending.Lines.Enqueue(rest);
        }
    }

    private sealed class Pending
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public TaskCompletionSource<string> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
