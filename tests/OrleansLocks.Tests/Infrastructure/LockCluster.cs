using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Storage;
using Orleans.TestingHost;
using OrleansLocks.Client;
using OrleansLocks.Grains;

namespace OrleansLocks.Tests.Infrastructure;

/// <summary>Which storage a test cluster keeps its locks in.</summary>
public enum LockStorageKind
{
    Memory,
    Postgres,
}

/// <summary>
/// A real Orleans test cluster (in-process silos) hosting the lock grains, with one fake clock that
/// drives the silos' grains and the clients' handles. Orleans' own background work stays on real time.
/// </summary>
public sealed class LockCluster : IAsyncDisposable
{
    public static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly List<IHost> _clients = [];

    private LockCluster(InProcessTestCluster cluster, FakeTimeProvider clock, string? connectionString, LockStorageKind storage)
    {
        Cluster = cluster;
        Clock = clock;
        ConnectionString = connectionString;
        Storage = storage;
    }

    public InProcessTestCluster Cluster { get; }

    /// <summary>The one clock of this cluster: silos, grain timers and the default client's handles.</summary>
    public FakeTimeProvider Clock { get; }

    /// <summary>The database of this cluster, or null for in-memory storage.</summary>
    public string? ConnectionString { get; }

    public LockStorageKind Storage { get; }

    public IGrainFactory Grains => Cluster.Client;

    public ILockProvider Locks => Cluster.Client.ServiceProvider.GetRequiredService<ILockProvider>();

    public static async Task<LockCluster> StartAsync(LockStorageKind storage, short silos = 2, string? connectionString = null, string? serviceId = null, Action<LockLeaseOptions>? lease = null)
    {
        if (storage == LockStorageKind.Postgres && connectionString is null)
        {
            var server = await PostgresServer.SharedAsync();
            connectionString = await server.CreateDatabaseAsync("cluster");
        }

        var clock = new FakeTimeProvider(Epoch);
        var builder = new InProcessTestClusterBuilder(silos);
        builder.Options.ConfigureFileLogging = false;
        if (serviceId is not null)
        {
            builder.Options.ServiceId = serviceId;
        }

        builder.ConfigureSiloHost((_, host) =>
        {
            UseClock(host.Services, clock);
            host.Services.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10));
        });
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddOrleansLocks(s => s.ConnectionString = connectionString, lease);
            if (connectionString is not null)
            {
                silo.UseAdoNetReminderService(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = connectionString;
                });
            }
        });
        builder.ConfigureClient(client =>
        {
            client.AddOrleansLocks(configureLease: lease);
            UseClock(client.Services, clock);
            client.Services.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10));
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new LockCluster(cluster, clock, connectionString, storage);
    }

    /// <summary>
    /// A separate client process stand-in: its own host, its own clock (the test decides whether it
    /// moves), connected to this cluster's gateways.
    /// </summary>
    public async Task<TestClient> StartClientAsync(TimeProvider? clock = null, string? owner = null)
    {
        var gateways = Cluster.Silos.Select(s => s.GatewayAddress.Endpoint).ToArray();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = Cluster.Options.ClusterId;
                o.ServiceId = Cluster.Options.ServiceId;
            });
            client.UseStaticClustering(gateways);
            client.AddOrleansLocks(o =>
            {
                if (owner is not null)
                {
                    o.Owner = owner;
                }
            });
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10));
        });
        UseClock(builder.Services, clock ?? Clock);
        var host = builder.Build();
        await host.StartAsync();
        _clients.Add(host);
        return new TestClient(host);
    }

    /// <summary>Advances the clock in steps, letting each step's timers and their grain calls settle.</summary>
    public async Task AdvanceAsync(TimeSpan total, TimeSpan step, Func<Task>? afterEachStep = null)
    {
        for (var moved = TimeSpan.Zero; moved < total; moved += step)
        {
            Clock.Advance(step);
            if (afterEachStep is not null)
            {
                await afterEachStep();
            }
        }
    }

    /// <summary>Which silo currently hosts the activation of <paramref name="grain"/>, if any.</summary>
    public InProcessSiloHandle? HostOf(IAddressable grain) =>
        Cluster.TryGetGrainContext(grain.GetGrainId(), out var context)
            ? Cluster.Silos.FirstOrDefault(s => s.SiloAddress.Equals(context.Address.SiloAddress))
            : null;

    /// <summary>The lock's state as its storage provider holds it now (read through a silo's provider, not the grain).</summary>
    public async Task<LockState> StoredStateAsync(LockId id)
    {
        var storage = Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>("OrleansLocks");
        var grainId = GrainId.Create("orleanslocks.lock", id.ToGrainKey());
        var state = new GrainState<LockState>(new LockState());
        await storage.ReadStateAsync("orleanslocks.lock", grainId, state);
        return state.State ?? new LockState();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            try
            {
                await client.StopAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception)
            {
                // Already stopped by the test.
            }

            client.Dispose();
        }

        await Cluster.DisposeAsync();
    }

    private static void UseClock(IServiceCollection services, TimeProvider clock)
    {
        services.RemoveAll<TimeProvider>();
        services.AddSingleton(clock);
        services.UseTimeProviderForBackgroundAreas(TimeProvider.System);
    }
}

/// <summary>A client host of the tests, with its <see cref="ILockProvider"/>.</summary>
public sealed class TestClient(IHost host)
{
    public IHost Host { get; } = host;

    public ILockProvider Locks => Host.Services.GetRequiredService<ILockProvider>();

    public IGrainFactory Grains => Host.Services.GetRequiredService<IClusterClient>();

    public Task StopAsync() => Host.StopAsync(TimeSpan.FromSeconds(10));
}
