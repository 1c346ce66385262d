using Medallion.Threading;
using OrleansLocks.DistributedLock;

namespace OrleansLocks.Tests.DistributedLock;

/// <summary>
/// DistributedLock's provider-independent behaviours of a lock (its core test cases), as our own
/// tests of the adapter against a real cluster on PostgreSQL: not reentrant, timeouts (zero, positive,
/// infinite), cancellation, sync and async forms, names, idempotent dispose, fencing tokens.
/// </summary>
[Collection(DistributedLockClusterCollection.Name)]
public sealed class DistributedLockCoreTests(DistributedLockClusterFixture fixture) : DistributedLockClusterTests(fixture)
{
    [Fact]
    public async Task TryAcquireAsync_OnAFreeName_Succeeds_IsNotReentrant_AndCanBeTakenAgainAfterDispose()
    {
        var provider = Provider;
        var name = NewName();

        await using (var handle = await provider.CreateLock(name).TryAcquireAsync())
        {
            Assert.NotNull(handle);

            // Not reentrant: the same process (even the same lock object) is refused like anyone else.
            Assert.Null(await provider.CreateLock(name).TryAcquireAsync());
            await using var other = await provider.CreateLock(name + "-other").TryAcquireAsync();
            Assert.NotNull(other);
        }

        await using var again = await provider.CreateLock(name).TryAcquireAsync();
        Assert.NotNull(again);
    }

    [Fact]
    public void TheSyncForms_Acquire_Exclude_AndRelease_LikeTheAsyncOnes()
    {
        var provider = Provider;
        var name = NewName();

        using (var handle = provider.CreateLock(name).Acquire())
        {
            Assert.Null(provider.CreateLock(name).TryAcquire());
            Assert.Throws<TimeoutException>(() => provider.CreateLock(name).Acquire(TimeSpan.Zero));
            using var other = provider.CreateLock(name + "-other").TryAcquire();
            Assert.NotNull(other);
        }

        using var again = provider.CreateLock(name).TryAcquire();
        Assert.NotNull(again);
    }

