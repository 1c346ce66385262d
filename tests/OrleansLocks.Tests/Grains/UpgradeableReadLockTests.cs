using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using OrleansLocks.Grains;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Grains;

/// <summary>
/// The upgradeable read hold of IReadWriteLockGrain, called on the grain directly: one upgradeable
/// reader beside ordinary readers, its upgrade to write (first in line, new readers kept out, a new
/// fencing token), giving an upgrade back, and what is stored. Run on each storage.
/// </summary>
public abstract class UpgradeableReadLockTests(LockCluster cluster)
{
    /// <summary>Real time allowed for a woken waiter's answer to arrive; nothing in the lock waits on it.</summary>
    private static readonly TimeSpan Arrival = TimeSpan.FromSeconds(10);

    protected LockCluster Cluster { get; } = cluster;

    [Fact]
    public async Task AnUpgradeableRead_HoldsBesideReaders_AndShowsInTheInfo()
    {
        var grain = NewLock(out _);
        var reader = await grain.TryAcquireRead("reader");
        var upgradeable = await grain.TryAcquireUpgradeableRead("upgrader");
        var another = await grain.TryAcquireRead("late-reader");

        Assert.NotNull(reader);
        Assert.NotNull(upgradeable);
        Assert.NotNull(another);
        var info = await grain.GetInfo();
        Assert.Equal(3, info.Readers.Count);
        Assert.Equal("upgrader", info.UpgradeableReader?.Owner);
        Assert.Equal(upgradeable.FencingToken, info.UpgradeableReader?.FencingToken);
        Assert.False(info.UpgradeWaiting);
    }

    [Fact]
    public async Task ASecondUpgradeableRead_IsRefused_UntilTheFirstIsReleased()
    {
        var grain = NewLock(out _);
        var first = await grain.TryAcquireUpgradeableRead("first");
        Assert.NotNull(first);

        Assert.Null(await grain.TryAcquireUpgradeableRead("second"));

        Assert.True(await grain.Release(first.Token));
        Assert.NotNull(await grain.TryAcquireUpgradeableRead("second"));
    }

    [Fact]
    public async Task AWriter_IsRefusedWhileAnUpgradeableReadHolds_AndAWaitingWriterGetsTheLockWhenItLeaves()
    {
        var grain = NewLock(out _);
        var upgradeable = await grain.TryAcquireUpgradeableRead("upgrader");
        Assert.NotNull(upgradeable);
        Assert.Null(await grain.TryAcquireWrite("writer"));

        var writer = WaitUntilGrantedAsync(grain, "writer-wait", LockKind.Write);
        await Eventually.TrueAsync(async () => (await grain.GetInfo()).WaitingWriters == 1, "the writer waits");
        Assert.Null(await grain.TryAcquireUpgradeableRead("another"));

        Assert.True(await grain.Release(upgradeable.Token));
        var granted = await writer.WaitAsync(Arrival);
        Assert.True(granted.FencingToken > upgradeable.FencingToken);
    }

    [Fact]
    public async Task AnUpgradeableRead_CanBeWaitedFor_BehindAnotherOne()
    {
        var grain = NewLock(out _);
        var first = await grain.TryAcquireUpgradeableRead("first");
        Assert.NotNull(first);

        var second = WaitUntilGrantedAsync(grain, "second-wait", LockKind.UpgradeableRead);
        await Eventually.TrueAsync(async () => (await grain.GetInfo()).WaitingUpgradeableReaders == 1, "the second upgradeable reader waits");
        Assert.True(await grain.Release(first.Token));

        var granted = await second.WaitAsync(Arrival);
        Assert.Equal(granted.FencingToken, (await grain.GetInfo()).UpgradeableReader?.FencingToken);
    }

