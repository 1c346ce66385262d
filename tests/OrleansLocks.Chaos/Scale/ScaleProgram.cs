using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace OrleansLocks.Chaos.Scale;

/// <summary>The "scale" mode of the chaos program: starts the processes, runs <see cref="ScaleRun"/>, and removes everything.</summary>
internal static class ScaleProgram
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        ScaleOptions options;
        try
        {
            options = ScaleOptions.Parse(args);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            Console.Error.WriteLine(ex.Message);
            Console.Error.WriteLine(ScaleOptions.Usage);
            return 2;
        }

        // The chaos run's cluster with no chaos workers: PostgreSQL with fsync on, 3 Silo processes, and
        // Orleans' own failure detection (a kill is detected later, but a slow live silo is not killed too).
        var clusterOptions = new ChaosOptions
        {
            Silos = 3,
            Workers = 0,
            LeaseTimeout = options.LeaseTimeout,
            RenewalInterval = options.RenewalInterval,
            PollInterval = options.PollInterval,
            WaiterTimeout = options.WaiterTimeout,
            FastFailureDetection = false,
        };
        await using var cluster = await ChaosCluster.StartAsync(clusterOptions, new ConcurrentQueue<ChaosEvent>());
        var clients = new List<ScaleClientProcess>();

        // Ctrl+C or SIGTERM ends the run at once: the silos and clients go with it (PostgreSQL is
        // stopped by its own exit handler), so that nothing is left running.
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => KillAll(cluster, clients));
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => KillAll(cluster, clients));
        try
        {
            for (var i = 0; i < options.Clients; i++)
            {
                clients.Add(await ScaleClientProcess.StartAsync($"c{i + 1}", cluster.ConnectionString, options, cluster.LogDirectory));
            }

            var exit = await new ScaleRun(options, cluster, clients).RunAsync();
            Console.WriteLine($"Logs: {cluster.LogDirectory}");
            return exit;
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    private static void KillAll(ChaosCluster cluster, List<ScaleClientProcess> clients)
    {
        foreach (var id in cluster.Silos.OfType<OrleansLocks.Testing.SiloProcess>().Select(s => s.ProcessId).Concat(clients.Select(c => c.ProcessId)))
        {
            try
            {
                using var process = Process.GetProcessById(id);
                process.Kill(entireProcessTree: true);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
            {
                // Gone already.
            }
        }
    }
}
