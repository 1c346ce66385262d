using Npgsql;
using OrleansLocks.Chaos.Network;
using OrleansLocks.Testing;

namespace OrleansLocks.Chaos;

/// <summary>The parts of <see cref="ChaosCluster"/> that place its processes in a network lab.</summary>
internal sealed partial class ChaosCluster
{
    /// <summary>The run's network lab, or null when every process shares the loopback.</summary>
    public NetworkLab? Lab { get; private set; }

    /// <summary>If silo <paramref name="index"/> exits within <paramref name="wait"/> (or is down), starts it again; returns whether it did.</summary>
    public async Task<bool> RestartIfExitedAsync(int index, TimeSpan wait)
    {
        if (Silos[index] is { } silo)
        {
            if (!await silo.ExitsWithinAsync(wait))
            {
                return false;
            }

            Silos[index] = null;
            await silo.DisposeAsync();
            SaveLog(index, silo);
        }

        await StartSiloAsync(index);
        return true;
    }

    /// <summary>Whether the membership table has declared the running incarnation of silo <paramref name="index"/> dead (Orleans' status 6).</summary>
    public async Task<bool> DeclaredDeadAsync(int index)
    {
        await using var dataSource = NpgsqlDataSource.Create(ConnectionString);
        await using var command = dataSource.CreateCommand("SELECT Status FROM OrleansMembershipTable WHERE Address = $1 AND Port = $2 ORDER BY Generation DESC LIMIT 1");
        command.Parameters.Add(new NpgsqlParameter { Value = await SiloAddressAsync(index) });
        command.Parameters.Add(new NpgsqlParameter { Value = _ports[index].SiloPort });
        return await command.ExecuteScalarAsync() is int status && status == 6;
    }

    private static async Task<PostgresServer> StartPostgresAsync(ChaosOptions options, NetworkLab? lab)
    {
        if (lab is null)
        {
            return await PostgresServer.StartAsync(durable: options.Durable, own: true);
        }

        var address = await lab.AddNodeAsync(LabNames.Postgres);
        return await PostgresServer.StartAsync(durable: options.Durable, own: true, listenAddress: address.ToString(), launcher: lab.Launcher(LabNames.Postgres));
    }

    /// <summary>The address silo <paramref name="index"/> advertises: its namespace's, or loopback.</summary>
    private async Task<string> SiloAddressAsync(int index) =>
        Lab is null ? "127.0.0.1" : (await Lab.AddNodeAsync(LabNames.Silo(index))).ToString();

    private IReadOnlyList<string>? SiloLauncher(int index) => Lab?.Launcher(LabNames.Silo(index));

    /// <summary>The command that starts a worker's <c>dotnet</c>: inside its own namespace when there is a lab.</summary>
    private async Task<IReadOnlyList<string>> WorkerLauncherAsync(string name)
    {
        if (Lab is null)
        {
            return ["dotnet"];
        }

        await Lab.AddNodeAsync(LabNames.Worker(name));
        return [.. Lab.Launcher(LabNames.Worker(name)), "dotnet"];
    }
}