    [Fact]
    public async Task TryUpgrade_WithoutOtherReaders_IsGrantedAtOnce_WithTheSameTokenAndANewFencingToken_AndIsStored()
    {
        var grain = NewLock(out var id);
        var upgradeable = await grain.TryAcquireUpgradeableRead("upgrader");
        Assert.NotNull(upgradeable);
        Assert.True((await StoredAsync(id)).Readers!.Single().Upgradeable);

        var written = await grain.TryUpgrade(upgradeable.Token);

        Assert.NotNull(written);
        Assert.Equal(upgradeable.Token, written.Token);
        Assert.Equal(upgradeable.ExpiresAt, written.ExpiresAt);
        Assert.True(written.FencingToken > upgradeable.FencingToken);
        var stored = await StoredAsync(id);
        Assert.Equal(written.FencingToken, stored.FencingToken);
        Assert.Equal(upgradeable.Token, stored.Token);
        Assert.Empty(stored.Readers ?? []);
        Assert.Equal(upgradeable.FencingToken, stored.UpgradedFrom);

        // The hold is the writer now: nobody else gets in, and it renews with the same token.
        Assert.Null(await grain.TryAcquireRead("reader"));
        Assert.Equal(written.FencingToken, (await grain.GetInfo()).Writer?.FencingToken);
        Assert.Equal(written.FencingToken, (await grain.Renew(upgradeable.Token))?.FencingToken);
        Assert.Equal(written, await grain.TryUpgrade(upgradeable.Token));
    }

    [Fact]
    public async Task TryUpgrade_WhileOtherReadersHold_ReturnsNull()
    {
        var grain = NewLock(out _);
        var reader = await grain.TryAcquireRead("reader");
        var upgradeable = await grain.TryAcquireUpgradeableRead("upgrader");
        Assert.NotNull(reader);
        Assert.NotNull(upgradeable);

        Assert.Null(await grain.TryUpgrade(upgradeable.Token));
        Assert.Equal(upgradeable.FencingToken, (await grain.GetInfo()).UpgradeableReader?.FencingToken);
    }

    [Fact]
    public async Task AWaitingUpgrade_IsGrantedWhenTheLastReaderLeaves_AndKeepsNewReadersOutMeanwhile()
    {
        var grain = NewLock(out _);
        var first = await grain.TryAcquireRead("reader-1");
        var second = await grain.TryAcquireRead("reader-2");
        var upgradeable = await grain.TryAcquireUpgradeableRead("upgrader");
        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.NotNull(upgradeable);

        var upgrade = WaitForUpgradeAsync(grain, upgradeable.Token, "upgrade-1");
        await Eventually.TrueAsync(async () => (await grain.GetInfo()).UpgradeWaiting, "the upgrade waits");
        Assert.Null(await grain.TryAcquireRead("late-reader"));
        Assert.Null(await grain.TryUpgrade(upgradeable.Token));

        Assert.True(await grain.Release(first.Token));
        Assert.False(upgrade.IsCompleted);
        Assert.True(await grain.Release(second.Token));

        var written = await upgrade.WaitAsync(Arrival);
        Assert.Equal(upgradeable.Token, written.Token);
        Assert.True(written.FencingToken > upgradeable.FencingToken);
        var info = await grain.GetInfo();
        Assert.Equal(written.FencingToken, info.Writer?.FencingToken);
        Assert.Null(info.UpgradeableReader);
        Assert.False(info.UpgradeWaiting);
    }

    [Fact]
    public async Task AWaitingUpgrade_GoesBeforeAWaitingWriter_SoTheyCannotDeadlock()
    {
        var grain = NewLock(out _);
        var reader = await grain.TryAcquireRead("reader");
        var upgradeable = await grain.TryAcquireUpgradeableRead("upgrader");
        Assert.NotNull(reader);
        Assert.NotNull(upgradeable);
        var writer = WaitUntilGrantedAsync(grain, "writer-wait", LockKind.Write);
        await Eventually.TrueAsync(async () => (await grain.GetInfo()).WaitingWriters == 1, "the writer waits");

        var upgrade = WaitForUpgradeAsync(grain, upgradeable.Token, "upgrade-1");
        await Eventually.TrueAsync(async () => (await grain.GetInfo()).UpgradeWaiting, "the upgrade waits");
        Assert.True(await grain.Release(reader.Token));

        var written = await upgrade.WaitAsync(Arrival);
        Assert.False(writer.IsCompleted);
        Assert.True(await grain.Release(written.Token));
        var granted = await writer.WaitAsync(Arrival);
        Assert.True(granted.FencingToken > written.FencingToken);
    }

