using OrleansLocks.Admin;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Admin;

/// <summary>The admin grain sees semaphores: their holders are listed and inspected as permits, and can be forced out.</summary>
public abstract class SemaphoreAdminTests(LockCluster cluster)
{
    protected LockCluster Cluster { get; } = cluster;

    private ILockAdminGrain Admin => Cluster.Grains.GetGrain<ILockAdminGrain>(0);

    private static LockId NewSemaphore() => LockId.Create("adm-sem-" + Guid.NewGuid().ToString("N")[..12], "pool");

    private ISemaphoreGrain Semaphore(LockId id) => Cluster.Grains.GetGrain<ISemaphoreGrain>(id.ToGrainKey());

    [Fact]
    public async Task ListAndInspect_ShowEachPermitHolder_AsASemaphoreHold()
    {
        var id = NewSemaphore();
        var a = (await Semaphore(id).TryAcquire(2, "worker-a"))!;
        var b = (await Semaphore(id).TryAcquire(2, "worker-b"))!;

        var listed = (await Admin.List(new LockListQuery(NamePrefix: id.Name))).Locks;
        var inspected = await Admin.Inspect(id.Name, id.Key, LockKind.Semaphore);

        Assert.Equal(
            [(LockKind.Semaphore, "worker-a", a.FencingToken), (LockKind.Semaphore, "worker-b", b.FencingToken)],
            listed.Select(r => (r.Kind, r.Owner, r.FencingToken)).OrderBy(r => r.FencingToken));
        Assert.Equal(
            [(LockKind.Semaphore, "worker-a", a.FencingToken), (LockKind.Semaphore, "worker-b", b.FencingToken)],
            inspected.Holders.Select(r => (r.Kind, r.Owner, r.FencingToken)));
    }

    [Fact]
    public async Task ForceRelease_OfOnePermit_FreesOnlyThatHolder()
    {
        var id = NewSemaphore();
        var a = (await Semaphore(id).TryAcquire(2, "worker-a"))!;
        var b = (await Semaphore(id).TryAcquire(2, "worker-b"))!;

        var result = await Admin.ForceRelease(id.Name, id.Key, LockKind.Semaphore, a.FencingToken, "worker hung", "test-operator");

        Assert.Equal(ForceReleaseOutcome.Released, result.Outcome);
        var freed = Assert.Single(result.Released);
        Assert.Equal((LockKind.Semaphore, "worker-a", a.FencingToken), (freed.Kind, freed.Owner, freed.FencingToken));
        Assert.False(await Semaphore(id).IsStillValid(a.Token));
        Assert.True(await Semaphore(id).IsStillValid(b.Token));
    }

    [Fact]
    public async Task ReleaseOwner_FreesThatOwnersPermits_AndKeepsTheOthers()
    {
        var id = NewSemaphore();
        var doomed = "doomed-" + Guid.NewGuid().ToString("N")[..8];
        var gone = (await Semaphore(id).TryAcquire(3, doomed))!;
        var kept = (await Semaphore(id).TryAcquire(3, "survivor"))!;

        var result = await Admin.ReleaseOwner(doomed, "worker died", "test-operator");

        var freed = Assert.Single(result.Released);
        Assert.Equal((LockKind.Semaphore, gone.FencingToken), (freed.Kind, freed.FencingToken));
        Assert.False(await Semaphore(id).IsStillValid(gone.Token));
        Assert.True(await Semaphore(id).IsStillValid(kept.Token));
    }
}

[Collection(MemoryClusterCollection.Name)]
public sealed class SemaphoreAdminTests_Memory(MemoryClusterFixture fixture) : SemaphoreAdminTests(fixture.Cluster);

[Collection(PostgresClusterCollection.Name)]
public sealed class SemaphoreAdminTests_Postgres(PostgresClusterFixture fixture) : SemaphoreAdminTests(fixture.Cluster);
