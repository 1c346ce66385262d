using System.Text.Json;
using OrleansLocks.Admin;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Admin;

/// <summary>
/// The admin grain against a real cluster, on each storage: what operators list and inspect (never a
/// token), and a forced release that tells the old holder before anyone else is granted.
/// </summary>
public abstract class LockAdminTests(LockCluster cluster)
{
    private static readonly TimeSpan R = TimeSpan.FromSeconds(30);

    // The default lock-delay's margin beyond the renewal interval (LockAdminOptions.ForceReleaseMargin).
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(5);

    protected LockCluster Cluster { get; } = cluster;

    private ILockAdminGrain Admin => Cluster.Grains.GetGrain<ILockAdminGrain>(0);

    // The clusters are shared: each test lists only its own names.
    private static string NewPrefix() => "adm-" + Guid.NewGuid().ToString("N")[..12];

    private ILockGrain Plain(LockId id) => Cluster.Grains.GetGrain<ILockGrain>(id.ToGrainKey());

    private IReadWriteLockGrain ReadWrite(LockId id) => Cluster.Grains.GetGrain<IReadWriteLockGrain>(id.ToGrainKey());

    [Fact]
    public async Task List_SeesALockWhoseActivationWasDeactivated_FromStorage()
    {
        var id = LockId.Create(NewPrefix(), "!room:example.org");
        var lease = (await Plain(id).TryAcquire("worker1"))!;
        await Cluster.Cluster.DeactivateAsync(Plain(id));

        var page = await Admin.List(new LockListQuery(NamePrefix: id.Name));

        var row = Assert.Single(page.Locks);
        Assert.Equal(new HeldLock(id.Name, id.Key, LockKind.Plain, "worker1", lease.FencingToken, lease.AcquiredAt, lease.LastRenewedAt, lease.ExpiresAt, Waiting: null), row);
        Assert.Null(page.Continuation);
    }

    [Fact]
    public async Task List_FiltersByPrefixAndOwner_AndPagesNewestFirst_OneRowPerHolder()
    {
        var prefix = NewPrefix();
        var leases = new List<(LockId Id, LockKind Kind, LockLease Lease)>();
        for (var i = 0; i < 5; i++)
        {
            var id = LockId.Create(prefix + "-p", $"k{i}");
            leases.Add((id, LockKind.Plain, (await Plain(id).TryAcquire(i % 2 == 0 ? "even" : "odd"))!));
            Cluster.Advance(TimeSpan.FromSeconds(1));
        }

        var rw = LockId.Create(prefix + "-rw", "shared");
        leases.Add((rw, LockKind.Read, (await ReadWrite(rw).TryAcquireRead("even"))!));
        leases.Add((rw, LockKind.Read, (await ReadWrite(rw).TryAcquireRead("odd"))!));
        Assert.NotNull(await Plain(LockId.Create(NewPrefix(), "other")).TryAcquire("even"));

        var rows = new List<HeldLock>();
        string? continuation = null;
        var pages = 0;
        do
        {
            var page = await Admin.List(new LockListQuery(NamePrefix: prefix, PageSize: 2, Continuation: continuation));
            Assert.InRange(page.Locks.Count, 1, 2);
            rows.AddRange(page.Locks);
            continuation = page.Continuation;
            pages++;
        }
        while (continuation is not null);

        Assert.Equal(4, pages);
        Assert.Equal(leases.Count, rows.Count);
        Assert.Equal(rows.OrderByDescending(r => r.AcquiredAt).ThenByDescending(r => r.FencingToken), rows);
        Assert.Equal(
            leases.Select(l => (l.Id.Name, l.Id.Key, l.Kind, l.Lease.Owner, l.Lease.FencingToken)).OrderBy(x => x.FencingToken),
            rows.Select(r => (r.Name, r.Key, r.Kind, r.Owner, r.FencingToken)).OrderBy(x => x.FencingToken));

        var odd = await Admin.List(new LockListQuery(NamePrefix: prefix, Owner: "odd"));
        Assert.Equal(3, odd.Locks.Count);
        Assert.All(odd.Locks, r => Assert.Equal("odd", r.Owner));
        Assert.Equal(2, (await Admin.List(new LockListQuery(NamePrefix: prefix + "-rw"))).Locks.Count);
    }

