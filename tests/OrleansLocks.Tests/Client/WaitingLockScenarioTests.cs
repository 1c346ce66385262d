using System.Runtime.CompilerServices;
using OrleansLocks.Client;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Client;

/// <summary>
/// Waiting acquisition: scenarios H1, H2, W1 and W2 of docs/synapse-scenarios.md, the cases
/// Synapse never tested (cancellation, timeout), and the line's rules (first come first served, dead
/// waiters skipped, a stopping host leaves its lines). Two silos, a fake clock; "no clock advance"
/// means the waiter was woken by the lock, not by polling.
/// </summary>
public abstract class WaitingLockScenarioTests(LockCluster cluster) : ClusterScenarioTests(cluster)
{
    [Fact]
    public async Task H1_WakeOnRelease_TheWaiterGetsTheLockAtTheReleaseWithoutAnyClockAdvance()
    {
        var key = NewKey();
        var a = await Locks.AcquireAsync("name", key);
        var b = Locks.AcquireAsync("name", key).AsTask();
        await WaitUntilQueuedAsync(key, 1);
        Assert.False(b.IsCompleted);

        await a.ReleaseAsync();

        await using var held = await b.WaitAsync(Arrival);
        Assert.True(held.FencingToken > a.FencingToken);
        Assert.True(await held.IsStillValidAsync());

        // Two Wait calls: A's, answered at once, and B's, answered by the release: B never polled.
        Assert.Equal(2, Cluster.GrainCalls.Count(held.Id, nameof(ILeaseGrain.Wait)));
    }

    [Fact]
    public async Task H2_WakeOnExpiry_TheWaiterGetsTheLockWhenADroppedHoldersLeaseRunsOut()
    {
        var key = NewKey();
        var holder = await HoldAsync(Locks, key);
        var b = Locks.AcquireAsync("name", key).AsTask();
        await WaitUntilQueuedAsync(key, 1);

        // An hour in renewal steps: A renews, B keeps waiting (its calls are answered "not yet" and renewed).
        for (var moved = TimeSpan.Zero; moved < TimeSpan.FromHours(1); moved += R)
        {
            var before = holder.ExpiresAt;
            Cluster.Advance(R);
            await Eventually.TrueAsync(() => holder.ExpiresAt > before, "A renewed");
        }

        Assert.False(b.IsCompleted);
        var fencingA = holder.FencingToken;
        DropAndCollect(holder);

        var afterDrop = await StepUntilAsync(b);
        await using var held = await b;
        Assert.True(afterDrop <= T + R, $"B waited {afterDrop} after A stopped renewing");
        Assert.True(held.FencingToken > fencingA);
    }

    [Fact]
    public async Task W1_AcrossSilos_AWaiterOnOneSiloIsWokenByAReleaseOnTheOther()
    {
        var key = NewKey();
        var a = await Cluster.SiloLocks(0).AcquireAsync("name", key);
        var b = Cluster.SiloLocks(1).AcquireAsync("name", key).AsTask();
        await WaitUntilQueuedAsync(key, 1);
        Assert.False(b.IsCompleted);

        await a.ReleaseAsync();

        await using var held = await b.WaitAsync(Arrival);
        Assert.True(held.FencingToken > a.FencingToken);
    }

    [Fact]
    public async Task W2_ExpiryAcrossSilos_AWaiterOnOneSiloGetsTheLockWhenAHolderOnTheOtherStopsRenewing()
    {
        var key = NewKey();
        var holder = await HoldAsync(Cluster.SiloLocks(0), key);
        var b = Cluster.SiloLocks(1).AcquireAsync("name", key).AsTask();
        await WaitUntilQueuedAsync(key, 1);
        for (var step = 0; step < 10; step++)
        {
            var before = holder.ExpiresAt;
            Cluster.Advance(R);
            await Eventually.TrueAsync(() => holder.ExpiresAt > before, "A renewed");
        }

        Assert.False(b.IsCompleted);
        DropAndCollect(holder);

        var afterDrop = await StepUntilAsync(b);
        await using var held = await b;
        Assert.True(afterDrop <= T + R, $"B waited {afterDrop} after A stopped renewing");
    }

