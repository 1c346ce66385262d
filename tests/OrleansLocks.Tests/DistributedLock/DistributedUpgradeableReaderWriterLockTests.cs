using Medallion.Threading;
using OrleansLocks.DistributedLock;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.DistributedLock;

/// <summary>
/// DistributedLock's provider-independent behaviours of an upgradeable reader-writer lock, as our own
/// tests of the adapter against a real cluster on PostgreSQL: one upgradeable reader among many
/// readers, the upgrade waiting for the readers and then holding alone, the argument and state rules
/// of the upgrade forms, and the handle-lost token across an upgrade.
/// </summary>
[Collection(DistributedLockClusterCollection.Name)]
public sealed class DistributedUpgradeableReaderWriterLockTests(DistributedLockClusterFixture fixture) : DistributedLockClusterTests(fixture)
{
    [Fact]
    public async Task ManyReaders_AndOneUpgradeableReader_HoldTogether_ButASecondUpgradeableReaderAndAWriterDoNot()
    {
        var name = NewName();
        IDistributedUpgradeableReaderWriterLockProvider provider = Provider;
        await using var upgradeable = await provider.CreateUpgradeableReaderWriterLock(name).AcquireUpgradeableReadLockAsync();
        await using var reader = await OtherProcess.CreateUpgradeableReaderWriterLock(name).TryAcquireReadLockAsync();
        using var plainReader = OtherProcess.CreateReaderWriterLock(name).AcquireReadLock(TimeSpan.Zero);
        Assert.NotNull(reader);

        Assert.Null(await OtherProcess.CreateUpgradeableReaderWriterLock(name).TryAcquireUpgradeableReadLockAsync());
        Assert.Null(Provider.CreateUpgradeableReaderWriterLock(name).TryAcquireUpgradeableReadLock());
        Assert.Null(await OtherProcess.CreateUpgradeableReaderWriterLock(name).TryAcquireWriteLockAsync());
        Assert.Null(OtherProcess.CreateReaderWriterLock(name).TryAcquireWriteLock());
    }

    [Fact]
    public async Task TheUpgradeableLock_IsTheSameLockAsThePlainReaderWriterLockOfThatName()
    {
        var name = NewName();
        var upgradeable = Provider.CreateUpgradeableReaderWriterLock(name);
        Assert.Equal(Provider.CreateReaderWriterLock(name).Id, upgradeable.Id);
        Assert.Equal(name, upgradeable.Name);

        await using var writer = await OtherProcess.CreateReaderWriterLock(name).AcquireWriteLockAsync();
        Assert.Null(await upgradeable.TryAcquireUpgradeableReadLockAsync());
        Assert.Null(upgradeable.TryAcquireReadLock());
        await Assert.ThrowsAsync<TimeoutException>(async () => await upgradeable.AcquireUpgradeableReadLockAsync(TimeSpan.Zero));
    }

    [Fact]
    public async Task TheUpgrade_WaitsForTheReaders_KeepsNewReadersOut_ThenHoldsAlone_WithANewFencingToken()
    {
        var name = NewName();
        var upgradeable = await Provider.CreateUpgradeableReaderWriterLock(name).AcquireUpgradeableReadLockAsync();
        var readToken = upgradeable.GetFencingToken();
        var reader = await OtherProcess.CreateReaderWriterLock(name).AcquireReadLockAsync();

        var upgrade = upgradeable.UpgradeToWriteLockAsync().AsTask();
        await Eventually.TrueAsync(
            async () => (await Cluster.Grains.GetGrain<IReadWriteLockGrain>(Provider.CreateReaderWriterLock(name).Id.ToGrainKey()).GetInfo()).UpgradeWaiting,
            "the upgrade waits for the reader");
        Assert.Null(await OtherProcess.CreateReaderWriterLock(name).TryAcquireReadLockAsync());
        Assert.False(upgrade.IsCompleted);

        await reader.DisposeAsync();
        await upgrade.WaitAsync(Arrival);
        Assert.True(upgradeable.GetFencingToken() > readToken);
        Assert.True(upgradeable.GetFencingToken() > reader.GetFencingToken());
        Assert.True(await upgradeable.IsStillValidAsync());

        Assert.Null(await OtherProcess.CreateReaderWriterLock(name).TryAcquireReadLockAsync());
        Assert.Null(await OtherProcess.CreateUpgradeableReaderWriterLock(name).TryAcquireUpgradeableReadLockAsync());
        Assert.Null(await OtherProcess.CreateReaderWriterLock(name).TryAcquireWriteLockAsync());

        // Disposing the upgraded handle frees everything it held.
        await upgradeable.DisposeAsync();
        await using var next = await OtherProcess.CreateReaderWriterLock(name).TryAcquireWriteLockAsync();
        Assert.NotNull(next);
        Assert.True(next.GetFencingToken() > upgradeable.GetFencingToken());
    }