    [Fact]
    public async Task ListAndInspect_NeverCarryTheToken_AndInspectShowsTheWaiters()
    {
        var id = LockId.Create(NewPrefix(), "!secret:example.org");
        var handle = (await Cluster.Locks.TryAcquireAsync(id.Name, id.Key))!;
        var waiting = Cluster.SiloLocks(1).AcquireAsync(id.Name, id.Key).AsTask();
        await Eventually.TrueAsync(async () => (await Admin.Inspect(id.Name, id.Key, LockKind.Plain)).Waiters.Count == 1, "the waiter is in line");

        var listed = await Admin.List(new LockListQuery(NamePrefix: id.Name, IncludeWaiting: true));
        var details = await Admin.Inspect(id.Name, id.Key, LockKind.Plain);

        Assert.Equal(1, Assert.Single(listed.Locks).Waiting);
        var holder = Assert.Single(details.Holders);
        Assert.Equal((handle.Owner, handle.FencingToken), (holder.Owner, holder.FencingToken));
        var waiter = Assert.Single(details.Waiters);
        Assert.Equal(("co-hosted", LockKind.Plain), (waiter.Owner, waiter.Kind));
        Assert.False(details.IsReadWrite);
        Assert.NotNull(details.StoredVersion);
        Assert.Null(details.NoGrantsBefore);

        // The token is the holder's secret: it appears in no field of what operators are shown.
        var secret = await SecretOfAsync(handle);
        Assert.DoesNotContain(secret, JsonSerializer.Serialize(listed), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, JsonSerializer.Serialize(details), StringComparison.Ordinal);

        await handle.ReleaseAsync();
        await using var next = await waiting.WaitAsync(Eventually.DefaultTimeout);
    }

    [Fact]
    public async Task ForceRelease_TellsTheOldHolderFirst_RefusesAcquiresDuringTheDelay_ThenServesTheWaiter()
    {
        var id = LockId.Create(NewPrefix(), "!stuck:example.org");
        var old = (await Cluster.Locks.TryAcquireAsync(id.Name, id.Key))!;
        var waiting = Cluster.SiloLocks(1).AcquireAsync(id.Name, id.Key).AsTask();
        await Eventually.TrueAsync(async () => (await Admin.Inspect(id.Name, id.Key, LockKind.Plain)).Waiters.Count == 1, "the waiter is in line");
        var forcedAt = Cluster.SiloClock.GetUtcNow();

        var result = await Admin.ForceRelease(id.Name, id.Key, LockKind.Plain, old.FencingToken, "worker hung", "test-operator");

        Assert.Equal(ForceReleaseOutcome.Released, result.Outcome);
        Assert.Equal(
            new ReleasedHold(id.Name, id.Key, LockKind.Plain, old.Owner, old.FencingToken, forcedAt + R + Margin),
            Assert.Single(result.Released));

        // The lock-delay: held by nobody, yet nobody is granted; the caller sees "held" (null).
        Assert.Null(await Plain(id).GetInfo());
        Assert.Null(await Plain(id).TryAcquire("intruder"));
        Assert.Equal(forcedAt + R + Margin, (await Admin.Inspect(id.Name, id.Key, LockKind.Plain)).NoGrantsBefore);
        Assert.False(waiting.IsCompleted);

        // The old holder's next renewal is refused: it learns that it lost, while nobody holds the lock.
        Cluster.Advance(R);
        await Eventually.TrueAsync(() => old.HandleLostToken.IsCancellationRequested, "the old holder's HandleLostToken fired");
        Assert.False(waiting.IsCompleted);
        Assert.Null(await Plain(id).TryAcquire("intruder"));

        // Then the line is served.
        Cluster.Advance(Margin);
        await using var next = await waiting.WaitAsync(Eventually.DefaultTimeout);
        Assert.True(next.FencingToken > old.FencingToken);
        Assert.Null((await Admin.Inspect(id.Name, id.Key, LockKind.Plain)).NoGrantsBefore);
        await old.DisposeAsync();
    }

