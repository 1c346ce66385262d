using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using OrleansLocks.Client;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Client;

/// <summary>
/// Synapse's own worker-lock tests (tests/storage/databases/main/test_lock.py), scenarios L1 to L6 of
/// docs/synapse-scenarios.md, through the client library against a two-silo cluster.
/// T = lease timeout (2 min), R = renewal interval (30 s).
/// </summary>
public abstract class SynapseLockScenarioTests(LockCluster cluster) : ClusterScenarioTests(cluster)
{
    [Fact]
    public async Task L1_ThreeConcurrentTries_AtMostOneHoldsTheLock()
    {
        var key = NewKey();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inLock = 0;
        var maxInLock = 0;
        var acquired = 0;
        var answered = 0;

        async Task Task1()
        {
            await using var handle = await Locks.TryAcquireAsync("name", key);
            Interlocked.Increment(ref answered);
            if (handle is null)
            {
                return;
            }

            Interlocked.Increment(ref acquired);
            var now = Interlocked.Increment(ref inLock);
            InterlockedMax(ref maxInLock, now);
            await gate.Task;
            Interlocked.Decrement(ref inLock);
        }

        var tasks = Enumerable.Range(0, 3).Select(_ => Task.Run(Task1)).ToArray();
        await Eventually.TrueAsync(() => Volatile.Read(ref answered) == 3, "all three tries were answered");
        gate.SetResult();
        await Task.WhenAll(tasks);

        Assert.Equal(1, maxInLock);
        Assert.Equal(1, acquired);
    }

    [Fact]
    public async Task L2_Simple_SecondTryIsRefusedUntilRelease()
    {
        var key = NewKey();
        var a = await Locks.TryAcquireAsync("name", key);
        Assert.NotNull(a);

        Assert.Null(await Locks.TryAcquireAsync("name", key));
        Assert.True(await a.IsStillValidAsync());
        await a.ReleaseAsync();

        await using var again = await Locks.TryAcquireAsync("name", key);
        Assert.NotNull(again);
    }

    [Fact]
    public async Task L3_Maintain_RenewalKeepsTheLockForFiveTimeouts()
    {
        var key = NewKey();
        await using var a = await Locks.TryAcquireAsync("name", key);
        Assert.NotNull(a);

        for (var moved = TimeSpan.Zero; moved < 5 * T; moved += R)
        {
            var before = a.ExpiresAt;
            Cluster.Advance(R);
            await Eventually.TrueAsync(() => a.ExpiresAt > before, "the handle renewed");
        }

        Assert.Null(await Locks.TryAcquireAsync("name", key));
        Assert.True(await a.IsStillValidAsync());
        Assert.False(a.HandleLostToken.IsCancellationRequested);
    }

    [Fact]
    public async Task L4_Timeout_AStuckHolderLosesTheLockAfterTheLease()
    {
        var key = NewKey();
        var a = await Locks.TryAcquireAsync("name", key);
        Assert.NotNull(a);
        var stolenBy = await GrainInfoAsync(key);

        // A stuck process: the client's clock (and so A's renewal timer) stands still while the silos' moves.
        for (var moved = TimeSpan.Zero; moved < 2 * T; moved += R)
        {
            Cluster.SiloClock.Advance(R);
        }

        var b = await Cluster.Grains.GetGrain<ILockGrain>(LockId.Create("name", key).ToGrainKey()).TryAcquire("another-worker");
        Assert.NotNull(b);
        Assert.True(b.FencingToken > stolenBy!.FencingToken);
        Assert.False(await a.IsStillValidAsync());

        // When the stuck process wakes, its next renewal (well before its own deadline) learns the lease is gone.
        Cluster.ClientClock.Advance(R);
        await Eventually.TrueAsync(() => a.HandleLostToken.IsCancellationRequested, "A's HandleLostToken was cancelled");
        Cluster.ClientClock.Advance(2 * T - R);
        await a.DisposeAsync();
        Assert.Equal("another-worker", (await GrainInfoAsync(key))!.Owner);
    }