    [Fact]
    public async Task AnUpgradeThatTimesOut_AnswersFalseOrThrowsTimeout_AndTheHoldStaysTheUpgradeableRead()
    {
        var name = NewName();
        await using var upgradeable = await Provider.CreateUpgradeableReaderWriterLock(name).AcquireUpgradeableReadLockAsync();
        var reader = await OtherProcess.CreateReaderWriterLock(name).AcquireReadLockAsync();

        Assert.False(await upgradeable.TryUpgradeToWriteLockAsync());
        Assert.False(upgradeable.TryUpgradeToWriteLock(TimeSpan.Zero));
        await Assert.ThrowsAsync<TimeoutException>(async () => await upgradeable.UpgradeToWriteLockAsync(TimeSpan.Zero));
        Assert.Throws<TimeoutException>(() => upgradeable.UpgradeToWriteLock(TimeSpan.Zero));

        // Still the upgradeable read: readers come in, a writer does not, and the upgrade works once they leave.
        await using (var another = await OtherProcess.CreateReaderWriterLock(name).TryAcquireReadLockAsync())
        {
            Assert.NotNull(another);
        }

        Assert.Null(await OtherProcess.CreateReaderWriterLock(name).TryAcquireWriteLockAsync());
        await reader.DisposeAsync();
        Assert.True(await upgradeable.TryUpgradeToWriteLockAsync());
    }

    [Fact]
    public async Task BadArguments_AreRefusedByTheCallItself_NotByTheTask()
    {
        var rw = Provider.CreateUpgradeableReaderWriterLock(NewName());
        var negative = TimeSpan.FromMilliseconds(-2);
        var tooLong = TimeSpan.FromDays(50);
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = rw.TryAcquireUpgradeableReadLockAsync(negative); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = rw.AcquireUpgradeableReadLockAsync(tooLong); });
        Assert.Throws<ArgumentOutOfRangeException>(() => rw.TryAcquireUpgradeableReadLock(tooLong));
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = rw.AcquireReadLockAsync(negative); });
        Assert.Throws<ArgumentNullException>(() => Provider.CreateUpgradeableReaderWriterLock(null!));

        await using var handle = await rw.AcquireUpgradeableReadLockAsync();
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = handle.TryUpgradeToWriteLockAsync(negative); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = handle.UpgradeToWriteLockAsync(tooLong); });
        Assert.Throws<ArgumentOutOfRangeException>(() => handle.TryUpgradeToWriteLock(TimeSpan.MinValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => handle.UpgradeToWriteLock(negative));

        // The refused calls changed nothing: the handle still upgrades.
        Assert.True(await handle.TryUpgradeToWriteLockAsync());
    }

    [Fact]
    public async Task ASecondUpgrade_IsRefused_AndADisposedHandleRefusesUpgradesAndItsLostToken()
    {
        var name = NewName();
        var handle = await Provider.CreateUpgradeableReaderWriterLock(name).AcquireUpgradeableReadLockAsync();
        await handle.UpgradeToWriteLockAsync();

        Assert.Throws<InvalidOperationException>(() => { _ = handle.UpgradeToWriteLockAsync(); });
        Assert.Throws<InvalidOperationException>(() => handle.TryUpgradeToWriteLock());

        handle.Dispose();
        handle.Dispose();
        Assert.Throws<ObjectDisposedException>(() => { _ = handle.TryUpgradeToWriteLockAsync(); });
        Assert.Throws<ObjectDisposedException>(() => handle.UpgradeToWriteLock());
        Assert.Throws<ObjectDisposedException>(() => handle.HandleLostToken);

        await using var next = await OtherProcess.CreateUpgradeableReaderWriterLock(name).TryAcquireUpgradeableReadLockAsync();
        Assert.NotNull(next);
    }

    [Fact]
    public async Task TheHandleLostToken_CanBeWatchedWhileUpgrading_AndStaysTheSameAcrossTheUpgrade()
    {
        var name = NewName();
        await using var handle = await Provider.CreateUpgradeableReaderWriterLock(name).AcquireUpgradeableReadLockAsync();
        var lost = handle.HandleLostToken;
        Assert.True(lost.CanBeCanceled);
        var reader = await OtherProcess.CreateReaderWriterLock(name).AcquireReadLockAsync();

        var upgrade = handle.UpgradeToWriteLockAsync().AsTask();
        await Eventually.TrueAsync(
            async () => (await Cluster.Grains.GetGrain<IReadWriteLockGrain>(handle.GetLockId().ToGrainKey()).GetInfo()).UpgradeWaiting,
            "the upgrade waits for the reader");
        Assert.Equal(lost, handle.HandleLostToken);
        Assert.False(handle.HandleLostToken.IsCancellationRequested);

        await reader.DisposeAsync();
        await upgrade.WaitAsync(Arrival);
        Assert.Equal(lost, handle.HandleLostToken);
        Assert.False(lost.IsCancellationRequested);
    }
}

/// <summary>Test-only access to the lock id of an upgradeable handle seen through DistributedLock's interface.</summary>
internal static class UpgradeableHandleTestExtensions
{
    public static LockId GetLockId(this IDistributedLockUpgradeableHandle handle) => ((OrleansLocksDistributedLockUpgradeableHandle)handle).Id;
}
