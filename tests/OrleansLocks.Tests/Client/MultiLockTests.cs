using OrleansLocks.Client;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Client;

/// <summary>
/// Multi-key locks: all or nothing, one canonical order whatever the caller's order (so waiting
/// callers cannot deadlock), give-up releases any partial hold, one handle for all parts. Two
/// silos, a fake clock. (RW9 is in <see cref="ReadWriteLockScenarioTests"/>.)
/// </summary>
public abstract class MultiLockTests(LockCluster cluster) : ClusterScenarioTests(cluster)
{
    [Fact]
    public async Task TryAcquireAll_WhenAllAreFree_HoldsEveryPart_AndReleaseFreesThemAll()
    {
        var (k1, k2) = (NewKey(), NewKey());
        var m = await Locks.TryAcquireAllAsync([LockRequest.Read("rw", k2), LockRequest.Plain("plain", k1)]);
        Assert.NotNull(m);

        // Parts come back in the canonical order: plain locks first.
        Assert.Equal([LockKind.Plain, LockKind.Read], m.Parts.Select(p => p.Kind));
        Assert.True(await m.IsStillValidAsync());
        Assert.Null(await Locks.TryAcquireAsync("plain", k1));
        Assert.Null(await Locks.TryAcquireWriteAsync("rw", k2));

        await m.ReleaseAsync();
        await m.ReleaseAsync();
        Assert.Null(await PlainInfo("plain", k1));
        Assert.True((await RwInfo("rw", k2)).IsFree);
    }

    [Fact]
    public async Task TryAcquireAll_WhenOneIsTaken_ReturnsNull_AndHoldsNothing()
    {
        // The taken lock sorts last, so the try takes the first two before it finds it taken.
        var (k1, k2, k3) = ("a-" + NewKey(), "b-" + NewKey(), "z-" + NewKey());
        await using var taken = await Locks.TryAcquireAsync("m", k3);

        Assert.Null(await Locks.TryAcquireAllAsync([LockRequest.Plain("m", k1), LockRequest.Plain("m", k2), LockRequest.Plain("m", k3)]));

        Assert.Null(await PlainInfo("m", k1));
        Assert.Null(await PlainInfo("m", k2));
    }

    [Fact]
    public async Task AcquireAll_WaitsForTheTakenPart_ThenHoldsAll()
    {
        var (k1, k2) = (NewKey(), NewKey());
        var z = await Locks.AcquireAsync("m", k2);
        var m = Locks.AcquireAllAsync([LockRequest.Plain("m", k2), LockRequest.Plain("m", k1)]).AsTask();
        await Eventually.TrueAsync(async () => (await PlainInfo("m", k2))?.Waiting == 1, "the multi-lock waits for k2");

        await z.ReleaseAsync();

        await using var held = await m.WaitAsync(Arrival);
        Assert.Equal(2, held.Parts.Count);
        Assert.NotNull(await PlainInfo("m", k1));
        Assert.True(held.Parts.Single(p => p.Id.Key == k2).FencingToken > z.FencingToken);
    }

    [Fact]
    public async Task AcquireAll_TakesLocksInOneOrder_WhateverOrderTheyAreListedIn_SoCallersCannotDeadlock()
    {
        var (a, b) = ("a-" + NewKey(), "b-" + NewKey());
        var z = await Locks.AcquireAsync("m", a);

        var x = Locks.AcquireAllAsync([LockRequest.Plain("m", a), LockRequest.Plain("m", b)]).AsTask();
        await Eventually.TrueAsync(async () => (await PlainInfo("m", a))?.Waiting == 1, "X waits for a");
        var y = Locks.AcquireAllAsync([LockRequest.Plain("m", b), LockRequest.Plain("m", a)]).AsTask();
        await Eventually.TrueAsync(async () => (await PlainInfo("m", a))?.Waiting == 2, "Y waits for a");

        // Y listed b first but did not take it: both wait for a, the first lock of the canonical order.
        Assert.Null(await PlainInfo("m", b));

        await z.ReleaseAsync();
        var first = await x.WaitAsync(Arrival);
        Assert.False(y.IsCompleted);
        await first.ReleaseAsync();
        await using var second = await y.WaitAsync(Arrival);
        Assert.Equal(2, second.Parts.Count);
    }

