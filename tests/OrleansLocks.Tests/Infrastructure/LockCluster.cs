using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
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

    /// <summary>PostgreSQL through the default writer (group commit).</summary>
    Postgres,

    /// <summary>PostgreSQL through the Orleans ADO.NET grain storage provider, the reference store.</summary>
    PostgresAdoNetProvider,
}

/// <summary>
/// A real Orleans test cluster (in-process silos) hosting the lock grains, with one fake clock that
/// drives the silos' grains and the clients' handles. Orleans' own background work stays on real time.
/// </summary>
public sealed class LockCluster : IAsyncDisposable
{
    public static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private LockCluster(InProcessTestCluster cluster, FakeTimeProvider siloClock, FakeTimeProvider clientClock, FakeLogCollector clientLogs, string? connectionString, LockStorageKind storage)
    {
        ClientLogs = clientLogs;
        Cluster = cluster;
        SiloClock = siloClock;
        ClientClock = clientClock;
        ConnectionString = connectionString;
        Storage = storage;
    }

    public InProcessTestCluster Cluster { get; }

    /// <summary>The silos' clock: leases and grain timers. Tests move it with <see cref="Advance"/>.</summary>
    public FakeTimeProvider SiloClock { get; }

    /// <summary>
    /// The client's clock: its handles' renewal and deadline timers. It moves with the silos' clock
    /// (<see cref="Advance"/>) unless a test holds it still to play a stuck client process.
    /// </summary>
    public FakeTimeProvider ClientClock { get; }

    /// <summary>The database of this cluster, or null for in-memory storage.</summary>
    public string? ConnectionString { get; }

    public LockStorageKind Storage { get; }

    /// <summary>The calls that reached lock grains on this cluster's silos.</summary>
    public required GrainCallRecorder GrainCalls { get; init; }

    /// <summary>Holds chosen calls of the cluster's client before they are sent.</summary>
    public required ClientCallGate ClientCalls { get; init; }

    /// <summary>What the cluster's client logged (every client it started), for asserting on log records.</summary>
    public FakeLogCollector ClientLogs { get; }

    public IGrainFactory Grains => Cluster.Client;

    public ILockProvider Locks => Cluster.Client.ServiceProvider.GetRequiredService<ILockProvider>();

    /// <summary>
    /// The lock provider of code co-hosted in silo <paramref name="silo"/> (a client of the cluster
    /// through that silo; its handles renew on the silos' clock). Needs <c>coHostedProvider</c>.
    /// </summary>
    public ILockProvider SiloLocks(int silo) => Cluster.Silos[silo].ServiceProvider.GetRequiredService<ILockProvider>();

    public static async Task<LockCluster> StartAsync(LockStorageKind storage, short silos = 2, string? connectionString = null, string? serviceId = null, Action<LockLeaseOptions>? lease = null, bool coHostedProvider = false, Action<LockWaitOptions>? wait = null, Action<LockStorageOptions>? storageOptions = null, bool tracing = false)
    {
        if (storage == LockStorageKind.PostgresAdoNetProvider)
        {
            var given = storageOptions;
            storageOptions = o =>
            {
                o.Writer = PostgresLockWriter.AdoNetProvider;
                given?.Invoke(o);
            };
        }

        if (storage != LockStorageKind.Memory && connectionString is null)
        {
            var server = await PostgresServer.SharedAsync();
            connectionString = await server.CreateDatabaseAsync("cluster");
        }

        var siloClock = new FakeTimeProvider(Epoch);
        var clientClock = new FakeTimeProvider(Epoch);
        var clientLogs = new FakeLogCollector();
        var calls = new GrainCallRecorder();
        var clientCalls = new ClientCallGate();
        var builder = new InProcessTestClusterBuilder(silos);
        builder.Options.ConfigureFileLogging = false;
        if (serviceId is not null)
        {
            builder.Options.ServiceId = serviceId;
        }

        builder.ConfigureSiloHost((_, host) =>
        {
            UseClock(host.Services, siloClock);
            host.Services.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10));
        });
        builder.ConfigureSilo((_, silo) =>
        {
            var locks = silo.AddOrleansLocks(storageOptions, lease, wait);
            if (connectionString is null)
            {
                locks.UseInMemory();
            }
            else
            {
                locks.UsePostgres(connectionString);
            }

            silo.AddIncomingGrainCallFilter(calls);
            if (tracing)
            {
                silo.AddActivityPropagation();
            }

            if (coHostedProvider)
            {
                silo.Services.AddOrleansLocksClient(o => o.Owner = "co-hosted", lease);
            }

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
            client.AddOutgoingGrainCallFilter(clientCalls);
            if (tracing)
            {
                client.AddActivityPropagation();
            }

            UseClock(client.Services, clientClock);
            client.Services.AddLogging(logging => logging.AddProvider(new FakeLoggerProvider(clientLogs)).AddFilter("OrleansLocks", LogLevel.Trace));
            client.Services.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10));
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new LockCluster(cluster, siloClock, clientClock, clientLogs, connectionString, storage) { GrainCalls = calls, ClientCalls = clientCalls };
    }

    /// <summary>
    /// Stops the cluster's client host (which releases the locks it holds, as any host stopping does)
    /// and starts a new one in its place.
    /// </summary>
    public async Task RestartClientAsync()
    {
        await Cluster.StopClusterClientAsync();
        await Cluster.InitializeClientAsync();
    }

    /// <summary>Advances the silos' and the client's clocks together.</summary>
    public void Advance(TimeSpan by)
    {
        SiloClock.Advance(by);
        ClientClock.Advance(by);
    }

    /// <summary>Which silo currently hosts the activation of <paramref name="grain"/>, if any.</summary>
    public InProcessSiloHandle? HostOf(IAddressable grain) =>
        Cluster.TryGetGrainContext(grain.GetGrainId(), out var context)
            ? Cluster.Silos.FirstOrDefault(s => s.SiloAddress.Equals(context.Address.SiloAddress))
            : null;

    /// <summary>The lock's state as its storage provider holds it now (read through a silo's provider, not the grain).</summary>
    internal async Task<LockState> StoredStateAsync(LockId id)
    {
        var storage = Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>("OrleansLocks");
        var grainId = GrainId.Create("orleanslocks.lock", id.ToGrainKey());
        var state = new GrainState<LockState>(new LockState());
        await storage.ReadStateAsync("orleanslocks.lock", grainId, state);
        return state.State ?? new LockState();
    }

    public async ValueTask DisposeAsync() => await Cluster.DisposeAsync();

    private static void UseClock(IServiceCollection services, TimeProvider clock)
    {
        services.RemoveAll<TimeProvider>();
        services.AddSingleton(clock);
        services.UseTimeProviderForBackgroundAreas(TimeProvider.System);
    }
}
