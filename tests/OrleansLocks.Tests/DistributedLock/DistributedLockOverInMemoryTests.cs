using Microsoft.Extensions.Time.Testing;
using OrleansLocks.Client;
using OrleansLocks.DistributedLock;
using OrleansLocks.InMemory;

namespace OrleansLocks.Tests.DistributedLock;

/// <summary>
/// The adapter over OrleansLocks.InMemory's provider, as users' unit tests of DistributedLock code
/// would use it: no cluster, leases on a fake clock.
/// </summary>
public sealed class DistributedLockOverInMemoryTests
{
    [Fact]
    public async Task OverTheInMemoryProvider_TheAdapterExcludes_AndSignalsALostLease()
    {
        var time = new FakeTimeProvider();
        var locks = new InMemoryLockProvider(time);
        var worker = new OrleansLocksDistributedLockProvider(locks);
        var otherWorker = new OrleansLocksDistributedLockProvider(locks.ForOwner("worker-2"));

        var @lock = worker.CreateLock("reports/daily");
        await using var handle = await @lock.TryAcquireAsync();
        Assert.NotNull(handle);
        Assert.Null(await otherWorker.CreateLock("reports/daily").TryAcquireAsync());

        locks.StopRenewing(LockRequest.Plain(@lock.Id.Name, @lock.Id.Key));
        time.Advance(TimeSpan.FromMinutes(3));

        Assert.True(handle.HandleLostToken.IsCancellationRequested);
        await using var next = await otherWorker.CreateLock("reports/daily").TryAcquireAsync();
        Assert.NotNull(next);
        Assert.True(next.GetFencingToken() > handle.GetFencingToken());
    }
}