    [Theory]
    [InlineData(-2.0)]
    [InlineData(int.MaxValue)]
    [InlineData(50 * 24 * 3600.0)]
    public void ABadTimeout_IsRefusedByTheCallItself_WithAMessageNamingTheRule(double seconds)
    {
        var timeout = TimeSpan.FromSeconds(seconds);
        var @lock = Provider.CreateLock(NewName());

        // Each call throws before it returns a task: nothing is awaited here.
        AssertRefused(() => @lock.Acquire(timeout));
        AssertRefused(() => @lock.TryAcquire(timeout));
        AssertRefused(() => _ = @lock.AcquireAsync(timeout));
        AssertRefused(() => _ = @lock.TryAcquireAsync(timeout));

        static void AssertRefused(Action call)
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(call);
            Assert.Equal("timeout", error.ParamName);
            Assert.Contains("49 days", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ANullName_IsRefusedWhenTheLockIsCreated()
    {
        Assert.Throws<ArgumentNullException>(() => Provider.CreateLock(null!));
        Assert.Throws<ArgumentNullException>(() => ((IDistributedLockProvider)Provider).CreateLock(null!));
        Assert.Throws<ArgumentNullException>(() => Provider.CreateReaderWriterLock(null!));
    }

    [Fact]
    public async Task Dispose_IsIdempotent_InBothForms_AndFreesTheLock()
    {
        var name = NewName();
        var handle = await Provider.CreateLock(name).AcquireAsync();
        handle.Dispose();
        handle.Dispose();
        await handle.DisposeAsync();

        var next = await Provider.CreateLock(name).AcquireAsync(TimeSpan.Zero);
        await next.DisposeAsync();
        await next.DisposeAsync();
        next.Dispose();
        await using var last = await OtherProcess.CreateLock(name).TryAcquireAsync();
        Assert.NotNull(last);
    }

    [Fact]
    public async Task ZeroTimeout_TriesOnce_TryAnswersNull_AndAcquireThrowsTimeoutException()
    {
        var name = NewName();
        await using var held = await OtherProcess.CreateLock(name).AcquireAsync();
        var @lock = Provider.CreateLock(name);

        Assert.Null(await @lock.TryAcquireAsync(TimeSpan.Zero));
        await Assert.ThrowsAsync<TimeoutException>(async () => await @lock.AcquireAsync(TimeSpan.Zero));
        Assert.Null(@lock.TryAcquire(TimeSpan.Zero));
        Assert.Throws<TimeoutException>(() => @lock.Acquire(TimeSpan.Zero));
    }

    [Fact]
    public async Task APositiveTimeoutThatPasses_MakesTryAnswerNull_AndAcquireThrowTimeoutException_InBothForms()
    {
        var name = NewName();
        await using var held = await OtherProcess.CreateLock(name).AcquireAsync();
        var @lock = Provider.CreateLock(name);
        var timeout = TimeSpan.FromSeconds(3);

        Assert.Null(await AfterTheTimeoutAsync(() => @lock.TryAcquireAsync(timeout).AsTask()));
        await Assert.ThrowsAsync<TimeoutException>(() => AfterTheTimeoutAsync(() => @lock.AcquireAsync(timeout).AsTask()));
        Assert.Null(await AfterTheTimeoutAsync(() => Task.Run(() => @lock.TryAcquire(timeout))));
        await Assert.ThrowsAsync<TimeoutException>(() => AfterTheTimeoutAsync(() => Task.Run(() => @lock.Acquire(timeout))));

        // The holder was never disturbed, and nobody is left in line.
        Assert.True(await held.IsStillValidAsync());
        await WaitUntilQueuedAsync(@lock, 0);

        async Task<T> AfterTheTimeoutAsync<T>(Func<Task<T>> start)
        {
            // The previous waiter has left the line, so the one counted next is this one.
            await WaitUntilQueuedAsync(@lock, 0);
            var waiting = start();
            await WaitUntilQueuedAsync(@lock, 1);
            Assert.False(waiting.IsCompleted);

            // The waiter's deadline runs on this process's clock; the holder renews on the silos'.
            Cluster.ClientClock.Advance(timeout);
            var answer = await waiting.WaitAsync(Arrival);
            await StepSiloAsync(timeout, held);
            return answer;
        }
    }

    [Fact]
    public async Task APositiveTimeout_OnAFreeLock_SucceedsAtOnce_AndAWaiterWithAnInfiniteTimeout_GetsTheLockAtTheRelease()
    {
        var name = NewName();
        var first = await Provider.CreateLock(name).TryAcquireAsync(TimeSpan.FromSeconds(30));
        Assert.NotNull(first);

        var forEver = OtherProcess.CreateLock(name).TryAcquireAsync(Timeout.InfiniteTimeSpan).AsTask();
        await WaitUntilQueuedAsync(Provider.CreateLock(name), 1);
        var withNull = Task.Run(() => Provider.CreateLock(name).Acquire(timeout: null));
        await WaitUntilQueuedAsync(Provider.CreateLock(name), 2);

        // No clock moves: the release itself hands the lock on, first come first served.
        await first.DisposeAsync();
        var second = await forEver.WaitAsync(Arrival);
        Assert.NotNull(second);
        Assert.True(second.GetFencingToken() > first.GetFencingToken());
        Assert.False(withNull.IsCompleted);

        await second.DisposeAsync();
        using var third = await withNull.WaitAsync(Arrival);
        Assert.True(third.GetFencingToken() > second.GetFencingToken());
    }

    [Fact]
    public async Task CancellingAWait_CancelsIt_AndLeavesNothingQueued()
    {
        var name = NewName();
        await using var held = await OtherProcess.CreateLock(name).AcquireAsync();
        var @lock = Provider.CreateLock(name);
        using var cancel = new CancellationTokenSource();

        var waiting = @lock.AcquireAsync(cancellationToken: cancel.Token).AsTask();
        await WaitUntilQueuedAsync(@lock, 1);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Arrival));
        await WaitUntilQueuedAsync(@lock, 0);
        Assert.True(await held.IsStillValidAsync());
    }

    [Fact]
    public async Task AnAlreadyCancelledToken_ThrowsFromTheSyncForms_AndCancelsTheTaskOfTheAsyncForms()
    {
        var @lock = Provider.CreateLock(NewName());
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        Assert.ThrowsAny<OperationCanceledException>(() => @lock.Acquire(cancellationToken: cancelled.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => @lock.TryAcquire(cancellationToken: cancelled.Token));

        var acquire = @lock.AcquireAsync(cancellationToken: cancelled.Token).AsTask();
        var tryAcquire = @lock.TryAcquireAsync(TimeSpan.FromSeconds(5), cancelled.Token).AsTask();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => acquire);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => tryAcquire);
        Assert.True(acquire.IsCanceled);
        Assert.True(tryAcquire.IsCanceled);

