using Microsoft.Extensions.Time.Testing;
using OrleansLocks.Client;
using OrleansLocks.InMemory;

namespace OrleansLocks.Tests.InMemory;

/// <summary>
/// The in-memory provider has the real provider's semantics: exclusion, the line, read/write locks,
/// multi-locks, fencing tokens and leases, all on a fake clock and without a sleep.
/// </summary>
public sealed class InMemoryLockProviderTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    private readonly FakeTimeProvider _time = new();
    private readonly InMemoryLockProvider _a;
    private readonly InMemoryLockProvider _b;

    public InMemoryLockProviderTests()
    {
        _a = new InMemoryLockProvider(_time, new InMemoryLockOptions { Owner = "worker-a" });
        _b = _a.ForOwner("worker-b");
    }

    [Fact]
    public async Task TryAcquire_WhenHeldByAnother_ReturnsNull_AndSucceedsOnceReleased()
    {
        var held = await _a.TryAcquireAsync("purge_room", "!r:example.org");
        Assert.NotNull(held);
        Assert.Equal("worker-a", held.Owner);
        Assert.Equal(LockId.Create("purge_room", "!r:example.org"), held.Id);

        Assert.Null(await _b.TryAcquireAsync("purge_room", "!r:example.org"));

        await held.ReleaseAsync();
        await using var next = await _b.TryAcquireAsync("purge_room", "!r:example.org");
        Assert.NotNull(next);
        Assert.Equal("worker-b", next.Owner);
    }

    [Fact]
    public async Task TryAcquire_BySameOwnerWhileHeld_ReturnsNull_LocksAreNotReentrant()
    {
        await using var held = await _a.TryAcquireAsync("n", "k");

        Assert.Null(await _a.TryAcquireAsync("n", "k"));
    }

    [Fact]
    public async Task PlainAndReadWriteLocksOfOneNameAndKey_AreIndependent()
    {
        await using var plain = await _a.TryAcquireAsync("room", "a");
        await using var write = await _b.TryAcquireWriteAsync("room", "a");

        Assert.NotNull(plain);
        Assert.NotNull(write);
    }

    [Fact]
    public async Task FencingTokens_OnlyGrow_AcrossReleasesExpiriesAndKinds()
    {
        var tokens = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            await using var handle = await _a.TryAcquireAsync("n", "k");
            tokens.Add(handle!.FencingToken);
        }

        var expiring = await _a.TryAcquireAsync("n", "k");
        tokens.Add(expiring!.FencingToken);
        _a.Expire(LockRequest.Plain("n", "k"));
        await using var after = await _b.TryAcquireAsync("n", "k");
        tokens.Add(after!.FencingToken);

        Assert.Equal(tokens.Order(), tokens);
        Assert.Equal(tokens.Count, tokens.Distinct().Count());
    }

    [Fact]
    public async Task AcquireAsync_WaitsInLine_AndIsGrantedWhenTheHolderReleases()
    {
        var held = await _a.TryAcquireAsync("n", "k");
        var waiting = _b.AcquireAsync("n", "k", TimeSpan.FromMinutes(1)).AsTask();
        Assert.False(waiting.IsCompleted);

        await held!.ReleaseAsync();

        await using var granted = await waiting;
        Assert.Equal("worker-b", granted.Owner);
        Assert.True(granted.FencingToken > held.FencingToken);
    }

    [Fact]
    public async Task AcquireAsync_ServesWaitersFirstComeFirstServed()
    {
        var held = await _a.TryAcquireAsync("n", "k");
        var providers = Enumerable.Range(0, 5).Select(i => _a.ForOwner($"w{i}")).ToList();
        var waits = providers.Select(p => p.AcquireAsync("n", "k").AsTask()).ToList();
        var order = new List<string>();

        await held!.ReleaseAsync();
        foreach (var wait in waits)
        {
            // Each waiter is granted only when the one before it releases.
            var handle = await wait;
            order.Add(handle.Owner);
            Assert.All(waits.Skip(order.Count), w => Assert.False(w.IsCompleted));
            await handle.ReleaseAsync();
        }

        Assert.Equal(["w0", "w1", "w2", "w3", "w4"], order);
    }

    [Fact]
    public async Task TryAcquire_RightAfterARelease_FindsTheLockAlreadyHandedToTheWaiter()
    {
        // The release serves the line in the same step that frees the lock: no try gets in between.
        var held = await _a.TryAcquireAsync("n", "k");
        var waiting = _b.AcquireAsync("n", "k").AsTask();

        await held!.ReleaseAsync();
        await using var granted = await waiting;

        Assert.Null(await _a.TryAcquireAsync("n", "k"));
    }

    [Fact]
    public async Task AcquireAsync_TimesOutOnTheGivenClock_AndLeavesNothingQueued()
    {
        await using var held = await _a.TryAcquireAsync("n", "k");
        var waiting = _b.AcquireAsync("n", "k", TimeSpan.FromSeconds(5)).AsTask();

        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));

        var thrown = await Assert.ThrowsAsync<TimeoutException>(() => waiting);
        Assert.Contains("nothing is held or queued", thrown.Message, StringComparison.Ordinal);

        // Nobody waits any more: once released, a try succeeds at once.
        await held!.ReleaseAsync();
        await using var free = await _b.TryAcquireAsync("n", "k");
        Assert.NotNull(free);
    }

    [Fact]
    public void AHolderThatLosesItsLease_HearsItBeforeTheNextWaiterIsServed()
    {
        // As with the real lock, whose holder's own deadline passes before anyone else can be
        // granted: code that stops on HandleLostToken stops before the next holder starts.
        var table = new InMemoryLockTable(_time, new InMemoryLockOptions());
        var request = LockRequest.Plain("n", "k");
        var holder = table.TryAcquire(request, "a")!;
        var waiter = table.Join(request, "b");
        bool? servedWhenLost = null;
        using var heard = holder.LostToken.Register(() => servedWhenLost = waiter.Granted.Task.IsCompleted);

        Assert.Equal(1, table.Expire(request));

        Assert.False(servedWhenLost);
        Assert.True(waiter.Granted.Task.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task TryAcquireAsync_WithACancelledToken_ReturnsACancelledTask_AndTakesNothing()
    {
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();

        var attempt = _a.TryAcquireAsync("n", "k", cancel.Token);

        Assert.True(attempt.IsCanceled);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => attempt.AsTask());
        Assert.NotNull(await _b.TryAcquireAsync("n", "k"));
    }

    [Fact]
    public async Task AcquireAsync_Cancelled_ThrowsAndLeavesNothingQueued()
    {
        var held = await _a.TryAcquireAsync("n", "k");
        using var cancel = new CancellationTokenSource();
        var waiting = _b.AcquireAsync("n", "k", null, cancel.Token).AsTask();

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        await held!.ReleaseAsync();
        Assert.NotNull(await _a.TryAcquireAsync("n", "k"));
    }

    [Fact]
    public async Task AcquireAsync_WithZeroTimeout_TriesOnce_AndANegativeOneIsRefused()
    {
        await using var held = await _a.TryAcquireAsync("n", "k");

        await Assert.ThrowsAsync<TimeoutException>(() => _b.AcquireAsync("n", "k", TimeSpan.Zero).AsTask());
        var refused = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _b.AcquireAsync("n", "k", TimeSpan.FromSeconds(-1)).AsTask());
        Assert.Contains("The timeout must be zero or more", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadersShareTheLock_AndAWriterWaitsForAllOfThem()
    {
        var r1 = await _a.TryAcquireReadAsync("state", "room");
        var r2 = await _b.TryAcquireReadAsync("state", "room");
        Assert.NotNull(r1);
        Assert.NotNull(r2);
        Assert.Null(await _a.TryAcquireWriteAsync("state", "room"));

        var writer = _a.AcquireWriteAsync("state", "room").AsTask();
        await r1.ReleaseAsync();
        Assert.False(writer.IsCompleted);
        await r2.ReleaseAsync();

        await using var write = await writer;
        Assert.Equal(LockKind.Write, write.Kind);
    }

    [Fact]
    public async Task AWaitingWriter_KeepsNewReadersOut_ATryNeverJumpsTheLine_ThenEveryReaderQueuedBehindItGetsInAtOnce()
    {
        var reader = await _a.TryAcquireReadAsync("state", "room");
        var writer = _b.AcquireWriteAsync("state", "room").AsTask();

        // Writer preference: a new reader neither gets in beside the holding reader nor jumps the writer.
        Assert.Null(await _a.TryAcquireReadAsync("state", "room"));
        var late1 = _a.ForOwner("late-1").AcquireReadAsync("state", "room").AsTask();
        var late2 = _a.ForOwner("late-2").AcquireReadAsync("state", "room").AsTask();

        await reader!.ReleaseAsync();
        var write = await writer;
        Assert.False(late1.IsCompleted);
        Assert.False(late2.IsCompleted);

        await write.ReleaseAsync();
        await using var read1 = await late1;
        await using var read2 = await late2;
        Assert.True(read1.FencingToken > write.FencingToken);
        Assert.True(read2.FencingToken > write.FencingToken);
    }

    [Fact]
    public async Task AWaitingWriterThatGivesUp_LetsTheReadersBehindItIn()
    {
        await using var reader = await _a.TryAcquireReadAsync("state", "room");
        using var cancel = new CancellationTokenSource();
        var writer = _b.AcquireWriteAsync("state", "room", null, cancel.Token).AsTask();
        var late = _a.ForOwner("late").AcquireReadAsync("state", "room").AsTask();
        Assert.False(late.IsCompleted);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writer);

        await using var read = await late;
        Assert.Equal(LockKind.Read, read.Kind);
    }

    [Fact]
    public async Task TryAcquireAll_IsAllOrNothing()
    {
        await using var taken = await _b.TryAcquireWriteAsync("room", "b");

        var all = await _a.TryAcquireAllAsync([LockRequest.Write("room", "b"), LockRequest.Write("room", "a"), LockRequest.Plain("purge", "a")]);

        Assert.Null(all);
        await using var a = await _b.TryAcquireWriteAsync("room", "a");
        await using var purge = await _b.TryAcquireAsync("purge", "a");
        Assert.NotNull(a);
        Assert.NotNull(purge);
    }

    [Fact]
    public async Task TryAcquireAll_HoldsEveryPart_InTheCanonicalOrder()
    {
        await using var all = await _a.TryAcquireAllAsync([LockRequest.Write("room", "b"), LockRequest.Read("room", "a"), LockRequest.Plain("purge", "a")]);

        Assert.NotNull(all);
        Assert.Equal([LockKind.Plain, LockKind.Read, LockKind.Write], all.Parts.Select(p => p.Kind));
        Assert.Null(await _b.TryAcquireAsync("purge", "a"));
    }

    [Fact]
    public async Task AcquireAll_GivingUp_ReleasesThePartsItHeld()
    {
        await using var blocker = await _b.TryAcquireWriteAsync("room", "b");
        var all = _a.AcquireAllAsync([LockRequest.Write("room", "a"), LockRequest.Write("room", "b")], TimeSpan.FromSeconds(10)).AsTask();
        Assert.False(all.IsCompleted);

        // Room a is held meanwhile, as a waiting multi-lock holds its early parts.
        Assert.Null(await _b.TryAcquireWriteAsync("room", "a"));
        _time.Advance(TimeSpan.FromSeconds(10));

        await Assert.ThrowsAsync<TimeoutException>(() => all);
        await using var a = await _b.TryAcquireWriteAsync("room", "a");
        Assert.NotNull(a);
    }

    [Fact]
    public async Task AcquireAll_NamingOneLockTwice_IsRefused()
    {
        var thrown = await Assert.ThrowsAsync<ArgumentException>(() => _a.AcquireAllAsync([LockRequest.Read("room", "a"), LockRequest.Write("room", "a")]).AsTask());

        Assert.Contains("twice", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AHandle_RenewsItself_SoALiveHolderNeverLosesItsLease()
    {
        await using var handle = await _a.TryAcquireAsync("n", "k");
        var firstExpiry = handle!.ExpiresAt;

        for (var i = 0; i < 20; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(30));
        }

        Assert.False(handle.HandleLostToken.IsCancellationRequested);
        Assert.True(await handle.IsStillValidAsync());
        Assert.True(handle.ExpiresAt > firstExpiry);
        Assert.Null(await _b.TryAcquireAsync("n", "k"));
    }

    [Fact]
    public async Task AHolderThatStopsRenewing_LosesItsLeaseWhenItRunsOut_AndTheNextWaiterGetsTheLock()
    {
        var handle = await _a.TryAcquireAsync("n", "k");
        var waiting = _b.AcquireAsync("n", "k").AsTask();

        Assert.Equal(1, _a.StopRenewing(LockRequest.Plain("n", "k")));
        _time.Advance(Lease - TimeSpan.FromSeconds(1));
        Assert.False(handle!.HandleLostToken.IsCancellationRequested);
        Assert.False(waiting.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.True(handle.HandleLostToken.IsCancellationRequested);
        Assert.False(await handle.IsStillValidAsync());
        await using var next = await waiting;
        Assert.True(next.FencingToken > handle.FencingToken);
    }

    [Fact]
    public async Task Expire_TakesTheLockAtOnce_FiresHandleLostToken_AndServesTheLine()
    {
        var handle = await _a.TryAcquireAsync("n", "k");
        var lost = false;
        using var registration = handle!.HandleLostToken.Register(() => lost = true);
        var waiting = _b.AcquireAsync("n", "k").AsTask();

        Assert.Equal(1, _a.Expire(LockRequest.Plain("n", "k")));

        Assert.True(lost);
        await using var next = await waiting;
        Assert.Equal("worker-b", next.Owner);

        // The old holder's release is harmless and does not free the new holder's lock.
        await handle.ReleaseAsync();
        Assert.True(await next.IsStillValidAsync());
    }

    [Fact]
    public async Task Expire_OfReaders_LeavesTheWriterLineAndOtherLocksAlone()
    {
        var r1 = await _a.TryAcquireReadAsync("state", "room");
        var r2 = await _b.TryAcquireReadAsync("state", "room");
        await using var other = await _a.TryAcquireReadAsync("state", "other");

        Assert.Equal(0, _a.Expire(LockRequest.Write("state", "room")));
        Assert.Equal(2, _a.Expire(LockRequest.Read("state", "room")));

        Assert.True(r1!.HandleLostToken.IsCancellationRequested);
        Assert.True(r2!.HandleLostToken.IsCancellationRequested);
        Assert.False(other!.HandleLostToken.IsCancellationRequested);
        await using var write = await _b.TryAcquireWriteAsync("state", "room");
        Assert.NotNull(write);
    }

    [Fact]
    public async Task Release_IsIdempotent_AndDoesNotCancelHandleLostToken()
    {
        var handle = await _a.TryAcquireAsync("n", "k");

        await handle!.ReleaseAsync();
        await handle.ReleaseAsync();
        await handle.DisposeAsync();

        Assert.False(handle.HandleLostToken.IsCancellationRequested);
        Assert.False(await handle.IsStillValidAsync());
    }

    [Fact]
    public async Task AMultiLockHandle_IsLost_WhenAnyPartIs()
    {
        await using var all = await _a.TryAcquireAllAsync([LockRequest.Plain("a", "1"), LockRequest.Plain("b", "2")]);

        _a.Expire(LockRequest.Plain("b", "2"));

        Assert.True(all!.HandleLostToken.IsCancellationRequested);
        Assert.False(await all.IsStillValidAsync());
    }

    [Fact]
    public async Task ABadNameOrKey_IsRefusedNamingTheRule()
    {
        var name = await Assert.ThrowsAsync<ArgumentException>(() => _a.TryAcquireAsync("a:b", "k").AsTask());
        var key = await Assert.ThrowsAsync<ArgumentException>(() => _a.AcquireAsync("n", "a\0b").AsTask());

        Assert.Contains(LockId.NameRule, name.Message, StringComparison.Ordinal);
        Assert.Contains(LockId.KeyRule, key.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => _a.Expire(default));
    }

    [Theory]
    [InlineData(0, 30, "LeaseTimeout must be positive")]
    [InlineData(120, 50, "RenewalInterval must be positive and at most a third of LeaseTimeout")]
    [InlineData(120, 0, "RenewalInterval must be positive")]
    public void BadOptions_AreRefusedNamingTheRule(int leaseSeconds, int renewalSeconds, string rule)
    {
        var options = new InMemoryLockOptions { LeaseTimeout = TimeSpan.FromSeconds(leaseSeconds), RenewalInterval = TimeSpan.FromSeconds(renewalSeconds) };

        var thrown = Assert.Throws<ArgumentException>(() => new InMemoryLockProvider(_time, options));

        Assert.Contains(rule, thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ABadOwner_IsRefusedNamingTheRule()
    {
        Assert.Contains(LockOwner.Rule, Assert.Throws<ArgumentException>(() => _a.ForOwner("")).Message, StringComparison.Ordinal);
        Assert.Contains(LockOwner.Rule, Assert.Throws<ArgumentException>(() => new InMemoryLockProvider(_time, new InMemoryLockOptions { Owner = "a\0b" })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PublicTypes_AreSealedOrStatic()
    {
        var open = typeof(InMemoryLockProvider).Assembly.GetTypes()
            .Where(t => t.IsClass && !t.IsAbstract && !t.IsSealed && !t.Name.Contains('<', StringComparison.Ordinal))
            .Select(t => t.FullName);

        Assert.Empty(open);
    }
}
