using OrleansLocks.Client;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Client;

/// <summary>
/// Upgradeable reads through the client library: the handle's upgrade waits for the readers without
/// polling, keeps renewing the same lease with its new fencing token, gives the upgrade back when it
/// times out, and refuses what cannot be upgraded at the call. Two silos, a fake clock.
/// </summary>
public abstract class UpgradeableReadScenarioTests(LockCluster cluster) : ClusterScenarioTests(cluster)
{
    [Fact]
    public async Task AnUpgradeableRead_HoldsBesideReaders_ButASecondOneAndAWriterAreRefused()
    {
        var key = NewKey();
        await using var reader = await Locks.TryAcquireReadAsync("name", key);
        await using var upgradeable = await Locks.TryAcquireUpgradeableReadAsync("name", key);

        Assert.NotNull(reader);
        Assert.NotNull(upgradeable);
        Assert.Equal(LockKind.UpgradeableRead, upgradeable.Kind);
        Assert.Null(await Locks.TryAcquireUpgradeableReadAsync("name", key));
        Assert.Null(await Locks.TryAcquireWriteAsync("name", key));
        await using var another = await Locks.TryAcquireReadAsync("name", key);
        Assert.NotNull(another);
    }

    [Fact]
    public async Task AWaitingWriter_IsGrantedOnceTheUpgradeableReadIsReleased()
    {
        var key = NewKey();
        var upgradeable = await Locks.AcquireUpgradeableReadAsync("name", key, TimeSpan.Zero);
        var writer = Locks.AcquireWriteAsync("name", key).AsTask();
        await Eventually.TrueAsync(async () => (await Info(key)).WaitingWriters == 1, "the writer waits");

        await upgradeable.ReleaseAsync();

        await using var w = await writer.WaitAsync(Arrival);
        Assert.True(w.FencingToken > upgradeable.FencingToken);
    }

    [Fact]
    public async Task UpgradeToWrite_WaitsForTheReadersToLeave_ThenHoldsTheWriteWithANewFencingTokenAndKeepsRenewingIt()
    {
        var key = NewKey();
        var reader = await Locks.TryAcquireReadAsync("name", key);
        await using var handle = await Locks.TryAcquireUpgradeableReadAsync("name", key);
        Assert.NotNull(reader);
        Assert.NotNull(handle);
        var readFencingToken = handle.FencingToken;

        var upgrade = handle.UpgradeToWriteAsync().AsTask();
        await Eventually.TrueAsync(async () => (await Info(key)).UpgradeWaiting, "the upgrade waits");
        Assert.Null(await Locks.TryAcquireReadAsync("name", key));
        Assert.False(upgrade.IsCompleted);

        await reader.ReleaseAsync();
        await upgrade.WaitAsync(Arrival);

        Assert.Equal(LockKind.Write, handle.Kind);
        Assert.True(handle.FencingToken > readFencingToken);
        Assert.Equal(handle.FencingToken, (await Info(key)).Writer?.FencingToken);
        for (var step = 0; step < 6; step++)
        {
            var before = handle.ExpiresAt;
            Cluster.Advance(R);
            await Eventually.TrueAsync(() => handle.ExpiresAt > before, "the upgraded hold renewed");
        }

        Assert.True(await handle.IsStillValidAsync());
        Assert.Equal(handle.FencingToken, (await Info(key)).Writer?.FencingToken);
        Assert.Null(await Locks.TryAcquireReadAsync("name", key));
        Assert.Null(await Locks.TryAcquireWriteAsync("name", key));
    }

    [Fact]
    public async Task TryUpgradeToWrite_WithoutOtherReaders_UpgradesAtOnce_AndReleaseFreesTheLock()
    {
        var key = NewKey();
        var handle = await Locks.TryAcquireUpgradeableReadAsync("name", key);
        Assert.NotNull(handle);

        Assert.True(await handle.TryUpgradeToWriteAsync());

        Assert.Equal(LockKind.Write, handle.Kind);
        await handle.ReleaseAsync();
        Assert.True((await Info(key)).IsFree);
        await using var next = await Locks.TryAcquireWriteAsync("name", key);
        Assert.NotNull(next);
        Assert.True(next.FencingToken > handle.FencingToken);
    }