        // Nothing was taken.
        await using var free = await OtherProcess.CreateLock(@lock.Name).TryAcquireAsync();
        Assert.NotNull(free);
    }

    [Fact]
    public async Task LockNames_AreCaseSensitive_ShortAndLong()
    {
        var baseName = NewName();
        var longBase = baseName + new string('x', 2000);
        string[] names = [baseName.ToUpperInvariant(), baseName.ToLowerInvariant(), longBase.ToUpperInvariant(), longBase.ToLowerInvariant()];

        var handles = new List<IDistributedSynchronizationHandle>();
        foreach (var name in names)
        {
            handles.Add(await Provider.CreateLock(name).TryAcquireAsync() ?? throw new Xunit.Sdk.XunitException($"'{name[..40]}…' was taken by a differently cased name"));
        }

        Assert.Equal(4, handles.Select(h => ((OrleansLocksDistributedLockHandle)h).Id).Distinct().Count());
        foreach (var handle in handles)
        {
            await handle.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("with:colon/slash\\backslash and spaces")]
    [InlineData("tab\tnew\nline")]
    [InlineData("emoji 🔒 and ünïcödé")]
    [InlineData("nul\0inside")]
    [InlineData("looks hashed#sha256:0000")]
    public async Task AnyName_IsALock_ThatExcludesOthersOfTheSameName(string suffix)
    {
        var name = suffix.Length == 0 ? suffix : NewName() + suffix;
        await AssertExcludesAsync(name);
    }

    [Fact]
    public async Task ANameWithAnUnpairedSurrogate_IsALock_ThatExcludesOthersOfTheSameName() =>
        await AssertExcludesAsync(NewName() + "lone " + (char)0xD800 + " surrogate");

    [Fact]
    public async Task ANameFarOverTheKeyLimit_IsALock_ThatExcludesOthersOfTheSameName() =>
        await AssertExcludesAsync(NewName() + new string('n', 5000));

    [Fact]
    public async Task TheHandle_GivesItsFencingToken_WhichGrowsWithEveryGrant_AndIsStillValidAsync()
    {
        var @lock = Provider.CreateLock(NewName());
        long first;
        await using (var handle = await @lock.AcquireAsync())
        {
            var ours = Assert.IsType<OrleansLocksDistributedLockHandle>(handle);
            first = handle.GetFencingToken();
            Assert.Equal(ours.FencingToken, first);
            Assert.Equal(ours.LockHandle.FencingToken, first);
            Assert.Equal(@lock.Id, ours.Id);
            Assert.True(await handle.IsStillValidAsync());
        }

        var next = await OtherProcess.CreateLock(@lock.Name).AcquireAsync();
        Assert.True(next.GetFencingToken() > first);
        await next.DisposeAsync();
        Assert.False(await next.IsStillValidAsync());
    }

    [Fact]
    public async Task ManyContenders_InSyncAndAsyncForms_FromTwoProcesses_NeverHoldTheLockTogether()
    {
        var name = NewName();
        var inside = 0;
        var mostInside = 0;
        var entries = 0;

        var contenders = Enumerable.Range(0, 6).Select(i => Task.Run(async () =>
        {
            var provider = i % 2 == 0 ? Provider : OtherProcess;
            for (var round = 0; round < 3; round++)
            {
                if (i % 3 == 0)
                {
                    using var handle = provider.AcquireLock(name);
                    await CriticalSectionAsync();
                }
                else
                {
                    await using var handle = await provider.AcquireLockAsync(name);
                    await CriticalSectionAsync();
                }
            }
        }));
        await Task.WhenAll(contenders).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(18, entries);
        Assert.Equal(1, mostInside);

        async Task CriticalSectionAsync()
        {
            var now = Interlocked.Increment(ref inside);
            InterlockedMax(ref mostInside, now);
            Interlocked.Increment(ref entries);
            await Task.Yield();
            Interlocked.Decrement(ref inside);
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    private async Task AssertExcludesAsync(string name)
    {
        await using var handle = await Provider.CreateLock(name).TryAcquireAsync();
        Assert.NotNull(handle);
        Assert.Null(await OtherProcess.CreateLock(name).TryAcquireAsync());
        Assert.Null(await Provider.CreateLock(name).TryAcquireAsync());
        Assert.Equal(OrleansLocksDistributedLockProvider.GetKey(name), ((OrleansLocksDistributedLockHandle)handle).Id.Key);
    }
}
