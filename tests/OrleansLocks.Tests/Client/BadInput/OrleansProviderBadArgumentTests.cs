using OrleansLocks.Client;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Client.BadInput;

/// <summary>The bad-input rules on the Orleans provider, against a real test cluster.</summary>
[Collection(MemoryClusterCollection.Name)]
public sealed class OrleansProviderBadArgumentTests(MemoryClusterFixture fixture) : ProviderBadArgumentTests
{
    private readonly LockCluster _cluster = fixture.Cluster;

    protected override ILockProvider Locks => _cluster.Locks;

    // The provider hosted in a silo: another process of the cluster, with its own owner.
    protected override ILockProvider Holder => _cluster.SiloLocks(0);

    protected override void AssertNoCallReachedTheLock(LockId id)
    {
        foreach (var (method, readWrite) in new[]
        {
            (nameof(ILockGrain.TryAcquire), false),
            (nameof(ILeaseGrain.Wait), false),
            (nameof(IReadWriteLockGrain.TryAcquireRead), true),
            (nameof(IReadWriteLockGrain.TryAcquireWrite), true),
            (nameof(ILeaseGrain.Wait), true),
        })
        {
            Assert.Equal(0, _cluster.GrainCalls.Count(id, method, readWrite));
        }
    }

    protected override Task WaitsInLineAsync(LockId id)
    {
        var grain = _cluster.Grains.GetGrain<ILockGrain>(id.ToGrainKey());
        return Eventually.TrueAsync(async () => (await grain.GetInfo())?.Waiting == 1, "the waiter stands in the lock's line");
    }
}
