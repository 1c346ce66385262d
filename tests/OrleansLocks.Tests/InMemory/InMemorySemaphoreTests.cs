using Microsoft.Extensions.Time.Testing;
using OrleansLocks.Client;
using OrleansLocks.InMemory;

namespace OrleansLocks.Tests.InMemory;

/// <summary>The in-memory provider's semaphores follow the grain's rules: the count, the line, one lease per holder.</summary>
public sealed class InMemorySemaphoreTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    private readonly FakeTimeProvider _time = new();
    private readonly InMemoryLockProvider _a;
    private readonly InMemoryLockProvider _b;

    public InMemorySemaphoreTests()
    {
        _a = new InMemoryLockProvider(_time, new InMemoryLockOptions { Owner = "worker-a" });
        _b = _a.ForOwner("worker-b");
    }

    [Fact]
    public async Task TryAcquireSemaphore_GrantsUpToTheCount_AndRefusesTheNextOne()
    {
        var first = await _a.TryAcquireSemaphoreAsync("sem", "k", 2);
        var second = await _b.TryAcquireSemaphoreAsync("sem", "k", 2);

        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.Equal(LockKind.Semaphore, first.Kind);
        Assert.True(second.FencingToken > first.FencingToken);
        Assert.Null(await _a.TryAcquireSemaphoreAsync("sem", "k", 2));

        await first.ReleaseAsync();
        await using var third = await _a.TryAcquireSemaphoreAsync("sem", "k", 2);
        Assert.NotNull(third);
        await second.ReleaseAsync();
    }

    [Fact]
    public async Task AcquireSemaphore_Waiters_AreServedOnePerReleasedPermit_InArrivalOrder()
    {
        var a = await _a.TryAcquireSemaphoreAsync("sem", "k", 1);
        var first = _b.AcquireSemaphoreAsync("sem", "k", 1).AsTask();
        var second = _a.AcquireSemaphoreAsync("sem", "k", 1).AsTask();

        // A try never jumps the line.
        Assert.Null(await _b.TryAcquireSemaphoreAsync("sem", "k", 1));

        await a!.ReleaseAsync();
        var firstHeld = await first;
        Assert.Equal("worker-b", firstHeld.Owner);
        Assert.False(second.IsCompleted);

        await firstHeld.ReleaseAsync();
        await using var secondHeld = await second;
        Assert.Equal("worker-a", secondHeld.Owner);
    }

    [Fact]
    public async Task AnotherCount_IsRefusedNamingBothCounts_UntilTheSemaphoreIsEmpty()
    {
        var held = await _a.TryAcquireSemaphoreAsync("sem", "k", 2);

        var tried = await Assert.ThrowsAsync<ArgumentException>(async () => await _b.TryAcquireSemaphoreAsync("sem", "k", 3));
        var waited = await Assert.ThrowsAsync<ArgumentException>(async () => await _b.AcquireSemaphoreAsync("sem", "k", 3));

        Assert.All([tried.Message, waited.Message], m =>
        {
            Assert.Contains("maxCount 2", m, StringComparison.Ordinal);
            Assert.Contains("maxCount 3", m, StringComparison.Ordinal);
        });

        // Nothing was queued: the second permit of the count in force is still free.
        await using (var other = await _b.TryAcquireSemaphoreAsync("sem", "k", 2))
        {
            Assert.NotNull(other);
        }

        await held!.ReleaseAsync();
        await using var anew = await _b.TryAcquireSemaphoreAsync("sem", "k", 3);
        Assert.NotNull(anew);
    }

    [Fact]
    public void ACountBelowOne_IsRefusedByTheCallItself()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = _a.TryAcquireSemaphoreAsync("sem", "k", 0); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = _a.AcquireSemaphoreAsync("sem", "k", -3); });
    }

    [Fact]
    public async Task TheExpiryOfOneHolder_FreesOnePermit_AndFiresOnlyItsHandleLostToken()
    {
        var stuck = await _a.TryAcquireSemaphoreAsync("sem", "k", 2);
        _a.StopRenewing(LockRequest.Semaphore("sem", "k", 2));
        await using var live = await _b.TryAcquireSemaphoreAsync("sem", "k", 2);
        Assert.NotNull(stuck);
        Assert.NotNull(live);

        _time.Advance(Lease);

        Assert.True(stuck.HandleLostToken.IsCancellationRequested);
        Assert.False(live.HandleLostToken.IsCancellationRequested);
        Assert.True(await live.IsStillValidAsync());
        await using var next = await _a.TryAcquireSemaphoreAsync("sem", "k", 2);
        Assert.NotNull(next);
        Assert.Null(await _b.TryAcquireSemaphoreAsync("sem", "k", 2));
        await stuck.DisposeAsync();
    }

    [Fact]
    public async Task MultiLock_WithASemaphorePart_IsAllOrNothing()
    {
        await using var plain = await _b.TryAcquireAsync("plain", "k");

        Assert.Null(await _a.TryAcquireAllAsync([LockRequest.Semaphore("sem", "k", 1), LockRequest.Plain("plain", "k")]));

        // The semaphore's only permit was not kept by the refused multi-lock.
        await using var m = await _a.TryAcquireAllAsync([LockRequest.Semaphore("sem", "k", 1), LockRequest.Plain("other", "k")]);
        Assert.NotNull(m);
        Assert.Equal([LockKind.Plain, LockKind.Semaphore], m.Parts.Select(p => p.Kind));
    }
}