    [Fact]
    public async Task AcquireAll_WhenItTimesOut_ReleasesThePartsItHeld_AndLeavesTheLine()
    {
        // k1 sorts before k2, so the multi-lock takes k1 first, then waits for k2.
        var (k1, k2) = ("a-" + NewKey(), "b-" + NewKey());
        await using var z = await Locks.AcquireAsync("m", k2);
        var m = Locks.AcquireAllAsync([LockRequest.Plain("m", k1), LockRequest.Plain("m", k2)], TimeSpan.FromSeconds(20)).AsTask();
        await Eventually.TrueAsync(async () => (await PlainInfo("m", k2))?.Waiting == 1, "the multi-lock holds k1 and waits for k2");
        Assert.NotNull(await PlainInfo("m", k1));

        Cluster.ClientClock.Advance(TimeSpan.FromSeconds(20));

        await Assert.ThrowsAsync<TimeoutException>(() => m.WaitAsync(Arrival));
        Assert.Null(await PlainInfo("m", k1));
        Assert.Equal(0, (await PlainInfo("m", k2))!.Waiting);
    }

    [Fact]
    public async Task AcquireAll_WhenCancelled_ReleasesThePartsItHeld_AndLeavesTheLine()
    {
        var (k1, k2) = ("a-" + NewKey(), "b-" + NewKey());
        await using var z = await Locks.AcquireWriteAsync("rw", k2);
        using var cancel = new CancellationTokenSource();
        var m = Locks.AcquireAllAsync([LockRequest.Write("rw", k1), LockRequest.Read("rw", k2)], cancellationToken: cancel.Token).AsTask();
        await Eventually.TrueAsync(async () => (await RwInfo("rw", k2)).WaitingReaders == 1, "the multi-lock holds k1 and waits for k2");

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => m.WaitAsync(Arrival));
        Assert.True((await RwInfo("rw", k1)).IsFree);
        Assert.Equal(0, (await RwInfo("rw", k2)).WaitingReaders);
    }

    [Fact]
    public async Task HandleLostToken_IsCancelledWhenAnyPartIsLost()
    {
        var (k1, k2) = (NewKey(), NewKey());
        var m = await Locks.TryAcquireAllAsync([LockRequest.Plain("m", k1), LockRequest.Plain("m", k2)]);
        Assert.NotNull(m);

        // The client stalls past the lease; another worker takes k2.
        Cluster.SiloClock.Advance(T);
        Assert.NotNull(await Cluster.Grains.GetGrain<ILockGrain>(LockId.Create("m", k2).ToGrainKey()).TryAcquire("thief"));

        Cluster.ClientClock.Advance(R);
        await Eventually.TrueAsync(() => m.HandleLostToken.IsCancellationRequested, "the multi-lock's HandleLostToken was cancelled");
        Assert.False(await m.IsStillValidAsync());
        Cluster.ClientClock.Advance(T);
        await m.DisposeAsync();
        Assert.Equal("thief", (await PlainInfo("m", k2))!.Owner);
    }

    [Fact]
    public async Task AcquireAll_WithBadLists_IsRefusedNamingTheProblem_AndHoldsNothing()
    {
        var k = NewKey();
        var empty = await Assert.ThrowsAsync<ArgumentException>(async () => await Locks.TryAcquireAllAsync([]));
        Assert.Contains("at least one", empty.Message, StringComparison.Ordinal);

        var twice = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await Locks.AcquireAllAsync([LockRequest.Plain("m", k), LockRequest.Write("rw", k), LockRequest.Read("rw", k)]));
        Assert.Contains("twice", twice.Message, StringComparison.Ordinal);

        var unmade = await Assert.ThrowsAsync<ArgumentException>(async () => await Locks.TryAcquireAllAsync([default]));
        Assert.Contains("LockRequest.Plain", unmade.Message, StringComparison.Ordinal);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await Locks.AcquireAllAsync([LockRequest.Plain("m", k)], TimeSpan.FromSeconds(-2)));

        Assert.Null(await PlainInfo("m", k));
        Assert.True((await RwInfo("rw", k)).IsFree);
    }

    private Task<LockInfo?> PlainInfo(string name, string key) =>
        Cluster.Grains.GetGrain<ILockGrain>(LockId.Create(name, key).ToGrainKey()).GetInfo();

    private Task<ReadWriteLockInfo> RwInfo(string name, string key) =>
        Cluster.Grains.GetGrain<IReadWriteLockGrain>(LockId.Create(name, key).ToGrainKey()).GetInfo();
}

[Collection(MemoryClusterCollection.Name)]
public sealed class MultiLockTests_Memory(MemoryClusterFixture fixture) : MultiLockTests(fixture.Cluster);

[Collection(PostgresClusterCollection.Name)]
public sealed class MultiLockTests_Postgres(PostgresClusterFixture fixture) : MultiLockTests(fixture.Cluster);
