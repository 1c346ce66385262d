using OrleansLocks.Client;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Client;

/// <summary>
/// Semaphores through the client library: permits up to the count, first come first served waiting,
/// one lease and one HandleLostToken per holder, the count rule, and semaphores in multi-lock
/// acquires. Two silos, a fake clock.
/// </summary>
public abstract class SemaphoreScenarioTests(LockCluster cluster) : ClusterScenarioTests(cluster)
{
    [Fact]
    public async Task TryAcquireSemaphore_GrantsUpToTheCount_AndRefusesTheNextOne()
    {
        var key = NewKey();
        var held = new List<LockHandle>();
        for (var i = 0; i < 3; i++)
        {
            held.Add((await Locks.TryAcquireSemaphoreAsync("sem", key, 3))!);
        }

        Assert.All(held, h => Assert.Equal(LockKind.Semaphore, h!.Kind));
        Assert.Null(await Locks.TryAcquireSemaphoreAsync("sem", key, 3));
        Assert.Equal(3, held.Select(h => h.FencingToken).Distinct().Count());

        await held[0].ReleaseAsync();
        await using var again = await Locks.TryAcquireSemaphoreAsync("sem", key, 3);
        Assert.NotNull(again);
        Assert.True(again.FencingToken > held.Max(h => h.FencingToken));
        foreach (var h in held)
        {
            await h.DisposeAsync();
        }
    }

    [Fact]
    public async Task AcquireSemaphore_Waiters_AreServedOnePerReleasedPermit_InArrivalOrder()
    {
        var key = NewKey();
        var a = await Locks.TryAcquireSemaphoreAsync("sem", key, 2);
        var b = await Locks.TryAcquireSemaphoreAsync("sem", key, 2);
        Assert.NotNull(a);
        Assert.NotNull(b);

        var first = Locks.AcquireSemaphoreAsync("sem", key, 2).AsTask();
        await Eventually.TrueAsync(async () => (await Info(key)).Waiting == 1, "the first waiter waits");
        var second = Locks.AcquireSemaphoreAsync("sem", key, 2).AsTask();
        await Eventually.TrueAsync(async () => (await Info(key)).Waiting == 2, "the second waiter waits");

        // A try never jumps the line.
        Assert.Null(await Locks.TryAcquireSemaphoreAsync("sem", key, 2));

        await a.ReleaseAsync();
        var firstHeld = await first.WaitAsync(Arrival);
        Assert.False(second.IsCompleted);
        Assert.Equal(1, (await Info(key)).Waiting);

        await b.ReleaseAsync();
        var secondHeld = await second.WaitAsync(Arrival);
        Assert.True(secondHeld.FencingToken > firstHeld.FencingToken);
        Assert.Equal(2, (await Info(key)).Holders.Count);
        await firstHeld.ReleaseAsync();
        await secondHeld.ReleaseAsync();
        Assert.True((await Info(key)).IsFree);
    }

    [Fact]
    public async Task AnotherCount_IsRefusedNamingBothCounts_AndNothingIsGrantedOrQueued()
    {
        var key = NewKey();
        await using var held = await Locks.TryAcquireSemaphoreAsync("sem", key, 2);
        Assert.NotNull(held);

        var tried = await Assert.ThrowsAsync<ArgumentException>(async () => await Locks.TryAcquireSemaphoreAsync("sem", key, 3));
        var waited = await Assert.ThrowsAsync<ArgumentException>(async () => await Locks.AcquireSemaphoreAsync("sem", key, 3, TimeSpan.FromMinutes(1)));

        Assert.All([tried.Message, waited.Message], m =>
        {
            Assert.Contains("maxCount 2", m, StringComparison.Ordinal);
            Assert.Contains("maxCount 3", m, StringComparison.Ordinal);
        });
        var info = await Info(key);
        Assert.Single(info.Holders);
        Assert.Equal(0, info.Waiting);
    }