    [Fact]
    public async Task ForceRelease_WhenTheFencingTokenMovedOn_OrNobodyHolds_FreesNothing()
    {
        var id = LockId.Create(NewPrefix(), "k");
        var first = (await Plain(id).TryAcquire("one"))!;
        await Plain(id).Release(first.Token);
        var second = (await Plain(id).TryAcquire("two"))!;

        var moved = await Admin.ForceRelease(id.Name, id.Key, LockKind.Plain, first.FencingToken, "stale page", "test-operator");

        Assert.Equal(ForceReleaseOutcome.FencingTokenMoved, moved.Outcome);
        Assert.Empty(moved.Released);
        Assert.True(await Plain(id).IsStillValid(second.Token));
        Assert.Null((await Admin.Inspect(id.Name, id.Key, LockKind.Plain)).NoGrantsBefore);

        var free = LockId.Create(NewPrefix(), "k");
        var none = await Admin.ForceRelease(free.Name, free.Key, kind: null, expectedFencingToken: null, "just in case", "test-operator");
        Assert.Equal(ForceReleaseOutcome.NotHeld, none.Outcome);
        Assert.Empty(none.Released);
        Assert.NotNull(await Plain(free).TryAcquire("anyone"));
    }

    [Fact]
    public async Task ForceRelease_TheLockDelaySurvivesDeactivationOfTheLock()
    {
        var id = LockId.Create(NewPrefix(), "k");
        var lease = (await Plain(id).TryAcquire("hung"))!;
        await Admin.ForceRelease(id.Name, id.Key, LockKind.Plain, expectedFencingToken: null, "hung", "test-operator");

        await Cluster.Cluster.DeactivateAsync(Plain(id));

        Assert.Null(await Plain(id).TryAcquire("intruder"));
        Assert.False(await Plain(id).IsStillValid(lease.Token));
        Assert.Null(await Plain(id).Renew(lease.Token));
        Cluster.Advance(R + Margin);
        var next = await Plain(id).TryAcquire("next");
        Assert.NotNull(next);
        Assert.True(next.FencingToken > lease.FencingToken);
    }

    [Fact]
    public async Task ForceRelease_OfOneKind_FreesOnlyThoseHoldersOfTheReadWriteLock()
    {
        var id = LockId.Create(NewPrefix(), "k");
        var reader = (await ReadWrite(id).TryAcquireRead("reader"))!;
        var plain = (await Plain(id).TryAcquire("plain"))!;

        var result = await Admin.ForceRelease(id.Name, id.Key, LockKind.Read, expectedFencingToken: null, "reader hung", "test-operator");

        var freed = Assert.Single(result.Released);
        Assert.Equal((LockKind.Read, "reader", reader.FencingToken), (freed.Kind, freed.Owner, freed.FencingToken));
        Assert.False(await ReadWrite(id).IsStillValid(reader.Token));
        Assert.True(await Plain(id).IsStillValid(plain.Token));
        Assert.True((await Admin.Inspect(id.Name, id.Key, LockKind.Read)).IsReadWrite);
    }

    [Fact]
    public async Task ReleaseOwner_FreesEveryLockOfThatOwner_AndOnlyThose()
    {
        var prefix = NewPrefix();
        var doomed = "doomed-" + prefix;
        var a = LockId.Create(prefix, "a");
        var b = LockId.Create(prefix, "b");
        var shared = LockId.Create(prefix, "shared");
        var mine = new[]
        {
            (await Plain(a).TryAcquire(doomed))!,
            (await Plain(b).TryAcquire(doomed))!,
        };
        var myRead = (await ReadWrite(shared).TryAcquireRead(doomed))!;
        var theirs = (await Plain(shared).TryAcquire("survivor"))!;
        var theirRead = (await ReadWrite(shared).TryAcquireRead("survivor"))!;

        var result = await Admin.ReleaseOwner(doomed, "worker died", "test-operator");

        Assert.Equal(ForceReleaseOutcome.Released, result.Outcome);
        Assert.Equal(
            new[] { (a.Key, LockKind.Plain, mine[0].FencingToken), (b.Key, LockKind.Plain, mine[1].FencingToken), (shared.Key, LockKind.Read, myRead.FencingToken) }.OrderBy(x => x.Item1),
            result.Released.Select(r => (r.Key, r.Kind, r.FencingToken)).OrderBy(x => x.Key));
        Assert.All(result.Released, r => Assert.Equal(doomed, r.Owner));
        Assert.False(await Plain(a).IsStillValid(mine[0].Token));
        Assert.False(await Plain(b).IsStillValid(mine[1].Token));
        Assert.False(await ReadWrite(shared).IsStillValid(myRead.Token));
        Assert.True(await Plain(shared).IsStillValid(theirs.Token));
        Assert.True(await ReadWrite(shared).IsStillValid(theirRead.Token));
        Assert.Empty((await Admin.List(new LockListQuery(Owner: doomed))).Locks);

        Assert.Equal(ForceReleaseOutcome.NotHeld, (await Admin.ReleaseOwner(doomed, "again", "test-operator")).Outcome);
    }

