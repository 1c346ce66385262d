using System.Collections.Concurrent;

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

        // The chaos run's cluster with no chaos workers: PostgreSQL with fsync on, 3 Silo processes.
        var clusterOptions = new ChaosOptions { Silos = 3, Workers = 0, LeaseTimeout = options.LeaseTimeout, RenewalInterval = options.RenewalInterval };
        await using var cluster = await ChaosCluster.StartAsync(clusterOptions, new ConcurrentQueue<ChaosEvent>());
        var clients = new List<ScaleClientProcess>();
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
}