    [Fact]
    public void ACountBelowOne_IsRefusedByTheCallItself()
    {
        var tried = Assert.Throws<ArgumentOutOfRangeException>(() => { _ = Locks.TryAcquireSemaphoreAsync("sem", NewKey(), 0); });
        var waited = Assert.Throws<ArgumentOutOfRangeException>(() => { _ = Locks.AcquireSemaphoreAsync("sem", NewKey(), -1); });
        var request = Assert.Throws<ArgumentOutOfRangeException>(() => LockRequest.Semaphore("sem", NewKey(), 0));

        Assert.All([tried, waited, request], e => Assert.Contains("must be 1 or more", e.Message, StringComparison.Ordinal));
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = Locks.AcquireSemaphoreAsync("sem", NewKey(), 1, TimeSpan.FromMilliseconds(-2)); });
    }

    [Fact]
    public async Task HandleLostToken_FiresForTheHolderWhoseLeaseIsLost_AndNotForTheOthers()
    {
        var key = NewKey();
        var stuck = await Locks.TryAcquireSemaphoreAsync("sem", key, 2);
        Assert.NotNull(stuck);

        // The client stands still while the silos' clock passes the stuck holder's lease.
        Cluster.SiloClock.Advance(T + R);
        await using var fresh = await Locks.TryAcquireSemaphoreAsync("sem", key, 2);
        Assert.NotNull(fresh);

        // Now both renew: the stuck holder is told its lease is gone, the fresh one keeps its own.
        Cluster.ClientClock.Advance(R);
        await Eventually.TrueAsync(() => stuck.HandleLostToken.IsCancellationRequested, "the stuck holder heard its lease was lost");
        Assert.False(fresh.HandleLostToken.IsCancellationRequested);
        Assert.True(await fresh.IsStillValidAsync());
        Assert.False(await stuck.IsStillValidAsync());
        await stuck.DisposeAsync();
        await fresh.DisposeAsync();

        // The clocks agree again for the next test of the collection.
        Cluster.ClientClock.Advance(T);
    }

    [Fact]
    public async Task EachHolder_RenewsItsOwnLease()
    {
        var key = NewKey();
        await using var a = await Locks.TryAcquireSemaphoreAsync("sem", key, 2);
        await using var b = await Locks.TryAcquireSemaphoreAsync("sem", key, 2);
        for (var step = 0; step < 6; step++)
        {
            var (beforeA, beforeB) = (a!.ExpiresAt, b!.ExpiresAt);
            Cluster.Advance(R);
            await Eventually.TrueAsync(() => a.ExpiresAt > beforeA && b.ExpiresAt > beforeB, "both holders renewed");
        }

        Assert.True(await a!.IsStillValidAsync());
        Assert.True(await b!.IsStillValidAsync());
        Assert.Null(await Locks.TryAcquireSemaphoreAsync("sem", key, 2));
    }

    [Fact]
    public async Task MultiLock_WithASemaphorePart_TakesAPermit_AndSortsSemaphoresLast()
    {
        var (k1, k2, k3) = (NewKey(), NewKey(), NewKey());
        var m1 = await Locks.TryAcquireAllAsync([LockRequest.Semaphore("sem", k1, 2), LockRequest.Plain("plain", k2)]);
        Assert.NotNull(m1);
        Assert.Equal([LockKind.Plain, LockKind.Semaphore], m1.Parts.Select(p => p.Kind));

        // The second permit is free; the plain part of this request is not: all or nothing.
        Assert.Null(await Locks.TryAcquireAllAsync([LockRequest.Plain("plain", k2), LockRequest.Semaphore("sem", k1, 2)]));
        Assert.Single((await Info(k1)).Holders);

        await using var m2 = await Locks.AcquireAllAsync([LockRequest.Semaphore("sem", k1, 2), LockRequest.Write("rw", k3)], TimeSpan.FromSeconds(30));
        Assert.Equal([LockKind.Write, LockKind.Semaphore], m2.Parts.Select(p => p.Kind));
        Assert.Null(await Locks.TryAcquireSemaphoreAsync("sem", k1, 2));

        await m1.ReleaseAsync();
        Assert.Single((await Info(k1)).Holders);
        Assert.Throws<ArgumentException>(() => LockRequest.InCanonicalOrder([LockRequest.Semaphore("sem", k1, 2), LockRequest.Semaphore("sem", k1, 2)]));
    }

    [Fact]
    public async Task ASemaphore_AndAPlainLockOfTheSameNameAndKey_AreIndependent()
    {
        var key = NewKey();
        await using var plain = await Locks.TryAcquireAsync("name", key);
        await using var permit = await Locks.TryAcquireSemaphoreAsync("name", key, 1);
        Assert.NotNull(plain);
        Assert.NotNull(permit);
    }

    private Task<SemaphoreInfo> Info(string key) => Info("sem", key);

    private Task<SemaphoreInfo> Info(string name, string key) =>
        Cluster.Grains.GetGrain<ISemaphoreGrain>(LockId.Create(name, key).ToGrainKey()).GetInfo();
}

[Collection(MemoryClusterCollection.Name)]
public sealed class SemaphoreScenarioTests_Memory(MemoryClusterFixture fixture) : SemaphoreScenarioTests(fixture.Cluster);

[Collection(PostgresClusterCollection.Name)]
public sealed class SemaphoreScenarioTests_Postgres(PostgresClusterFixture fixture) : SemaphoreScenarioTests(fixture.Cluster);

[Collection(PostgresAdoNetProviderClusterCollection.Name)]
public sealed class SemaphoreScenarioTests_PostgresAdoNetProvider(PostgresAdoNetProviderClusterFixture fixture) : SemaphoreScenarioTests(fixture.Cluster);
