using Medallion.Threading;
using OrleansLocks.DistributedLock;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.DistributedLock;

/// <summary>
/// DistributedLock's provider-independent behaviours of a reader-writer lock, as our own tests of
/// the adapter against a real cluster on PostgreSQL: many readers or one writer, a waiting writer
/// keeps new readers out, the timeouts and argument rules of every form.
/// </summary>
[Collection(DistributedLockClusterCollection.Name)]
public sealed class DistributedReaderWriterLockTests(DistributedLockClusterFixture fixture) : DistributedLockClusterTests(fixture)
{
    [Fact]
    public async Task ManyReaders_HoldTogether_AndKeepTheWriterOut_UntilTheLastLeaves()
    {
        var name = NewName();
        var first = await Provider.CreateReaderWriterLock(name).AcquireReadLockAsync();
        using var second = OtherProcess.CreateReaderWriterLock(name).AcquireReadLock(TimeSpan.Zero);
        var third = await Provider.CreateReaderWriterLock(name).TryAcquireReadLockAsync();
        Assert.NotNull(third);

        Assert.Null(await OtherProcess.CreateReaderWriterLock(name).TryAcquireWriteLockAsync());
        Assert.Null(Provider.CreateReaderWriterLock(name).TryAcquireWriteLock());

        await first.DisposeAsync();
        await third.DisposeAsync();
        Assert.Null(await OtherProcess.CreateReaderWriterLock(name).TryAcquireWriteLockAsync());
        second.Dispose();

        await using var writer = await OtherProcess.CreateReaderWriterLock(name).TryAcquireWriteLockAsync();
        Assert.NotNull(writer);
        Assert.Null(await Provider.CreateReaderWriterLock(name).TryAcquireReadLockAsync());
        Assert.Null(Provider.CreateReaderWriterLock(name).TryAcquireWriteLock());
    }

    [Fact]
    public async Task AWaitingWriter_KeepsNewReadersOut_AndGetsTheLockWhenTheReaderLeaves()
    {
        var name = NewName();
        var reader = await Provider.CreateReaderWriterLock(name).AcquireReadLockAsync();
        var rw = OtherProcess.CreateReaderWriterLock(name);
        var writer = rw.AcquireWriteLockAsync().AsTask();
        await WaitUntilWritersQueuedAsync(rw, 1);

        Assert.Null(await Provider.CreateReaderWriterLock(name).TryAcquireReadLockAsync());
        Assert.False(writer.IsCompleted);

        await reader.DisposeAsync();
        await using var written = await writer.WaitAsync(Arrival);
        Assert.True(written.GetFencingToken() > reader.GetFencingToken());
    }

    [Fact]
    public async Task AReader_CannotAlsoTakeTheWriteHold_ItIsNotReentrantNorUpgradeable()
    {
        var rw = Provider.CreateReaderWriterLock(NewName());
        await using var reader = await rw.AcquireReadLockAsync();
        Assert.Null(await rw.TryAcquireWriteLockAsync());
        await Assert.ThrowsAsync<TimeoutException>(async () => await rw.AcquireWriteLockAsync(TimeSpan.Zero));
    }

    [Fact]
    public async Task AReaderWriterLock_AndAPlainLock_OfTheSameName_AreDifferentLocks()
    {
        var name = NewName();
        await using var plain = await Provider.CreateLock(name).TryAcquireAsync();
        await using var write = await Provider.CreateReaderWriterLock(name).TryAcquireWriteLockAsync();
        Assert.NotNull(plain);
        Assert.NotNull(write);
        Assert.Equal(((OrleansLocksDistributedLockHandle)plain).Id.Key, ((OrleansLocksDistributedLockHandle)write).Id.Key);
        Assert.NotEqual(((OrleansLocksDistributedLockHandle)plain).Id.Name, ((OrleansLocksDistributedLockHandle)write).Id.Name);
    }

    [Fact]
    public async Task APositiveTimeoutThatPasses_MakesTheTryFormsAnswerNull_AndTheAcquireFormsThrow()
    {
        var name = NewName();
        await using var writer = await OtherProcess.CreateReaderWriterLock(name).AcquireWriteLockAsync();
        var rw = Provider.CreateReaderWriterLock(name);
        var timeout = TimeSpan.FromSeconds(2);

        var tryRead = rw.TryAcquireReadLockAsync(timeout).AsTask();
        var read = Task.Run(() => rw.AcquireReadLock(timeout));
        await Eventually.TrueAsync(
            async () => (await Cluster.Grains.GetGrain<IReadWriteLockGrain>(rw.Id.ToGrainKey()).GetInfo()).WaitingReaders == 2,
            "two readers waiting");

        Cluster.ClientClock.Advance(timeout);

        Assert.Null(await tryRead.WaitAsync(Arrival));
        await Assert.ThrowsAsync<TimeoutException>(() => read.WaitAsync(Arrival));
        await StepSiloAsync(timeout, writer);
        Assert.True(await writer.IsStillValidAsync());
    }

    [Theory]
    [InlineData(-2.0)]
    [InlineData(int.MaxValue)]
    public void ABadTimeout_IsRefusedByEveryReaderWriterCallItself(double seconds)
    {
        var timeout = TimeSpan.FromSeconds(seconds);
        var rw = Provider.CreateReaderWriterLock(NewName());
        Action[] calls =
        [
            () => rw.AcquireReadLock(timeout),
            () => rw.TryAcquireReadLock(timeout),
            () => _ = rw.AcquireReadLockAsync(timeout),
            () => _ = rw.TryAcquireReadLockAsync(timeout),
            () => rw.AcquireWriteLock(timeout),
            () => rw.TryAcquireWriteLock(timeout),
            () => _ = rw.AcquireWriteLockAsync(timeout),
            () => _ = rw.TryAcquireWriteLockAsync(timeout),
        ];

        Assert.All(calls, call => Assert.Contains("49 days", Assert.Throws<ArgumentOutOfRangeException>(call).Message, StringComparison.Ordinal));
    }
}
