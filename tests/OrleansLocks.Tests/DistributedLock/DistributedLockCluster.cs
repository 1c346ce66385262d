using System.Runtime.CompilerServices;
using Medallion.Threading;
using OrleansLocks.DistributedLock;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.DistributedLock;

/// <summary>
/// A two-silo cluster whose locks live in PostgreSQL, with a short lease (5 s, renewed every second)
/// so the cases that wait for an abandoned or lost handle take few clock steps. The clocks are fake:
/// the tests move them.
/// </summary>
public sealed class DistributedLockClusterFixture : IAsyncLifetime
{
    /// <summary>The lease: a dropped handle's lock is free this long after its last renewal.</summary>
    public static readonly TimeSpan LeaseTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How often a holder renews.</summary>
    public static readonly TimeSpan RenewalInterval = TimeSpan.FromSeconds(1);

    private LockCluster? _cluster;

    public LockCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster has not started.");

    public async Task InitializeAsync() => _cluster = await LockCluster.StartAsync(
        LockStorageKind.Postgres,
        lease: o =>
        {
            o.LeaseTimeout = LeaseTimeout;
            o.RenewalInterval = RenewalInterval;
        },
        coHostedProvider: true,
        wait: o =>
        {
            o.WaiterTimeout = ClusterFixture.WaiterTimeout;

            // Shorter than the lease: a grant reaches a waiter within a lease of its last "not yet",
            // which is where the waiter's local deadline for the new lease starts counting.
            o.PollInterval = TimeSpan.FromSeconds(2);
        });

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class DistributedLockClusterCollection : ICollectionFixture<DistributedLockClusterFixture>
{
    public const string Name = "DistributedLock adapter, postgres cluster with a short lease";
}

/// <summary>
/// What the adapter's cluster suites share: two "processes" (the cluster's client, and code co-hosted
/// in silo 0 with its own owner), each seen through the DistributedLock adapter, and clock helpers.
/// </summary>
public abstract class DistributedLockClusterTests(DistributedLockClusterFixture fixture)
{
    /// <summary>Real time allowed for an answer to arrive; nothing in the lock waits on it.</summary>
    protected static readonly TimeSpan Arrival = TimeSpan.FromSeconds(15);

    protected static readonly TimeSpan T = DistributedLockClusterFixture.LeaseTimeout;

    protected static readonly TimeSpan R = DistributedLockClusterFixture.RenewalInterval;

    protected LockCluster Cluster { get; } = fixture.Cluster;

    /// <summary>This process: the cluster's client, through the adapter.</summary>
    protected OrleansLocksDistributedLockProvider Provider => new(Cluster.Locks);

    /// <summary>Another process (owner "co-hosted", renewing on the silos' clock), through the adapter.</summary>
    protected OrleansLocksDistributedLockProvider OtherProcess => new(Cluster.SiloLocks(0));

    protected static string NewName() => $"dl-{Guid.NewGuid():N}";

    protected Task WaitUntilQueuedAsync(OrleansLocksDistributedLock @lock, int waiting) =>
        Eventually.TrueAsync(
            async () => ((await Cluster.Grains.GetGrain<ILockGrain>(@lock.Id.ToGrainKey()).GetInfo())?.Waiting ?? 0) == waiting,
            $"{waiting} waiting in line for {@lock.Name}");

    protected Task WaitUntilWritersQueuedAsync(OrleansLocksDistributedReaderWriterLock @lock, int waiting) =>
        Eventually.TrueAsync(
            async () => (await Cluster.Grains.GetGrain<IReadWriteLockGrain>(@lock.Id.ToGrainKey()).GetInfo()).WaitingWriters == waiting,
            $"{waiting} writers waiting in line for {@lock.Name}");

    /// <summary>Acquires <paramref name="lock"/> into a holder, so the test's own frame never holds the handle.</summary>
    protected static async Task<HandleHolder> HoldAsync(IDistributedLock @lock) =>
        new() { Handle = await @lock.AcquireAsync() };

    /// <summary>
    /// Moves the silos' clock in renewal steps, waiting after each for the renewal of every handle in
    /// <paramref name="renewing"/> (held by code co-hosted in a silo) to land, as a live holder's would.
    /// </summary>
    protected async Task StepSiloAsync(TimeSpan by, params IDistributedSynchronizationHandle[] renewing)
    {
        for (var moved = TimeSpan.Zero; moved < by; moved += R)
        {
            var before = renewing.Select(h => ((OrleansLocksDistributedLockHandle)h).LockHandle.ExpiresAt).ToArray();
            Cluster.SiloClock.Advance(R);
            await Eventually.TrueAsync(
                () => renewing.Select((h, i) => ((OrleansLocksDistributedLockHandle)h).LockHandle.ExpiresAt > before[i]).All(renewed => renewed),
                "the co-hosted holders renewed");
        }
    }

    /// <summary>Moves one clock in renewal steps, so each renewal timer fires in its turn (for clocks no live holder renews on).</summary>
    protected static void Step(Microsoft.Extensions.Time.Testing.FakeTimeProvider clock, TimeSpan by)
    {
        for (var moved = TimeSpan.Zero; moved < by; moved += R)
        {
            clock.Advance(R);
        }
    }

    /// <summary>
    /// Keeps a handle reachable until the test drops it; the test reads it only through these
    /// non-inlined members, so no frame of the (debug-built) async test method keeps it alive.
    /// </summary>
    protected sealed class HandleHolder
    {
        public IDistributedSynchronizationHandle? Handle { get; set; }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public long FencingToken() => Handle!.GetFencingToken();

        [MethodImpl(MethodImplOptions.NoInlining)]
        public DateTimeOffset ExpiresAt() => ((OrleansLocksDistributedLockHandle)Handle!).LockHandle.ExpiresAt;

        [MethodImpl(MethodImplOptions.NoInlining)]
        public void DropAndCollect()
        {
            Handle = null;
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
        }
    }
}