    [Fact]
    public async Task BadInput_IsRefusedWithTheRuleItBreaks_AndFreesNothing()
    {
        var id = LockId.Create(NewPrefix(), "k");
        var lease = (await Plain(id).TryAcquire("holder"))!;

        Assert.Contains("a reason is required", (await Assert.ThrowsAsync<ArgumentException>(() => Admin.ForceRelease(id.Name, id.Key, LockKind.Plain, null, "", "op"))).Message, StringComparison.Ordinal);
        Assert.Contains("a reason is required", (await Assert.ThrowsAsync<ArgumentException>(() => Admin.ForceRelease(id.Name, id.Key, LockKind.Plain, null, "   ", "op"))).Message, StringComparison.Ordinal);
        Assert.Contains("requestedBy must name who asks", (await Assert.ThrowsAsync<ArgumentException>(() => Admin.ForceRelease(id.Name, id.Key, LockKind.Plain, null, "why", ""))).Message, StringComparison.Ordinal);
        Assert.Contains(LockId.NameRule, (await Assert.ThrowsAsync<ArgumentException>(() => Admin.ForceRelease("bad:name", id.Key, LockKind.Plain, null, "why", "op"))).Message, StringComparison.Ordinal);
        Assert.Contains("a reason is required", (await Assert.ThrowsAsync<ArgumentException>(() => Admin.ReleaseOwner("holder", "", "op"))).Message, StringComparison.Ordinal);
        Assert.Contains(LockOwner.Rule, (await Assert.ThrowsAsync<ArgumentException>(() => Admin.ReleaseOwner("", "why", "op"))).Message, StringComparison.Ordinal);
        Assert.Contains("a page size must be from 1 to 1000", (await Assert.ThrowsAsync<ArgumentException>(() => Admin.List(new LockListQuery(PageSize: 0)))).Message, StringComparison.Ordinal);
        Assert.Contains("a page size must be from 1 to 1000", (await Assert.ThrowsAsync<ArgumentException>(() => Admin.List(new LockListQuery(PageSize: 1001)))).Message, StringComparison.Ordinal);
        Assert.Contains("a name prefix must be", (await Assert.ThrowsAsync<ArgumentException>(() => Admin.List(new LockListQuery(NamePrefix: "no:colons")))).Message, StringComparison.Ordinal);
        Assert.Contains("Continuation", (await Assert.ThrowsAsync<ArgumentException>(() => Admin.List(new LockListQuery(Continuation: "made-up")))).Message, StringComparison.Ordinal);
        Assert.Contains(LockId.KeyRule, (await Assert.ThrowsAsync<ArgumentException>(() => Admin.Inspect(id.Name, "nul\0", LockKind.Plain))).Message, StringComparison.Ordinal);

        Assert.True(await Plain(id).IsStillValid(lease.Token));
        Assert.Null((await Admin.Inspect(id.Name, id.Key, LockKind.Plain)).NoGrantsBefore);
    }

    /// <summary>The handle's token, read from its lease through the grain (the handle never shows it).</summary>
    private async Task<string> SecretOfAsync(OrleansLocks.Client.LockHandle handle)
    {
        // The stored state holds it; tests may look where operators cannot.
        var stored = await Cluster.StoredStateAsync(handle.Id);
        Assert.Equal(handle.FencingToken, stored.FencingToken);
        return stored.Token!;
    }
}

[Collection(MemoryClusterCollection.Name)]
public sealed class LockAdminTests_Memory(MemoryClusterFixture fixture) : LockAdminTests(fixture.Cluster);

[Collection(PostgresClusterCollection.Name)]
public sealed class LockAdminTests_Postgres(PostgresClusterFixture fixture) : LockAdminTests(fixture.Cluster);