    [Fact]
    public async Task StopWaiting_OfAGrantedUpgrade_TurnsItBackIntoTheUpgradeableRead_AndReadersComeInAgain()
    {
        var grain = NewLock(out var id);
        var upgradeable = await grain.TryAcquireUpgradeableRead("upgrader");
        Assert.NotNull(upgradeable);
        var written = await grain.WaitForUpgrade(upgradeable.Token, "upgrade-1");
        Assert.NotNull(written);

        await grain.StopWaiting("upgrade-1");

        var info = await grain.GetInfo();
        Assert.Null(info.Writer);
        Assert.Equal(upgradeable.FencingToken, info.UpgradeableReader?.FencingToken);
        Assert.Null((await StoredAsync(id)).UpgradedFrom);
        Assert.Equal(upgradeable.FencingToken, (await grain.Renew(upgradeable.Token))?.FencingToken);
        var reader = await grain.TryAcquireRead("reader");
        Assert.NotNull(reader);
        Assert.True(reader.FencingToken > written.FencingToken);
    }

    [Fact]
    public async Task StopWaiting_OfAWaitingUpgrade_LetsNewReadersInAgain()
    {
        var grain = NewLock(out _);
        var reader = await grain.TryAcquireRead("reader");
        var upgradeable = await grain.TryAcquireUpgradeableRead("upgrader");
        Assert.NotNull(reader);
        Assert.NotNull(upgradeable);
        var call = grain.WaitForUpgrade(upgradeable.Token, "upgrade-1");
        await Eventually.TrueAsync(async () => (await grain.GetInfo()).UpgradeWaiting, "the upgrade waits");
        Assert.Null(await grain.TryAcquireRead("late-reader"));

        await grain.StopWaiting("upgrade-1");

        Assert.Null(await call.WaitAsync(Arrival));
        Assert.NotNull(await grain.TryAcquireRead("late-reader"));
        Assert.False((await grain.GetInfo()).UpgradeWaiting);
        Assert.Equal(upgradeable.FencingToken, (await grain.GetInfo()).UpgradeableReader?.FencingToken);
    }