    [Fact]
    public async Task Waiters_AreServedFirstComeFirstServed()
    {
        var key = NewKey();
        var a = await Locks.AcquireAsync("name", key);
        var order = new List<int>();
        var waiters = new List<Task>();
        for (var i = 0; i < 5; i++)
        {
            var me = i;
            waiters.Add(Task.Run(async () =>
            {
                var handle = await Locks.AcquireAsync("name", key);
                lock (order)
                {
                    order.Add(me);
                }

                await handle.ReleaseAsync();
            }));
            await WaitUntilQueuedAsync(key, i + 1);
        }

        await a.ReleaseAsync();
        await Task.WhenAll(waiters).WaitAsync(Arrival);

        Assert.Equal([0, 1, 2, 3, 4], order);
        Assert.Null(await Grain(key).GetInfo());
    }

    [Fact]
    public async Task AcquireAsync_OnAFreeLock_ReturnsAtOnce()
    {
        await using var handle = await Locks.AcquireAsync("name", NewKey(), TimeSpan.FromSeconds(1));
        Assert.True(await handle.IsStillValidAsync());
    }

    [Fact]
    public async Task AcquireAsync_WhenTheTimeoutPassesFirst_ThrowsTimeoutException_AndLeavesNothingQueued()
    {
        var key = NewKey();
        var a = await Locks.AcquireAsync("name", key);
        var b = Locks.AcquireAsync("name", key, TimeSpan.FromSeconds(20)).AsTask();
        await WaitUntilQueuedAsync(key, 1);

        Cluster.ClientClock.Advance(TimeSpan.FromSeconds(20));

        var error = await Assert.ThrowsAsync<TimeoutException>(() => b.WaitAsync(Arrival));
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await Grain(key).GetInfo())!.Waiting);

        // Nobody is left in line to be handed the lock.
        await a.ReleaseAsync();
        Assert.Null(await Grain(key).GetInfo());
    }

    [Fact]
    public async Task AcquireAsync_WithZeroTimeout_TriesOnce()
    {
        var key = NewKey();
        await using var a = await Locks.AcquireAsync("name", key, TimeSpan.Zero);
        await Assert.ThrowsAsync<TimeoutException>(async () => await Locks.AcquireAsync("name", key, TimeSpan.Zero));
        Assert.Equal(0, (await Grain(key).GetInfo())!.Waiting);
    }

    [Fact]
    public async Task AcquireAsync_WhenCancelled_ThrowsOperationCanceled_AndLeavesNothingHeldOrQueued()
    {
        var key = NewKey();
        var a = await Locks.AcquireAsync("name", key);
        using var cancel = new CancellationTokenSource();
        var b = Locks.AcquireAsync("name", key, cancellationToken: cancel.Token).AsTask();
        await WaitUntilQueuedAsync(key, 1);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b.WaitAsync(Arrival));
        Assert.Equal(0, (await Grain(key).GetInfo())!.Waiting);
        await a.ReleaseAsync();
        Assert.Null(await Grain(key).GetInfo());
    }

    [Fact]
    public async Task AWaiterWhoseProcessDied_IsSkipped_AndItsGrantTakenBack()
    {
        var key = NewKey();
        var grain = Grain(key);
        var a = await Locks.AcquireAsync("name", key);

        // A raw waiter that will never confirm nor call again: a process that died while waiting.
        var dead = grain.Wait("dead-waiter", LockKind.Plain, "dead-process");
        await WaitUntilQueuedAsync(key, 1);
        var b = Locks.AcquireAsync("name", key).AsTask();
        await WaitUntilQueuedAsync(key, 2);

        await a.ReleaseAsync();

        // The dead waiter was first, so the lock went to it; it never confirms.
        var deadLease = await dead.WaitAsync(Arrival);
        Assert.NotNull(deadLease);
        Assert.False(b.IsCompleted);

        // After the waiter timeout the grant is taken back and B, next in line, gets the lock.
        Cluster.SiloClock.Advance(ClusterFixture.WaiterTimeout);
        await using var held = await b.WaitAsync(Arrival);
        Assert.False(await grain.IsStillValid(deadLease.Token));
        Assert.True(held.FencingToken > deadLease.FencingToken);
        Assert.False(await grain.ConfirmGrant(deadLease.Token));
    }

    [Fact]
    public async Task AWaiterThatStopsCalling_LeavesTheLine()
    {
        var key = NewKey();
        var grain = Grain(key);
        await using var a = await Locks.AcquireAsync("name", key);
        var gone = grain.Wait("gone-waiter", LockKind.Plain, "gone-process");
        await WaitUntilQueuedAsync(key, 1);

        // Its call is answered "not yet" after the poll interval (15 s); it never calls again.
        Cluster.SiloClock.Advance(TimeSpan.FromSeconds(15));
        Assert.Null(await gone.WaitAsync(Arrival));
        Cluster.SiloClock.Advance(ClusterFixture.WaiterTimeout);

        await WaitUntilQueuedAsync(key, 0);
    }

    [Fact]
    public async Task AWaiterWhoseHostStops_LeavesTheLine_AndTheNextWaiterGetsTheLock()
    {
        var key = NewKey();
        var a = await Cluster.SiloLocks(0).AcquireAsync("name", key);
        var b = Locks.AcquireAsync("name", key).AsTask();
        await WaitUntilQueuedAsync(key, 1);
        var c = Cluster.SiloLocks(1).AcquireAsync("name", key).AsTask();
        await WaitUntilQueuedAsync(key, 2);

        // B's client host stops while B waits.
        await Cluster.RestartClientAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b.WaitAsync(Arrival));
        await WaitUntilQueuedAsync(key, 1);

        await a.ReleaseAsync();
        await using var held = await c.WaitAsync(Arrival);
        Assert.Equal(0, (await Grain(key).GetInfo())!.Waiting);
    }

    [Fact]
    public async Task AHandleFromAWait_RenewsAndReleasesLikeAnyOther()
    {
        var key = NewKey();
        var a = await Locks.AcquireAsync("name", key);
        var b = Locks.AcquireAsync("name", key).AsTask();
        await WaitUntilQueuedAsync(key, 1);
        await a.ReleaseAsync();
        var held = await b.WaitAsync(Arrival);

        for (var step = 0; step < 6; step++)
        {
            var before = held.ExpiresAt;
            Cluster.Advance(R);
            await Eventually.TrueAsync(() => held.ExpiresAt > before, "the waited-for handle renewed");
        }

        Assert.True(await held.IsStillValidAsync());
        await held.DisposeAsync();
        Assert.Null(await Grain(key).GetInfo());
    }

    [Fact]
    public async Task ADeactivationWithAnOpenWait_DoesNotStallTheLock()
    {
        var key = NewKey();
        var grain = Grain(key);
        var a = await Locks.AcquireAsync("name", key);
        var b = Locks.AcquireAsync("name", key).AsTask();
        await WaitUntilQueuedAsync(key, 1);

        // Orleans deactivates an activation only once no call runs in it (rebalancing, idle collection
        // and failed writes all end this way), so B's open wait must be answered, not left to its timer.
        Assert.True(Cluster.Cluster.TryGetGrainContext(grain.GetGrainId(), out var context));
        context.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "test"));

        // No clock advance: the release reaches the next activation, which hands the lock to B.
        await a.ReleaseAsync().AsTask().WaitAsync(Arrival);
        await using var held = await b.WaitAsync(Arrival);
        Assert.True(held.FencingToken > a.FencingToken);
    }

    [Fact]
    public async Task AWaiterThatGivesUpAfterItWasGranted_LeavesNothingHeld()
    {
        var key = NewKey();
        var grain = Grain(key);
        var lease = await grain.Wait("gave-up", LockKind.Plain, "quitter");
        Assert.NotNull(lease);

        await grain.StopWaiting("gave-up");

        Assert.Null(await grain.GetInfo());
        Assert.False(await grain.IsStillValid(lease.Token));
    }

    [Fact]
    public async Task AWaitCallThatArrivesAfterItsWaiterLeft_IsRefused_AndQueuesNobody()
    {
        // Found by the chaos run: a wait call held up behind a frozen gateway reached the lock after
        // its StopWaiting, queued the waiter again, and the lock was then handed to a waiter that had
        // gone, answering "held" to everyone until the grant was taken back.
        var key = NewKey();
        var grain = Grain(key);
        var a = await Locks.AcquireAsync("name", key);
        await grain.StopWaiting("gave-up");

        var late = await Assert.ThrowsAsync<InvalidOperationException>(() => grain.Wait("gave-up", LockKind.Plain, "quitter"));
        Assert.Contains("left the line", late.Message);
        Assert.Equal(0, (await grain.GetInfo())!.Waiting);

        // Released with nobody in line: the lock is free, not handed to the waiter that left.
        await a.ReleaseAsync();
        Assert.Null(await grain.GetInfo());
        await using var next = await Locks.TryAcquireAsync("name", key);
        Assert.NotNull(next);

        // A fresh id waits as usual, and the id that left is refused for two minutes only.
        var fresh = grain.Wait("new-id", LockKind.Plain, "again");
        await WaitUntilQueuedAsync(key, 1);
        await grain.StopWaiting("new-id");
        Assert.Null(await fresh.WaitAsync(Arrival));
        await next.ReleaseAsync();
        Cluster.Advance(TimeSpan.FromMinutes(2));
        var back = await grain.Wait("gave-up", LockKind.Plain, "much later");
        Assert.NotNull(back);
        await grain.StopWaiting("gave-up");
        Assert.Null(await grain.GetInfo());
    }

    private ILockGrain Grain(string key) => Cluster.Grains.GetGrain<ILockGrain>(LockId.Create("name", key).ToGrainKey());

    private Task WaitUntilQueuedAsync(string key, int waiting) =>
        Eventually.TrueAsync(async () => ((await Grain(key).GetInfo())?.Waiting ?? 0) == waiting, $"{waiting} waiting in line for {key}");

    /// <summary>Advances both clocks in renewal steps until <paramref name="waiter"/> completes; returns how far.</summary>
    private async Task<TimeSpan> StepUntilAsync(Task waiter)
    {
        var moved = TimeSpan.Zero;
        while (!waiter.IsCompleted)
        {
            Assert.True(moved <= 2 * T, $"the waiter was still waiting after {moved}");
            Cluster.Advance(R);
            moved += R;
            await Task.WhenAny(waiter, Task.Delay(300));
        }

        return moved;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<HandleHolder> HoldAsync(ILockProvider locks, string key) =>
        new() { Handle = await locks.AcquireAsync("name", key) };

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void DropAndCollect(HandleHolder holder)
    {
        holder.Handle = null;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    /// <summary>
    /// Keeps a handle reachable until the test drops it. The test reads the handle only through these
    /// non-inlined members, so no frame of the (debug-built) async test method keeps it alive.
    /// </summary>
    private sealed class HandleHolder
    {
        public LockHandle? Handle { get; set; }

        public DateTimeOffset ExpiresAt
        {
            [MethodImpl(MethodImplOptions.NoInlining)]
            get => Handle!.ExpiresAt;
        }

        public long FencingToken
        {
            [MethodImpl(MethodImplOptions.NoInlining)]
            get => Handle!.FencingToken;
        }
    }
}

[Collection(MemoryClusterCollection.Name)]
public sealed class WaitingLockScenarioTests_Memory(MemoryClusterFixture fixture) : WaitingLockScenarioTests(fixture.Cluster);

[Collection(PostgresClusterCollection.Name)]
public sealed class WaitingLockScenarioTests_Postgres(PostgresClusterFixture fixture) : WaitingLockScenarioTests(fixture.Cluster);
