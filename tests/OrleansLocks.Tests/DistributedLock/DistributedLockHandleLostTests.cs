using Medallion.Threading;
using OrleansLocks.DistributedLock;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.DistributedLock;

/// <summary>
/// DistributedLock's handle-lost and abandonment cases, as our own tests against a real cluster on
/// PostgreSQL with a 5-second lease. Unlike DistributedLock's database locks, a handle dropped without
/// dispose is not freed when a connection closes: its lease stops being renewed and the lock is free
/// when the lease runs out.
/// </summary>
[Collection(DistributedLockClusterCollection.Name)]
public sealed class DistributedLockHandleLostTests(DistributedLockClusterFixture fixture) : DistributedLockClusterTests(fixture)
{
    [Fact]
    public async Task HandleLostToken_CanBeCancelled_IsNotCancelledByDispose_AndThrowsObjectDisposedOnceDisposed()
    {
        var handle = await Provider.CreateLock(NewName()).AcquireAsync();
        var lost = handle.HandleLostToken;
        Assert.True(lost.CanBeCanceled);
        Assert.False(lost.IsCancellationRequested);

        await handle.DisposeAsync();

        Assert.False(lost.IsCancellationRequested);
        Assert.Throws<ObjectDisposedException>(() => handle.HandleLostToken);
    }

    [Fact]
    public async Task AHandleWhoseLeaseRanOut_SignalsHandleLostToken_IsNoLongerValid_AndTheLockGoesToTheNextHolder()
    {
        var name = NewName();
        var handle = await Provider.CreateLock(name).AcquireAsync();
        var lost = handle.HandleLostToken;
        using var signalled = new ManualResetEventSlim();
        using var registration = lost.Register(signalled.Set);

        // This process stalls (its clock, and so its renewals, stand still) while the silos' moves past the lease.
        Step(Cluster.SiloClock, 2 * T);
        await using var next = await OtherProcess.CreateLock(name).TryAcquireAsync();
        Assert.NotNull(next);
        Assert.True(next.GetFencingToken() > handle.GetFencingToken());
        Assert.False(await handle.IsStillValidAsync());

        // The process wakes: its next renewal is answered "lost".
        Step(Cluster.ClientClock, 2 * T);
        Assert.True(signalled.Wait(Arrival), "HandleLostToken was cancelled");
        Assert.True(handle.HandleLostToken.IsCancellationRequested, "read after the loss, the token is already cancelled");

        // Disposing a lost handle is harmless and does not free the new holder's lock.
        handle.Dispose();
        Assert.Throws<ObjectDisposedException>(() => handle.HandleLostToken);
        Assert.True(await next.IsStillValidAsync());
    }

    [Fact]
    public async Task AHandleDroppedWithoutDispose_IsAbandoned_AndTheLockIsFreeWhenItsLeaseRunsOut()
    {
        var name = NewName();
        var holder = await HoldAsync(Provider.CreateLock(name));
        var abandonedToken = holder.FencingToken();
        var @lock = OtherProcess.CreateLock(name);
        var waiter = @lock.AcquireAsync().AsTask();
        await WaitUntilQueuedAsync(@lock, 1);

        // While held and renewed, the lock stays taken however long it is held.
        for (var moved = TimeSpan.Zero; moved < 3 * T; moved += R)
        {
            var before = holder.ExpiresAt();
            Cluster.Advance(R);
            await Eventually.TrueAsync(() => holder.ExpiresAt() > before, "the holder renewed");
        }

        Assert.False(waiter.IsCompleted);

        holder.DropAndCollect();
        var moves = 0;
        while (!waiter.IsCompleted)
        {
            Assert.True(moves++ <= 3 * T / R, "the waiter was still waiting well after the dropped handle's lease ran out");
            Cluster.Advance(R);
            await Task.WhenAny(waiter, Task.Delay(300));
        }

        await using var taken = await waiter;
        Assert.True(taken.GetFencingToken() > abandonedToken);
    }

    [Fact]
    public async Task DisposingWhileSomeoneWatchesHandleLostToken_IsSafe()
    {
        var handle = await Provider.CreateLock(NewName()).AcquireAsync();
        using var signalled = new ManualResetEventSlim();
        using var registration = handle.HandleLostToken.Register(signalled.Set);

        handle.Dispose();

        Assert.False(signalled.IsSet);
    }
}
