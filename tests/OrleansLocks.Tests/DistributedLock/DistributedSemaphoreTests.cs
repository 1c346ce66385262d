using Medallion.Threading;
using OrleansLocks.DistributedLock;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.DistributedLock;

/// <summary>
/// DistributedLock's provider-independent behaviours of a semaphore, as our own tests of the adapter
/// against a real cluster on PostgreSQL: the count it reports, never more holders than the count, a
/// drained semaphore refusing tries and letting one in per release, very large counts, the argument
/// rules, and DistributedLock's multi-semaphore helpers.
/// </summary>
[Collection(DistributedLockClusterCollection.Name)]
public sealed class DistributedSemaphoreTests(DistributedLockClusterFixture fixture) : DistributedLockClusterTests(fixture)
{
    [Fact]
    public void ASemaphore_ReportsItsNameAndCount_AndLivesUnderTheSemaphoreName()
    {
        var name = NewName();
        IDistributedSemaphoreProvider provider = Provider;
        var semaphore = provider.CreateSemaphore(name, 3);

        Assert.Equal(name, semaphore.Name);
        Assert.Equal(3, semaphore.MaxCount);
        Assert.Equal(LockId.Create("distributedlock-semaphore", name), ((OrleansLocksDistributedSemaphore)semaphore).Id);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void ACountBelowOne_IsRefusedByCreateSemaphore_NamingTheRule(int maxCount)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Provider.CreateSemaphore(NewName(), maxCount));
        Assert.Equal("maxCount", error.ParamName);
        Assert.Contains("1 or more", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => Provider.CreateSemaphore(null!, 1));
    }

    [Fact]
    public void ABadTimeout_IsRefusedByTheCallItself_NotByTheTask()
    {
        var semaphore = Provider.CreateSemaphore(NewName(), 2);
        var negative = TimeSpan.FromMilliseconds(-2);
        var tooLong = TimeSpan.FromDays(50);

        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = semaphore.TryAcquireAsync(negative); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = semaphore.AcquireAsync(tooLong); });
        Assert.Throws<ArgumentOutOfRangeException>(() => semaphore.TryAcquire(tooLong));
        Assert.Throws<ArgumentOutOfRangeException>(() => semaphore.Acquire(negative));
    }

    [Fact]
    public async Task ADrainedSemaphore_RefusesATry_AndEachReleaseLetsOneIn()
    {
        var name = NewName();
        var first = await Provider.CreateSemaphore(name, 3).AcquireAsync();
        var second = OtherProcess.CreateSemaphore(name, 3).Acquire(TimeSpan.Zero);
        var third = await Provider.CreateSemaphore(name, 3).TryAcquireAsync();
        Assert.NotNull(third);

        Assert.Null(await OtherProcess.CreateSemaphore(name, 3).TryAcquireAsync());
        Assert.Null(Provider.CreateSemaphore(name, 3).TryAcquire());
        await Assert.ThrowsAsync<TimeoutException>(async () => await Provider.CreateSemaphore(name, 3).AcquireAsync(TimeSpan.Zero));

        await second.DisposeAsync();
        var fourth = await OtherProcess.CreateSemaphore(name, 3).TryAcquireAsync();
        Assert.NotNull(fourth);
        Assert.Null(await Provider.CreateSemaphore(name, 3).TryAcquireAsync());

        // A waiter gets in when one leaves, and only one.
        var waiting = Provider.CreateSemaphore(name, 3).AcquireAsync().AsTask();
        await WaitUntilSemaphoreQueuedAsync(name, 1);
        Assert.False(waiting.IsCompleted);
        third.Dispose();
        await using var fifth = await waiting.WaitAsync(Arrival);
        Assert.Null(await OtherProcess.CreateSemaphore(name, 3).TryAcquireAsync());

        await first.DisposeAsync();
        await fourth.DisposeAsync();
    }

    [Fact]
    public async Task SeveralContenders_NeverHoldMoreThanTheCount_AndTogetherReachIt()
    {
        const int maxCount = 3;
        var name = NewName();
        var holding = 0;
        var most = 0;
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task ContendAsync(OrleansLocksDistributedLockProvider process)
        {
            for (var round = 0; round < 2; round++)
            {
                await using var handle = await process.CreateSemaphore(name, maxCount).AcquireAsync(Timeout.InfiniteTimeSpan);
                var now = Interlocked.Increment(ref holding);
                InterlockedMax(ref most, now);
                if (now == maxCount)
                {
                    reached.TrySetResult();
                }

                // The first maxCount holders stay until all of them hold, which shows the count is reached.
                await reached.Task.WaitAsync(Arrival);
                await Task.Yield();
                Interlocked.Decrement(ref holding);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 7).Select(i => ContendAsync(i % 2 == 0 ? Provider : OtherProcess))).WaitAsync(Arrival * 4);

        Assert.Equal(maxCount, most);
        var info = await Cluster.Grains.GetGrain<ISemaphoreGrain>(Provider.CreateSemaphore(name, maxCount).Id.ToGrainKey()).GetInfo();
        Assert.True(info.IsFree);
    }

    [Fact]
    public async Task AVeryLargeCount_Works_AndEveryHolderHasItsOwnFencingToken()
    {
        var name = NewName();
        var semaphore = Provider.CreateSemaphore(name, int.MaxValue);
        var handles = new List<IDistributedSynchronizationHandle>();
        for (var i = 0; i < 100; i++)
        {
            var handle = await semaphore.TryAcquireAsync();
            Assert.NotNull(handle);
            handles.Add(handle);
        }

        Assert.Equal(100, handles.Select(h => h.GetFencingToken()).Distinct().Count());
        var info = await Cluster.Grains.GetGrain<ISemaphoreGrain>(semaphore.Id.ToGrainKey()).GetInfo();
        Assert.Equal(int.MaxValue, info.MaxCount);
        Assert.Equal(100, info.Holders.Count);

        foreach (var handle in handles)
        {
            await handle.DisposeAsync();
        }

        Assert.True((await Cluster.Grains.GetGrain<ISemaphoreGrain>(semaphore.Id.ToGrainKey()).GetInfo()).IsFree);
    }

    [Fact]
    public async Task AnotherCountForAHeldSemaphore_IsAnError_NotATakenSemaphore()
    {
        var name = NewName();
        await using var held = await Provider.CreateSemaphore(name, 7).AcquireAsync();

        var error = await Assert.ThrowsAnyAsync<ArgumentException>(async () => await OtherProcess.CreateSemaphore(name, 9).TryAcquireAsync());
        Assert.Contains("7", error.Message, StringComparison.Ordinal);
        Assert.Contains("9", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheMultiSemaphoreHelpers_TakeEverySemaphore_AndTheCompositeHandleReleasesThemAll()
    {
        IDistributedSemaphoreProvider provider = Provider;
        string[] names = [NewName(), NewName(), NewName()];

        var all = await provider.AcquireAllSemaphoresAsync(names, 1);
        foreach (var name in names)
        {
            Assert.Null(await OtherProcess.CreateSemaphore(name, 1).TryAcquireAsync());
        }

        Assert.Throws<ArgumentException>(() => all.GetFencingToken());
        Assert.Null(await ((IDistributedSemaphoreProvider)OtherProcess).TryAcquireAllSemaphoresAsync(names, 1));
        await all.DisposeAsync();

        using var again = ((IDistributedSemaphoreProvider)OtherProcess).TryAcquireAllSemaphores(names, 1);
        Assert.NotNull(again);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        for (var seen = Volatile.Read(ref target); value > seen; seen = Volatile.Read(ref target))
        {
            if (Interlocked.CompareExchange(ref target, value, seen) == seen)
            {
                return;
            }
        }
    }

    private Task WaitUntilSemaphoreQueuedAsync(string name, int waiting) =>
        Eventually.TrueAsync(
            async () => (await Cluster.Grains.GetGrain<ISemaphoreGrain>(Provider.CreateSemaphore(name, 1).Id.ToGrainKey()).GetInfo()).Waiting == waiting,
            $"{waiting} waiting in line for semaphore {name}");
}