    [Fact]
    public async Task TryUpgradeToWrite_TriedOnceWhileAReaderHolds_ReturnsFalse_AndTheHoldStaysTheUpgradeableRead()
    {
        var key = NewKey();
        await using var reader = await Locks.TryAcquireReadAsync("name", key);
        await using var handle = await Locks.TryAcquireUpgradeableReadAsync("name", key);
        Assert.NotNull(handle);
        var readFencingToken = handle.FencingToken;

        Assert.False(await handle.TryUpgradeToWriteAsync(TimeSpan.Zero));

        Assert.Equal(LockKind.UpgradeableRead, handle.Kind);
        Assert.Equal(readFencingToken, handle.FencingToken);
        await using var another = await Locks.TryAcquireReadAsync("name", key);
        Assert.NotNull(another);
    }

    [Fact]
    public async Task AnUpgradeThatTimesOut_LeavesTheUpgradeableReadHeld_AndReadersComeInAgain()
    {
        var key = NewKey();
        await using var reader = await Locks.TryAcquireReadAsync("name", key);
        await using var handle = await Locks.TryAcquireUpgradeableReadAsync("name", key);
        Assert.NotNull(handle);

        var upgrade = handle.TryUpgradeToWriteAsync(TimeSpan.FromSeconds(10)).AsTask();
        await Eventually.TrueAsync(async () => (await Info(key)).UpgradeWaiting, "the upgrade waits");
        Cluster.Advance(TimeSpan.FromSeconds(11));

        Assert.False(await upgrade.WaitAsync(Arrival));
        Assert.Equal(LockKind.UpgradeableRead, handle.Kind);
        Assert.True(await handle.IsStillValidAsync());
        var info = await Info(key);
        Assert.False(info.UpgradeWaiting);
        Assert.Equal(handle.FencingToken, info.UpgradeableReader?.FencingToken);
        await using var late = await Locks.TryAcquireReadAsync("name", key);
        Assert.NotNull(late);

        // It may try again later, and the second try is granted once the readers are gone.
        await reader!.ReleaseAsync();
        await late.ReleaseAsync();
        Assert.True(await handle.TryUpgradeToWriteAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(LockKind.Write, handle.Kind);
    }

    [Fact]
    public async Task UpgradeToWriteAsync_ThrowsTimeoutException_WhenTheReadersStay()
    {
        var key = NewKey();
        await using var reader = await Locks.TryAcquireReadAsync("name", key);
        await using var handle = await Locks.TryAcquireUpgradeableReadAsync("name", key);
        Assert.NotNull(handle);

        var upgrade = handle.UpgradeToWriteAsync(TimeSpan.FromSeconds(10)).AsTask();
        await Eventually.TrueAsync(async () => (await Info(key)).UpgradeWaiting, "the upgrade waits");
        Cluster.Advance(TimeSpan.FromSeconds(11));

        var error = await Assert.ThrowsAsync<TimeoutException>(() => upgrade.WaitAsync(Arrival));
        Assert.Contains("still holds the upgradeable read", error.Message);
        Assert.Equal(LockKind.UpgradeableRead, handle.Kind);
    }

    [Fact]
    public async Task ACancelledUpgrade_ThrowsOperationCanceled_AndLeavesTheUpgradeableReadHeld()
    {
        var key = NewKey();
        await using var reader = await Locks.TryAcquireReadAsync("name", key);
        await using var handle = await Locks.TryAcquireUpgradeableReadAsync("name", key);
        Assert.NotNull(handle);
        using var cancel = new CancellationTokenSource();

        var upgrade = handle.UpgradeToWriteAsync(cancellationToken: cancel.Token).AsTask();
        await Eventually.TrueAsync(async () => (await Info(key)).UpgradeWaiting, "the upgrade waits");
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => upgrade.WaitAsync(Arrival));
        Assert.Equal(LockKind.UpgradeableRead, handle.Kind);
        Assert.False((await Info(key)).UpgradeWaiting);
        await using var late = await Locks.TryAcquireReadAsync("name", key);
        Assert.NotNull(late);
    }

