using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;
using Orleans.Hosting;
using OrleansLocks.Client;
using OrleansLocks.Testing;

namespace OrleansLocks.Chaos;

/// <summary>
/// The real processes of a chaos run: one PostgreSQL server, the Silo host (unchanged) as several
/// processes clustered through ADO.NET clustering on loopback ports, worker client processes, and an
/// in-process client of the controller for probes and final checks.
/// </summary>
internal sealed partial class ChaosCluster : IAsyncDisposable
{
    private readonly ChaosOptions _options;
    private readonly ConcurrentQueue<ChaosEvent> _events;
    private readonly string _logDir;
    private readonly List<(int SiloPort, int GatewayPort)> _ports = [];
    private readonly Dictionary<string, Process> _workers = [];
    private int _workerCount;
    private IHost? _client;

    private ChaosCluster(ChaosOptions options, PostgresServer postgres, string connectionString, string guardedConnectionString, ConcurrentQueue<ChaosEvent> events)
    {
        _options = options;
        Postgres = postgres;
        ConnectionString = connectionString;
        GuardedConnectionString = guardedConnectionString;
        _events = events;
        _logDir = Directory.CreateTempSubdirectory("orleanslocks-chaos-").FullName;
        Clocks = Clock.SiloClocks.Create();
    }

    /// <summary>Each silo's wall clock (libfaketime), shifted by the clock-skew fault.</summary>
    public Clock.SiloClocks Clocks { get; }

    public PostgresServer Postgres { get; }

    public string ConnectionString { get; }

    /// <summary>The database of the resource the workers guard with fenced writes (see <see cref="GuardedResource"/>).</summary>
    public string GuardedConnectionString { get; }

    public string LogDirectory => _logDir;

    /// <summary>Running silos by index; a null entry is a silo that is down.</summary>
    public List<SiloProcess?> Silos { get; } = [];

    public IReadOnlyCollection<string> LiveWorkers => _workers.Keys;

    public ILockProvider Locks => _client!.Services.GetRequiredService<ILockProvider>();

    /// <summary>The controller's Orleans client, for management and admin grains.</summary>
    public IClusterClient Client => _client!.Services.GetRequiredService<IClusterClient>();

    public static async Task<ChaosCluster> StartAsync(ChaosOptions options, ConcurrentQueue<ChaosEvent> events, Network.NetworkLab? lab = null)
    {
        var postgres = await StartPostgresAsync(options, lab);
        var database = await postgres.CreateDatabaseAsync("chaos");
        var guarded = await postgres.CreateDatabaseAsync("guarded", applySchema: false);
        await GuardedResource.InstallAsync(guarded);
        var cluster = new ChaosCluster(options, postgres, database, guarded, events) { Lab = lab };
        for (var i = 0; i < options.Silos; i++)
        {
            cluster._ports.Add((FreePort.Next(), FreePort.Next()));
            cluster.Silos.Add(null);
        }

        try
        {
            // Start the silos one by one: the first creates the cluster's membership rows.
            for (var i = 0; i < options.Silos; i++)
            {
                await cluster.StartSiloAsync(i);
            }

            cluster._client = await cluster.StartControllerClientAsync();
            for (var i = 0; i < options.Workers; i++)
            {
                await cluster.StartWorkerAsync();
            }
        }
        catch
        {
            // A start that failed (a silo too slow on a loaded machine) leaves nothing running behind.
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }

    public async Task StartSiloAsync(int index)
    {
        var (siloPort, gatewayPort) = _ports[index];
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__OrleansLocks"] = ConnectionString,
            ["Orleans__ClusterId"] = "chaos",
            ["Orleans__ServiceId"] = "chaos",
            ["Orleans__SiloPort"] = siloPort.ToString(CultureInfo.InvariantCulture),
            ["Orleans__GatewayPort"] = gatewayPort.ToString(CultureInfo.InvariantCulture),
            ["Orleans__AdvertisedIP"] = await SiloAddressAsync(index),
            ["OrleansLocks__Lease__LeaseTimeout"] = _options.LeaseTimeout.ToString("c", CultureInfo.InvariantCulture),
            ["OrleansLocks__Lease__RenewalInterval"] = _options.RenewalInterval.ToString("c", CultureInfo.InvariantCulture),
            ["OrleansLocks__Wait__WaiterTimeout"] = _options.WaiterTimeout.ToString("c", CultureInfo.InvariantCulture),
            ["OrleansLocks__Wait__PollInterval"] = _options.PollInterval.ToString("c", CultureInfo.InvariantCulture),
            ["OrleansLocks__Storage__SweepInterval"] = "00:01:00",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ",
            ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
        };
        if (_options.FastFailureDetection)
        {
            // Declare a killed silo dead in seconds rather than the default tens of seconds.
            environment["Orleans__Membership__ProbeTimeout"] = "00:00:01";
            environment["Orleans__Membership__NumMissedProbesLimit"] = "2";
        }

        foreach (var (name, value) in Clocks.EnvironmentFor(index))
        {
            environment[name] = value;
        }

        Silos[index] = await SiloProcess.StartAsync(environment, SiloLauncher(index));
    }

