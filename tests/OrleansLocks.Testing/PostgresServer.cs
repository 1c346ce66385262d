using Npgsql;
using OrleansLocks.Grains.Storage;

namespace OrleansLocks.Testing;

/// <summary>
/// A throwaway PostgreSQL server for the tests: initdb + pg_ctl in a temp folder on a free loopback
/// port (as the <c>postgres</c> user when run as root, since initdb refuses root). Set
/// <c>ORLEANSLOCKS_TEST_POSTGRES</c> to a connection string to use an existing server instead.
/// When PostgreSQL cannot be started, the tests that need it FAIL with the reason; they never skip.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string ExternalServerVariable = "ORLEANSLOCKS_TEST_POSTGRES";

    // Shared by every test collection at once (xunit runs collections in parallel), each with its
    // silos' pools (lock writer, provider, clustering, reminders, health checks, admin listing) and
    // its processes: 300 connections ran out once the suite grew past 570 tests.
    private static readonly Lazy<Task<PostgresServer>> SharedServer = new(() => StartAsync(durable: false, maxConnections: 1000));
    private readonly string? _dataDir;
    private readonly string? _socketDir;
    private readonly string? _binDir;
    private readonly int _port;
    private readonly bool _durable;
    private readonly int _maxConnections;
    private string _listenAddress = "127.0.0.1";
    private IReadOnlyList<string>? _launcher;
    private int _databases;

    private PostgresServer(string connectionString, string? binDir, string? dataDir, string? socketDir, int port, bool durable, int maxConnections = 300)
    {
        _durable = durable;
        _maxConnections = maxConnections;
        ConnectionString = connectionString;
        _binDir = binDir;
        _dataDir = dataDir;
        _socketDir = socketDir;
        _port = port;
    }

    /// <summary>The server every fixture shares; each fixture makes its own database in it.</summary>
    public static Task<PostgresServer> SharedAsync() => SharedServer.Value;

    /// <summary>A connection string to the server's <c>postgres</c> database.</summary>
    public string ConnectionString { get; }

    /// <summary>The server's main process (its children are the connections' backends), when we started it.</summary>
    public int? PostmasterProcessId =>
        _dataDir is not null && File.Exists(Path.Combine(_dataDir, "postmaster.pid"))
            ? int.Parse(File.ReadLines(Path.Combine(_dataDir, "postmaster.pid")).First(), System.Globalization.CultureInfo.InvariantCulture)
            : null;

    /// <summary>Whether this process started the server (and so can stop and restart it).</summary>
    public bool IsOwned => _dataDir is not null;

    /// <summary>Starts a new server of our own, or wraps the external one unless <paramref name="own"/> is set.</summary>
    /// <param name="durable">Default durability (fsync on) when true; fsync off (faster, loses data on a power cut) when false.</param>
    /// <param name="own">Start a server of our own even when <c>ORLEANSLOCKS_TEST_POSTGRES</c> names one.</param>
    /// <param name="maxConnections">PostgreSQL's <c>max_connections</c>.</param>
    /// <param name="listenAddress">The address it listens on (loopback unless given, e.g. a network namespace's own).</param>
    /// <param name="launcher">A command to start it under (such as nsenter into a network namespace), if any.</param>
    public static async Task<PostgresServer> StartAsync(bool durable, bool own = false, int maxConnections = 300, string? listenAddress = null, IReadOnlyList<string>? launcher = null)
    {
        var external = Environment.GetEnvironmentVariable(ExternalServerVariable);
        if (!own && !string.IsNullOrWhiteSpace(external))
        {
            return new PostgresServer(external, null, null, null, 0, durable);
        }

        try
        {
            var binDir = FindBinDir();
            var root = Directory.CreateTempSubdirectory("orleanslocks-pg-").FullName;
            var dataDir = Path.Combine(root, "data");
            var asRoot = Environment.UserName == "root";
            if (asRoot)
            {
                await ProcessRunner.RunAsync("chown", ["-R", "postgres:postgres", root], TimeSpan.FromSeconds(10));
            }

            await RunPostgresToolAsync(asRoot, Path.Combine(binDir, "initdb"), ["-D", dataDir, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"], TimeSpan.FromSeconds(60));
            if (listenAddress is not null)
            {
                // initdb trusts loopback only; a server on a network namespace's address trusts its own subnet.
                await File.AppendAllTextAsync(Path.Combine(dataDir, "pg_hba.conf"), "host all all samenet trust\n");
            }

            var port = FreePort.Next();
            var server = new PostgresServer(
                $"Host={listenAddress ?? "127.0.0.1"};Port={port};Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=50;Timeout=5;Command Timeout=15",
                binDir,
                dataDir,
                root,
                port,
                durable,
                maxConnections)
            {
                _listenAddress = listenAddress ?? "127.0.0.1",
                _launcher = launcher,
            };
            await server.StartServerAsync();
            AppDomain.CurrentDomain.ProcessExit += (_, _) => server.StopQuietly();
            return server;
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException(
                $"PostgreSQL could not be started for the tests ({ex.Message}). Install the PostgreSQL 15 server binaries (initdb, pg_ctl), or set {ExternalServerVariable} to a connection string.",
                ex);
        }
    }

    /// <summary>Creates a fresh database, optionally with the OrleansLocks schema, and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string purpose, bool applySchema = true)
    {
        var name = $"t_{purpose.ToLowerInvariant()}_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid():N}";
        name = name[..Math.Min(name.Length, 60)];
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        var builder = new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name };
        var connectionString = builder.ConnectionString;
        if (applySchema)
        {
            await PostgresSchema.ApplyAsync(connectionString);
        }

        return connectionString;
    }

    /// <summary>Stops the server (fast shutdown), as an outage.</summary>
    public async Task StopAsync()
    {
        EnsureOwned();
        NpgsqlConnection.ClearAllPools();
        await RunPostgresToolAsync(Environment.UserName == "root", Path.Combine(_binDir!, "pg_ctl"), ["-D", _dataDir!, "-m", "fast", "-w", "stop"], TimeSpan.FromSeconds(60));
    }

    /// <summary>
    /// Crashes the server: SIGKILL to the postmaster and every process under it (its backends,
    /// WAL writer, checkpointer...) at once, as a power cut or an OOM kill would, with no shutdown
    /// checkpoint. The next <see cref="RestartAsync"/> then runs crash recovery from the WAL.
    /// Returns how many processes were killed.
    /// </summary>
    public async Task<int> CrashAsync()
    {
        EnsureOwned();
        var postmaster = PostmasterProcessId ?? throw new InvalidOperationException("The server is not running (no postmaster.pid).");

        // Freeze the postmaster first so that it cannot fork a replacement backend between the
        // listing of its children and the kill.
        await ProcessRunner.RunAsync("kill", ["-STOP", postmaster.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5));
        var victims = new List<int> { postmaster };
        victims.AddRange(DescendantsOf(postmaster));
        await ProcessRunner.RunAsync("kill", ["-KILL", .. victims.Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture))], TimeSpan.FromSeconds(5));
        NpgsqlConnection.ClearAllPools();

        // A new postmaster refuses to start while any old process still holds the shared memory, or
        // while the old postmaster's pid still exists (even as a zombie not yet reaped: postmaster.pid
        // names it, and signalling a zombie succeeds).
        var deadline = TimeProvider.System.GetTimestamp() + (TimeProvider.System.TimestampFrequency * 30);
        while (Directory.Exists($"/proc/{postmaster}") || victims.Any(IsAlive))
        {
            if (TimeProvider.System.GetTimestamp() > deadline)
            {
                throw new InvalidOperationException("PostgreSQL processes were still alive 30 s after SIGKILL.");
            }

            await Task.Delay(50);
        }

        return victims.Count;
    }

    /// <summary>Whether a process still runs: a zombie (killed, not yet reaped) holds no shared memory and counts as gone.</summary>
    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Every process below <paramref name="root"/> (children, their children...), read from /proc.</summary>
    private static List<int> DescendantsOf(int root)
    {
        var parentOf = new Dictionary<int, int>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                // /proc/<pid>/stat: "pid (comm) state ppid ...", comm may hold spaces, so read after the last ')'.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                parentOf[pid] = int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
        }

        var found = new List<int>();
        var frontier = new Queue<int>([root]);
        while (frontier.TryDequeue(out var parent))
        {
            foreach (var child in parentOf.Where(p => p.Value == parent).Select(p => p.Key))
            {
                found.Add(child);
                frontier.Enqueue(child);
            }
        }

        return found;
    }

    /// <summary>Starts the server again after <see cref="StopAsync"/> or <see cref="CrashAsync"/>.</summary>
    public Task RestartAsync()
    {
        EnsureOwned();
        return StartServerAsync();
    }

    public ValueTask DisposeAsync()
    {
        StopQuietly();
        return ValueTask.CompletedTask;
    }

    private async Task StartServerAsync()
    {
        var options = $"-p {_port} -k {_socketDir} -c listen_addresses={_listenAddress} -c max_connections={_maxConnections}" + (_durable ? "" : " -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        string[] start = ["-D", _dataDir!, "-l", Path.Combine(_socketDir!, "server.log"), "-o", options, "-w", "-t", "60", "start"];
        if (_launcher is { Count: > 0 })
        {
            // pg_ctl's postmaster keeps the launcher's namespace; stop and crash reach it by signal from anywhere.
            string[] asUser = Environment.UserName == "root" ? ["runuser", "-u", "postgres", "--"] : [];
            await ProcessRunner.RunAsync(_launcher[0], [.. _launcher.Skip(1), .. asUser, Path.Combine(_binDir!, "pg_ctl"), .. start], TimeSpan.FromSeconds(90));
            return;
        }

        await RunPostgresToolAsync(
            Environment.UserName == "root",
            Path.Combine(_binDir!, "pg_ctl"),
            start,
            TimeSpan.FromSeconds(90));
    }

    private void StopQuietly()
    {
        if (_dataDir is null || !Directory.Exists(_dataDir))
        {
            return;
        }

        try
        {
            var stop = System.Diagnostics.Process.Start(
                Environment.UserName == "root" ? "runuser" : Path.Combine(_binDir!, "pg_ctl"),
                Environment.UserName == "root"
                    ? ["-u", "postgres", "--", Path.Combine(_binDir!, "pg_ctl"), "-D", _dataDir, "-m", "immediate", "-w", "stop"]
                    : ["-D", _dataDir, "-m", "immediate", "-w", "stop"]);
            stop?.WaitForExit(30_000);
            Directory.Delete(_socketDir!, recursive: true);
        }
        catch (Exception)
        {
            // Best effort at exit: a leftover temp folder is harmless.
        }
    }

    private void EnsureOwned()
    {
        if (!IsOwned)
        {
            throw new InvalidOperationException($"This test stops and restarts PostgreSQL, so it needs its own server; it cannot use {ExternalServerVariable}.");
        }
    }

    private static Task RunPostgresToolAsync(bool asRoot, string tool, IReadOnlyList<string> arguments, TimeSpan timeout) =>
        asRoot
            ? ProcessRunner.RunAsync("runuser", ["-u", "postgres", "--", tool, .. arguments], timeout)
            : ProcessRunner.RunAsync(tool, arguments, timeout);

    private static string FindBinDir()
    {
        var candidates = new List<string>();
        if (Directory.Exists("/usr/lib/postgresql"))
        {
            candidates.AddRange(Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin")));
        }

        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator));
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")))
            ?? throw new FileNotFoundException("initdb and pg_ctl were not found under /usr/lib/postgresql/*/bin or on PATH.");
    }
}