    [Fact]
    public async Task AWaitingWriter_DoesNotDeadlockAnUpgrade()
    {
        var key = NewKey();
        var reader = await Locks.TryAcquireReadAsync("name", key);
        await using var handle = await Locks.TryAcquireUpgradeableReadAsync("name", key);
        Assert.NotNull(reader);
        Assert.NotNull(handle);
        var writer = Locks.AcquireWriteAsync("name", key).AsTask();
        await Eventually.TrueAsync(async () => (await Info(key)).WaitingWriters == 1, "the writer waits");

        var upgrade = handle.UpgradeToWriteAsync().AsTask();
        await Eventually.TrueAsync(async () => (await Info(key)).UpgradeWaiting, "the upgrade waits");
        await reader.ReleaseAsync();

        await upgrade.WaitAsync(Arrival);
        Assert.False(writer.IsCompleted);
        await handle.ReleaseAsync();
        await using var w = await writer.WaitAsync(Arrival);
        Assert.True(w.FencingToken > handle.FencingToken);
    }

    [Fact]
    public async Task Upgrading_AHandleThatIsNotAnUpgradeableRead_IsRefusedByTheCallItself()
    {
        var key = NewKey();
        await using var reader = await Locks.TryAcquireReadAsync("name", key);
        Assert.NotNull(reader);

        var error = Assert.Throws<InvalidOperationException>(() => { _ = reader.UpgradeToWriteAsync(); });
        Assert.Contains("Only an upgradeable read hold can be upgraded", error.Message);
        Assert.Throws<InvalidOperationException>(() => { _ = reader.TryUpgradeToWriteAsync(); });

        await reader.ReleaseAsync();
        await using var upgradeable = await Locks.TryAcquireUpgradeableReadAsync("name", key);
        Assert.NotNull(upgradeable);
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = upgradeable.TryUpgradeToWriteAsync(TimeSpan.FromSeconds(-2)); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = upgradeable.UpgradeToWriteAsync(TimeSpan.FromDays(50)); });
        Assert.True(await upgradeable.TryUpgradeToWriteAsync());

        // Upgraded already.
        Assert.Throws<InvalidOperationException>(() => { _ = upgradeable.TryUpgradeToWriteAsync(); });
        await upgradeable.ReleaseAsync();
        Assert.Throws<InvalidOperationException>(() => { _ = upgradeable.UpgradeToWriteAsync(); });
    }

    [Fact]
    public async Task Upgrading_AReleasedUpgradeableRead_IsRefusedByTheCallItself()
    {
        var handle = await Locks.TryAcquireUpgradeableReadAsync("name", NewKey());
        Assert.NotNull(handle);
        await handle.ReleaseAsync();

        var error = Assert.Throws<InvalidOperationException>(() => { _ = handle.UpgradeToWriteAsync(); });
        Assert.Contains("released", error.Message);
    }

    [Fact]
    public async Task AMultiLock_CanTakeAnUpgradeableRead()
    {
        var (key1, key2) = (NewKey(), NewKey());
        await using var all = await Locks.TryAcquireAllAsync([LockRequest.UpgradeableRead("name", key1), LockRequest.Read("name", key2)]);
        Assert.NotNull(all);
        Assert.Contains(all.Parts, p => p.Kind == LockKind.UpgradeableRead);

        Assert.Null(await Locks.TryAcquireUpgradeableReadAsync("name", key1));
        await using var reader = await Locks.TryAcquireReadAsync("name", key1);
        Assert.NotNull(reader);
        Assert.Throws<ArgumentException>(() => LockRequest.InCanonicalOrder([LockRequest.UpgradeableRead("name", key1), LockRequest.Write("name", key1)]));
    }

    private Task<ReadWriteLockInfo> Info(string key) =>
        Cluster.Grains.GetGrain<IReadWriteLockGrain>(LockId.Create("name", key).ToGrainKey()).GetInfo();
}

[Collection(MemoryClusterCollection.Name)]
public sealed class UpgradeableReadScenarioTests_Memory(MemoryClusterFixture fixture) : UpgradeableReadScenarioTests(fixture.Cluster);

[Collection(PostgresClusterCollection.Name)]
public sealed class UpgradeableReadScenarioTests_Postgres(PostgresClusterFixture fixture) : UpgradeableReadScenarioTests(fixture.Cluster);

[Collection(PostgresAdoNetProviderClusterCollection.Name)]
public sealed class UpgradeableReadScenarioTests_PostgresAdoNetProvider(PostgresAdoNetProviderClusterFixture fixture) : UpgradeableReadScenarioTests(fixture.Cluster);