    public async Task KillSiloAsync(int index)
    {
        var silo = Silos[index] ?? throw new InvalidOperationException($"Silo {index} is not running.");
        Silos[index] = null;
        await silo.DisposeAsync();
        SaveLog(index, silo);
    }

    /// <summary>Which silo (by index) listens on <paramref name="siloPort"/>, for reading logs.</summary>
    public int? SiloIndexOfPort(int siloPort) => _ports.FindIndex(p => p.SiloPort == siloPort) is var i and >= 0 ? i : null;

    public async Task StopSiloAsync(int index)
    {
        var silo = Silos[index] ?? throw new InvalidOperationException($"Silo {index} is not running.");
        Silos[index] = null;
        try
        {
            // SIGTERM, not SIGINT: a chaos program started in the background (`cmd &`) passes SIGINT on as
            // ignored, and the silo would never stop.
            await silo.TerminateAsync();
        }
        finally
        {
            // Kept also when the stop hangs: that log is the one that says why.
            await silo.DisposeAsync();
            SaveLog(index, silo);
        }
    }

    private void SaveLog(int index, SiloProcess silo) =>
        File.AppendAllText(Path.Combine(_logDir, $"silo{index}-port{_ports[index].SiloPort}.log"), silo.Output + "\n----- (process ended) -----\n");

    /// <summary>
    /// Freezes a silo past its failure detection, then lets it run on: the cluster has declared it dead
    /// and moved its activations, while its own stale activations may still answer its gateway's
    /// clients until it learns it is dead. Returns whether it then stopped by itself.
    /// </summary>
    public async Task<bool> PauseSiloAsync(int index, TimeSpan pause)
    {
        var silo = Silos[index] ?? throw new InvalidOperationException($"Silo {index} is not running.");
        await silo.PauseAsync();
        await Task.Delay(pause);
        await silo.ResumeAsync();
        var exited = await silo.ExitsWithinAsync(TimeSpan.FromSeconds(30));
        Silos[index] = null;
        await silo.DisposeAsync();
        SaveLog(index, silo);
        return exited;
    }