    [Fact]
    public async Task L5_Drop_AHandleDroppedWithoutReleaseStopsRenewingAndExpires()
    {
        var key = NewKey();
        var lastRenewed = await AcquireAndDropAsync(key);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        // Step by step, so that a renewal (if the dropped handle still sent one) would land: the grain
        // answers in order, so GetInfo after a step sees any renewal sent during that step.
        for (var moved = TimeSpan.Zero; moved < 2 * T; moved += R)
        {
            Cluster.Advance(R);
            var info = await GrainInfoAsync(key);
            Assert.True(info is null || info.LastRenewedAt == lastRenewed, $"the dropped handle renewed at {info?.LastRenewedAt:O}");
        }

        await using var b = await Locks.TryAcquireAsync("name", key);
        Assert.NotNull(b);
        Assert.Contains(
            Cluster.ClientLogs.GetSnapshot(),
            r => r.Level == LogLevel.Error && r.Id.Id == 2005 && r.Message.Contains(b.Id.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task L5_Drop_TheDroppedHandlesLostTokenIsCancelled()
    {
        var lost = await AcquireAndKeepOnlyTheLostTokenAsync(NewKey());

        // Work still running under the dropped handle must learn that nobody renews its lock. Collect
        // on every look: on a loaded machine one collection does not always reach the dropped handle.
        await Eventually.TrueAsync(
            () =>
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                return lost.IsCancellationRequested;
            },
            "the dropped handle's HandleLostToken was cancelled");
    }

    [Fact]
    public async Task L6_Shutdown_StoppingTheClientHostReleasesEveryLockItHolds()
    {
        var key1 = NewKey();
        var key2 = NewKey();
        var held1 = await Locks.TryAcquireAsync("name", key1);
        var held2 = await Locks.TryAcquireAsync("name", key2);
        Assert.NotNull(held1);
        Assert.NotNull(held2);

        // Stop the client host holding both; a second client takes its place.
        await Cluster.RestartClientAsync();

        // Work still running under those handles is told, since another process may now take them.
        Assert.True(held1.HandleLostToken.IsCancellationRequested);
        Assert.True(held2.HandleLostToken.IsCancellationRequested);

        // No clock advance: the locks were released at shutdown, not left to expire.
        await using var again1 = await Locks.TryAcquireAsync("name", key1);
        await using var again2 = await Locks.TryAcquireAsync("name", key2);
        Assert.NotNull(again1);
        Assert.NotNull(again2);
    }

    private Task<LockInfo?> GrainInfoAsync(string key) =>
        Cluster.Grains.GetGrain<ILockGrain>(LockId.Create("name", key).ToGrainKey()).GetInfo();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private async Task<DateTimeOffset> AcquireAndDropAsync(string key)
    {
        var handle = await Locks.TryAcquireAsync("name", key);
        Assert.NotNull(handle);

        // Renewals work while the handle is alive.
        var before = handle.ExpiresAt;
        Cluster.Advance(R);
        await Eventually.TrueAsync(() => handle.ExpiresAt > before, "the handle renewed before being dropped");
        return (await GrainInfoAsync(key))!.LastRenewedAt;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private async Task<CancellationToken> AcquireAndKeepOnlyTheLostTokenAsync(string key)
    {
        var handle = await Locks.TryAcquireAsync("name", key);
        Assert.NotNull(handle);

        // Not lost while it is referenced. Checked here, not by the caller: once this method returns, a
        // garbage collection run by a test in parallel may already have collected the handle.
        Assert.False(handle.HandleLostToken.IsCancellationRequested);
        return handle.HandleLostToken;
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}

[Collection(MemoryClusterCollection.Name)]
public sealed class SynapseLockScenarioTests_Memory(MemoryClusterFixture fixture) : SynapseLockScenarioTests(fixture.Cluster);

[Collection(PostgresClusterCollection.Name)]
public sealed class SynapseLockScenarioTests_Postgres(PostgresClusterFixture fixture) : SynapseLockScenarioTests(fixture.Cluster);

[Collection(PostgresAdoNetProviderClusterCollection.Name)]
public sealed class SynapseLockScenarioTests_PostgresAdoNetProvider(PostgresAdoNetProviderClusterFixture fixture) : SynapseLockScenarioTests(fixture.Cluster);
