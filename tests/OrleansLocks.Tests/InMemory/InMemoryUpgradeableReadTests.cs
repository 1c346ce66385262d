using Microsoft.Extensions.Time.Testing;
using OrleansLocks.Client;
using OrleansLocks.InMemory;

namespace OrleansLocks.Tests.InMemory;

/// <summary>The in-memory provider's upgradeable reads follow the lock grains' rules, on a fake clock.</summary>
public sealed class InMemoryUpgradeableReadTests
{
    private static readonly TimeSpan Arrival = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();
    private readonly InMemoryLockProvider _a;
    private readonly InMemoryLockProvider _b;

    public InMemoryUpgradeableReadTests()
    {
        _a = new InMemoryLockProvider(_time, new InMemoryLockOptions { Owner = "worker-a" });
        _b = _a.ForOwner("worker-b");
    }

    [Fact]
    public async Task AnUpgradeableRead_HoldsBesideReaders_ButASecondOneAndAWriterAreRefused()
    {
        await using var reader = await _b.TryAcquireReadAsync("n", "k");
        await using var upgradeable = await _a.TryAcquireUpgradeableReadAsync("n", "k");

        Assert.NotNull(reader);
        Assert.NotNull(upgradeable);
        Assert.Equal(LockKind.UpgradeableRead, upgradeable.Kind);
        Assert.Null(await _b.TryAcquireUpgradeableReadAsync("n", "k"));
        Assert.Null(await _b.TryAcquireWriteAsync("n", "k"));
        await using var another = await _b.TryAcquireReadAsync("n", "k");
        Assert.NotNull(another);
    }

    [Fact]
    public async Task AWaitingWriter_IsGrantedOnceTheUpgradeableReadIsReleased()
    {
        var upgradeable = await _a.TryAcquireUpgradeableReadAsync("n", "k");
        Assert.NotNull(upgradeable);
        var writer = _b.AcquireWriteAsync("n", "k").AsTask();
        Assert.False(writer.IsCompleted);

        await upgradeable.ReleaseAsync();

        await using var w = await writer.WaitAsync(Arrival);
        Assert.True(w.FencingToken > upgradeable.FencingToken);
    }

    [Fact]
    public async Task UpgradeToWrite_WaitsForTheReaders_KeepsNewReadersOut_AndGetsANewFencingToken()
    {
        var reader = await _b.TryAcquireReadAsync("n", "k");
        await using var handle = await _a.TryAcquireUpgradeableReadAsync("n", "k");
        Assert.NotNull(reader);
        Assert.NotNull(handle);
        var readFencingToken = handle.FencingToken;

        var upgrade = handle.UpgradeToWriteAsync().AsTask();
        Assert.False(upgrade.IsCompleted);
        Assert.Null(await _b.TryAcquireReadAsync("n", "k"));

        await reader.ReleaseAsync();
        await upgrade.WaitAsync(Arrival);

        Assert.Equal(LockKind.Write, handle.Kind);
        Assert.True(handle.FencingToken > readFencingToken);
        Assert.Null(await _b.TryAcquireReadAsync("n", "k"));
        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.True(await handle.IsStillValidAsync());
        Assert.Null(await _b.TryAcquireWriteAsync("n", "k"));
    }

    [Fact]
    public async Task AWaitingWriter_DoesNotDeadlockAnUpgrade()
    {
        var reader = await _b.TryAcquireReadAsync("n", "k");
        await using var handle = await _a.TryAcquireUpgradeableReadAsync("n", "k");
        Assert.NotNull(reader);
        Assert.NotNull(handle);
        var writer = _b.AcquireWriteAsync("n", "k").AsTask();

        var upgrade = handle.UpgradeToWriteAsync().AsTask();
        await reader.ReleaseAsync();

        await upgrade.WaitAsync(Arrival);
        Assert.False(writer.IsCompleted);
        await handle.ReleaseAsync();
        await using var w = await writer.WaitAsync(Arrival);
        Assert.True(w.FencingToken > handle.FencingToken);
    }

    [Fact]
    public async Task AnUpgradeThatTimesOut_LeavesTheUpgradeableReadHeld_AndReadersComeInAgain()
    {
        var reader = await _b.TryAcquireReadAsync("n", "k");
        await using var handle = await _a.TryAcquireUpgradeableReadAsync("n", "k");
        Assert.NotNull(reader);
        Assert.NotNull(handle);
        var readFencingToken = handle.FencingToken;

        var upgrade = handle.TryUpgradeToWriteAsync(TimeSpan.FromSeconds(10)).AsTask();
        _time.Advance(TimeSpan.FromSeconds(11));

        Assert.False(await upgrade.WaitAsync(Arrival));
        Assert.Equal(LockKind.UpgradeableRead, handle.Kind);
        Assert.Equal(readFencingToken, handle.FencingToken);
        await using var late = await _b.TryAcquireReadAsync("n", "k");
        Assert.NotNull(late);
        await Assert.ThrowsAsync<TimeoutException>(() => handle.UpgradeToWriteAsync(TimeSpan.Zero).AsTask());

        await reader.ReleaseAsync();
        await late.ReleaseAsync();
        Assert.True(await handle.TryUpgradeToWriteAsync());
    }

    [Fact]
    public async Task ReleaseAfterAnUpgrade_FreesTheLock()
    {
        var handle = await _a.TryAcquireUpgradeableReadAsync("n", "k");
        Assert.NotNull(handle);
        Assert.True(await handle.TryUpgradeToWriteAsync());

        await handle.ReleaseAsync();

        await using var next = await _b.TryAcquireUpgradeableReadAsync("n", "k");
        Assert.NotNull(next);
        Assert.True(next.FencingToken > handle.FencingToken);
    }

    [Fact]
    public async Task Upgrading_AHandleThatIsNotAnUpgradeableRead_OrAReleasedOne_IsRefusedByTheCallItself()
    {
        await using var reader = await _a.TryAcquireReadAsync("n", "k");
        Assert.NotNull(reader);
        Assert.Throws<InvalidOperationException>(() => { _ = reader.UpgradeToWriteAsync(); });

        var upgradeable = await _a.TryAcquireUpgradeableReadAsync("n", "k");
        Assert.NotNull(upgradeable);
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = upgradeable.TryUpgradeToWriteAsync(TimeSpan.FromSeconds(-2)); });
        await upgradeable.ReleaseAsync();
        Assert.Throws<InvalidOperationException>(() => { _ = upgradeable.TryUpgradeToWriteAsync(); });
    }

    [Fact]
    public async Task AnUpgradeableReadThatExpiresWhileItsUpgradeWaits_EndsTheUpgradeWithAnError()
    {
        await using var reader = await _b.TryAcquireReadAsync("n", "k");
        var handle = await _a.TryAcquireUpgradeableReadAsync("n", "k");
        Assert.NotNull(handle);
        var upgrade = handle.UpgradeToWriteAsync().AsTask();

        Assert.Equal(1, _a.Expire(LockRequest.UpgradeableRead("n", "k")));

        await Assert.ThrowsAsync<InvalidOperationException>(() => upgrade.WaitAsync(Arrival));
        Assert.True(handle.HandleLostToken.IsCancellationRequested);
        await using var late = await _b.TryAcquireReadAsync("n", "k");
        Assert.NotNull(late);
    }
}