    public async Task<string> StartWorkerAsync()
    {
        var name = $"w{++_workerCount}";
        var launcher = await WorkerLauncherAsync(name);
        var info = new ProcessStartInfo(launcher[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in launcher.Skip(1).Concat(
        [
            typeof(ChaosCluster).Assembly.Location, "worker", "--name", name,
            "--seed", _options.Seed.ToString(CultureInfo.InvariantCulture),
            "--locks", _options.Locks.ToString(CultureInfo.InvariantCulture),
            "--actors", _options.ActorsPerWorker.ToString(CultureInfo.InvariantCulture),
            "--lease-ms", _options.LeaseTimeout.TotalMilliseconds.ToString(CultureInfo.InvariantCulture),
            "--renewal-ms", _options.RenewalInterval.TotalMilliseconds.ToString(CultureInfo.InvariantCulture),
        ]))
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["CHAOS_CONNECTION"] = ConnectionString;
        info.Environment["CHAOS_GUARDED"] = GuardedConnectionString;
        var process = new Process { StartInfo = info };
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (ChaosEvent.TryParse(e.Data) is { } ev)
            {
                _events.Enqueue(ev);
                if (ev.Kind == "ready")
                {
                    ready.TrySetResult();
                }
            }
        };
        ChildProcessLog.WriteErrorsTo(process, Path.Combine(_logDir, $"{name}.log"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _workers[name] = process;
        if (await Task.WhenAny(ready.Task, Task.Delay(TimeSpan.FromSeconds(60))) != ready.Task)
        {
            throw new TimeoutException($"Worker {name} did not connect within 60 s; see {_logDir}/{name}.log.");
        }

        return name;
    }

    /// <summary>kill -9 of a worker process (a client dying with its locks held).</summary>
    public void KillWorker(string name)
    {
        var process = _workers[name];
        _workers.Remove(name);
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }

    /// <summary>SIGSTOP of a worker process: it keeps its connections and its handles, and does nothing until <see cref="ResumeWorkerAsync"/>.</summary>
    public Task PauseWorkerAsync(string name) => SignalWorkerAsync(name, "-STOP");

    /// <summary>SIGCONT of a worker paused by <see cref="PauseWorkerAsync"/>.</summary>
    public Task ResumeWorkerAsync(string name) => SignalWorkerAsync(name, "-CONT");

    private Task SignalWorkerAsync(string name, string signal) =>
        ProcessRunner.RunAsync("kill", [signal, _workers[name].Id.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5));

    /// <summary>The plain locks' rows as PostgreSQL has them now (through the schema's <c>orleans_locks</c> view).</summary>
    public async Task<List<RecoveredLock>> ReadLockRowsAsync()
    {
        await using var dataSource = NpgsqlDataSource.Create(ConnectionString);
        await using var command = dataSource.CreateCommand(
            "SELECT lock_key, token_fingerprint IS NOT NULL, fencing_token, expires_ts FROM orleans_locks WHERE lock_name = 'chaos' AND lock_type = 'plain' AND has_state");
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<RecoveredLock>();
        while (await reader.ReadAsync())
        {
            rows.Add(new RecoveredLock(reader.GetString(0), reader.GetBoolean(1), reader.IsDBNull(2) ? 0 : reader.GetInt64(2), reader.IsDBNull(3) ? null : reader.GetInt64(3)));
        }

        return rows;
    }

    /// <summary>Stops every worker as a service manager would (SIGTERM: it releases what it holds) and waits for it to exit.</summary>
    public async Task<List<string>> StopWorkersAsync()
    {
        var stuck = new List<string>();
        foreach (var (name, process) in _workers)
        {
            await ProcessRunner.RunAsync("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5));
        }

        foreach (var (name, process) in _workers)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(45));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
                process.WaitForExit();
            }
            catch (OperationCanceledException)
            {
                stuck.Add(name);
                process.Kill(entireProcessTree: true);
            }
        }

        _workers.Clear();
        return stuck;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _workers.Values)
        {
            process.Kill(entireProcessTree: true);
        }

        if (_client is not null)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _client.StopAsync(timeout.Token);
            }
            catch (Exception)
            {
                // The run is over; a client that cannot stop cleanly changes no result.
            }

            _client.Dispose();
        }

        for (var i = 0; i < Silos.Count; i++)
        {
            if (Silos[i] is { } silo)
            {
                await silo.DisposeAsync();
                SaveLog(i, silo);
            }
        }

        await Postgres.DisposeAsync();
        Clocks.Dispose();
    }

    private async Task<IHost> StartControllerClientAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client => ChaosClient.Configure(client, ConnectionString, "probe", _options.LeaseTimeout, _options.RenewalInterval));
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}