    [Fact]
    public async Task ReleasingTheUpgradeableRead_DropsItsWaitingUpgrade()
    {
        var grain = NewLock(out _);
        var reader = await grain.TryAcquireRead("reader");
        var upgradeable = await grain.TryAcquireUpgradeableRead("upgrader");
        Assert.NotNull(reader);
        Assert.NotNull(upgradeable);
        var upgrade = WaitForUpgradeAsync(grain, upgradeable.Token, "upgrade-1");
        await Eventually.TrueAsync(async () => (await grain.GetInfo()).UpgradeWaiting, "the upgrade waits");

        Assert.True(await grain.Release(upgradeable.Token));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => upgrade.WaitAsync(Arrival));
        Assert.Contains("upgradeable read", error.Message);
        Assert.False((await grain.GetInfo()).UpgradeWaiting);
        Assert.NotNull(await grain.TryAcquireRead("late-reader"));
    }

    [Fact]
    public async Task TheExpiryOfTheUpgradeableRead_DropsItsWaitingUpgrade()
    {
        var grain = NewLock(out _);
        var upgradeable = await grain.TryAcquireUpgradeableRead("upgrader");
        Cluster.SiloClock.Advance(TimeSpan.FromMinutes(1));
        var reader = await grain.TryAcquireRead("reader");
        Assert.NotNull(upgradeable);
        Assert.NotNull(reader);
        var upgrade = WaitForUpgradeAsync(grain, upgradeable.Token, "upgrade-1");
        await Eventually.TrueAsync(async () => (await grain.GetInfo()).UpgradeWaiting, "the upgrade waits");

        // The upgradeable reader stops renewing and its lease runs out; the reader keeps its share.
        Cluster.SiloClock.Advance(TimeSpan.FromSeconds(61));

        await Assert.ThrowsAsync<InvalidOperationException>(() => upgrade.WaitAsync(Arrival));
        await Eventually.TrueAsync(async () => !(await grain.GetInfo()).UpgradeWaiting, "the upgrade left the line");
        Assert.True(await grain.IsStillValid(reader.Token));
        Assert.NotNull(await grain.TryAcquireRead("late-reader"));
    }

    [Fact]
    public async Task AnOrdinaryRead_CannotBeUpgraded_AndTheErrorNamesTheRule()
    {
        var grain = NewLock(out _);
        var reader = await grain.TryAcquireRead("reader");
        Assert.NotNull(reader);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => grain.TryUpgrade(reader.Token));
        Assert.Contains("Only a held upgradeable read can be upgraded", error.Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => grain.WaitForUpgrade(reader.Token, "upgrade-1"));
        Assert.True(await grain.IsStillValid(reader.Token));
    }

    [Fact]
    public async Task AReleasedUpgradedWriter_FreesTheLock()
    {
        var grain = NewLock(out _);
        var upgradeable = await grain.TryAcquireUpgradeableRead("upgrader");
        Assert.NotNull(upgradeable);
        var written = await grain.TryUpgrade(upgradeable.Token);
        Assert.NotNull(written);

        Assert.True(await grain.Release(upgradeable.Token));

        Assert.True((await grain.GetInfo()).IsFree);
        var next = await grain.TryAcquireUpgradeableRead("next");
        Assert.NotNull(next);
        Assert.True(next.FencingToken > written.FencingToken);
    }

    private IReadWriteLockGrain NewLock(out LockId id)
    {
        id = LockId.Create("upgradeable", $"!{Guid.NewGuid():N}:example.org");
        return Cluster.Grains.GetGrain<IReadWriteLockGrain>(id.ToGrainKey());
    }

    private static async Task<LockLease> WaitUntilGrantedAsync(IReadWriteLockGrain grain, string waiterId, LockKind kind)
    {
        while (true)
        {
            if (await grain.Wait(waiterId, kind, waiterId) is { } lease)
            {
                Assert.True(await grain.ConfirmGrant(lease.Token));
                return lease;
            }
        }
    }

    private static async Task<LockLease> WaitForUpgradeAsync(IReadWriteLockGrain grain, string token, string waiterId)
    {
        while (true)
        {
            if (await grain.WaitForUpgrade(token, waiterId) is { } lease)
            {
                return lease;
            }
        }
    }

    private async Task<LockState> StoredAsync(LockId id)
    {
        var storage = Cluster.Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>("OrleansLocks");
        var state = new GrainState<LockState>(new LockState());
        await storage.ReadStateAsync(ReadWriteLockGrain.StateName, GrainId.Create(ReadWriteLockGrain.GrainTypeName, id.ToGrainKey()), state);
        return state.State ?? new LockState();
    }
}

[Collection(MemoryClusterCollection.Name)]
public sealed class UpgradeableReadLockTests_Memory(MemoryClusterFixture fixture) : UpgradeableReadLockTests(fixture.Cluster);

[Collection(PostgresClusterCollection.Name)]
public sealed class UpgradeableReadLockTests_Postgres(PostgresClusterFixture fixture) : UpgradeableReadLockTests(fixture.Cluster);

[Collection(PostgresAdoNetProviderClusterCollection.Name)]
public sealed class UpgradeableReadLockTests_PostgresAdoNetProvider(PostgresAdoNetProviderClusterFixture fixture) : UpgradeableReadLockTests(fixture.Cluster);
