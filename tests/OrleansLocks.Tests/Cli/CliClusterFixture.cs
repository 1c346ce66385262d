using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using OrleansLocks.Client;

namespace OrleansLocks.Tests.Cli;

/// <summary>
/// A real Silo process on its own PostgreSQL database, and two real clients (owners "cli-a" and
/// "cli-b") that hold locks through <see cref="ILockProvider"/>, for the tool to look at and act on.
/// Leases renew every second, so a holder learns of a forced release within a second or two.
/// </summary>
public sealed class CliClusterFixture : IAsyncLifetime
{
    private static readonly TimeSpan RenewalInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LeaseTimeout = TimeSpan.FromSeconds(60);

    private SiloProcess? _silo;
    private IHost? _clientA;
    private IHost? _clientB;

    public string ClusterId { get; } = "cli-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The database's connection string (trust authentication: no password in it).</summary>
    public string Database { get; private set; } = "";

    /// <summary>The silo's gateway, as <c>--gateway</c> takes it.</summary>
    public string Gateway => $"127.0.0.1:{Silo.GatewayPort.ToString(CultureInfo.InvariantCulture)}";

    public SiloProcess Silo => _silo ?? throw new InvalidOperationException("Not started.");

    public ILockProvider OwnerA => _clientA!.Services.GetRequiredService<ILockProvider>();

    public ILockProvider OwnerB => _clientB!.Services.GetRequiredService<ILockProvider>();

    /// <summary>The arguments that reach this cluster through its gateway.</summary>
    public string[] Connect => ["--gateway", Gateway, "--cluster-id", ClusterId];

    public async Task InitializeAsync()
    {
        Database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("cli");
        _silo = await SiloProcess.StartAsync(new Dictionary<string, string>
        {
            ["ConnectionStrings__OrleansLocks"] = Database,
            ["Orleans__ClusterId"] = ClusterId,
            ["Orleans__AdvertisedIP"] = "127.0.0.1",
            ["Orleans__SiloPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            ["Orleans__GatewayPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            ["OrleansLocks__Lease__RenewalInterval"] = RenewalInterval.ToString("c", CultureInfo.InvariantCulture),
            ["OrleansLocks__Lease__LeaseTimeout"] = LeaseTimeout.ToString("c", CultureInfo.InvariantCulture),
            ["OrleansLocks__Admin__ForceReleaseMargin"] = "00:00:02",
        });
        _clientA = await StartClientAsync("cli-a");
        _clientB = await StartClientAsync("cli-b");
    }

    public async Task DisposeAsync()
    {
        foreach (var client in new[] { _clientA, _clientB })
        {
            if (client is not null)
            {
                await client.StopAsync();
                client.Dispose();
            }
        }

        if (_silo is not null)
        {
            await _silo.DisposeAsync();
        }
    }

    /// <summary>A held lock's token: the secret the tool must never show (read here only to check that).</summary>
    public static string TokenOf(LockHandle handle)
    {
        var keeper = (IHeldLease)typeof(LockHandle).GetField("_keeper", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(handle)!;
        return keeper.Lease.Token;
    }

    private async Task<IHost> StartClientAsync(string owner)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client => client
            .Configure<ClusterOptions>(o =>
            {
                o.ClusterId = ClusterId;
                o.ServiceId = "orleanslocks";
            })
            .UseStaticClustering(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, Silo.GatewayPort))
            .AddOrleansLocks(
                o => o.Owner = owner,
                lease =>
                {
                    lease.RenewalInterval = RenewalInterval;
                    lease.LeaseTimeout = LeaseTimeout;
                }));
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}
