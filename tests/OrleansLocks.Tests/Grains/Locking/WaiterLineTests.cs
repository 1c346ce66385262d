using OrleansLocks.Grains;
using OrleansLocks.Grains.Locking;

namespace OrleansLocks.Tests.Grains.Locking;

/// <summary>The line of waiters of one lock, checked without a cluster: a clock in milliseconds and plain state.</summary>
public sealed class WaiterLineTests
{
    private const long LeaseMs = 30_000;
    private const long TimeoutMs = 10_000;
    private const long Now = 1_700_000_000_000;

    [Fact]
    public void TheLine_IsServedInOrder_AndAWaitingWriterHoldsBackTheReadersBehindIt()
    {
        var line = new WaiterLine(maxWaiters: 10, TimeoutMs);
        var firstReader = line.TryJoin("r1", LockKind.Read, "a")!;
        line.TryJoin("w", LockKind.Write, "b");
        line.TryJoin("r2", LockKind.Read, "c");
        var book = new LeaseBook(new LockState(), LeaseMs, recordExists: true);

        var grants = line.Serve(w => book.Fits(w.Kind, Now) ? book.Grant(w.Kind, w.Owner, w.Id, Now) : null);

        Assert.Equal([firstReader], grants.Select(g => g.Waiter));
        Assert.Single(book.Next.Holders);
        Assert.Equal(3, line.Count);
    }

    [Fact]
    public async Task AServedWaiter_LeavesTheLineOnlyWhenGranted_AndIsAnswered()
    {
        var line = new WaiterLine(maxWaiters: 10, TimeoutMs);
        var waiter = line.TryJoin("w1", LockKind.Plain, "a")!;
        var call = line.OpenCall(waiter, Now);
        var lease = Lease();

        line.Granted(waiter, lease, Now);

        Assert.Equal(0, line.Count);
        Assert.False(line.IsIdle);
        Assert.True(call.Task.IsCompletedSuccessfully);
        Assert.Same(lease, await call.Task);
        Assert.Equal(Now + TimeoutMs, line.NextDue());
    }

    [Fact]
    public void AFullLine_RefusesANewWaiter_AndQueuesNothing()
    {
        var line = new WaiterLine(maxWaiters: 2, TimeoutMs);
        line.TryJoin("a", LockKind.Plain, "o");
        line.TryJoin("b", LockKind.Plain, "o");

        Assert.Null(line.TryJoin("c", LockKind.Plain, "o"));
        Assert.Equal(2, line.Count);
        Assert.False(line.TryGet("c", out _));
    }

    [Fact]
    public async Task AWaiterThatLeft_IsRemembered_SoItsLateWaitIsRefused()
    {
        var line = new WaiterLine(maxWaiters: 10, TimeoutMs);
        var waiter = line.TryJoin("w1", LockKind.Plain, "a")!;
        var call = line.OpenCall(waiter, Now);

        line.Leave("w1", Now);

        Assert.True(line.HasLeft("w1", Now + 1));
        Assert.False(line.TryGet("w1", out _));
        Assert.Equal(0, line.Count);
        Assert.True(call.Task.IsCompleted);
        Assert.Null(await call.Task);
        Assert.False(line.HasLeft("w2", Now + 1));
    }

    [Fact]
    public void AWaiterThatLeft_IsForgottenAfterTheDepartedMemory()
    {
        var line = new WaiterLine(maxWaiters: 10, TimeoutMs);

        line.Leave("w1", Now);

        Assert.True(line.HasLeft("w1", Now + WaiterLine.DepartedMemoryMs - 1));
        Assert.False(line.HasLeft("w1", Now + WaiterLine.DepartedMemoryMs));
    }

    [Fact]
    public void AnUnconfirmedGrant_IsTakenBackAtItsDeadline()
    {
        var line = new WaiterLine(maxWaiters: 10, TimeoutMs);
        var waiter = line.TryJoin("w1", LockKind.Plain, "a")!;
        var lease = Lease();
        line.Granted(waiter, lease, Now);

        Assert.Empty(line.TakeBackUnconfirmed(Now + TimeoutMs - 1));
        Assert.Equal([lease], line.TakeBackUnconfirmed(Now + TimeoutMs));
        Assert.True(line.IsIdle);
        Assert.Null(line.NextDue());
    }

    [Fact]
    public void AConfirmedGrant_IsNeverTakenBack()
    {
        var line = new WaiterLine(maxWaiters: 10, TimeoutMs);
        var waiter = line.TryJoin("w1", LockKind.Plain, "a")!;
        var lease = Lease();
        line.Granted(waiter, lease, Now);

        line.ForgetUnconfirmed(lease.Token);

        Assert.Empty(line.TakeBackUnconfirmed(Now + TimeoutMs));
        Assert.True(line.IsIdle);
    }

    [Fact]
    public void AWaiterThatStopsCalling_IsReapedAfterTheWaiterTimeout_ButNotWhileItsCallIsOpen()
    {
        var line = new WaiterLine(maxWaiters: 10, TimeoutMs);
        var silent = line.TryJoin("silent", LockKind.Plain, "a")!;
        var calling = line.TryJoin("calling", LockKind.Plain, "b")!;
        var silentCall = line.OpenCall(silent, Now);
        line.OpenCall(calling, Now);
        Assert.True(line.EndCall("silent", silentCall, Now + 100));

        Assert.Equal(Now + 100 + TimeoutMs, line.NextDue());
        Assert.Empty(line.ReapSilent(Now + 100 + TimeoutMs - 1));
        Assert.Equal([silent], line.ReapSilent(Now + 100 + TimeoutMs));
        Assert.Equal([calling], [line.First!]);
        Assert.Equal(1, line.Count);
    }

    [Fact]
    public void EndCall_OfACallThatWasReplaced_LeavesTheNewCallOpen()
    {
        var line = new WaiterLine(maxWaiters: 10, TimeoutMs);
        var waiter = line.TryJoin("w1", LockKind.Plain, "a")!;
        var old = line.OpenCall(waiter, Now);
        waiter.Answer(null);
        var current = line.OpenCall(waiter, Now + 1);

        Assert.False(line.EndCall("w1", old, Now + 2));
        Assert.Same(current, waiter.Call);
    }

    [Fact]
    public async Task ForgetAll_AnswersEveryOpenCallNotYet_AndEmptiesTheLine()
    {
        var line = new WaiterLine(maxWaiters: 10, TimeoutMs);
        var call = line.OpenCall(line.TryJoin("w1", LockKind.Plain, "a")!, Now);
        line.Granted(line.TryJoin("w2", LockKind.Plain, "b")!, Lease(), Now);

        line.ForgetAll();

        Assert.True(call.Task.IsCompleted);
        Assert.Null(await call.Task);
        Assert.True(line.IsIdle);
        Assert.Equal(0, line.Count);
    }

    [Fact]
    public void CountWaiting_CountsTheLineByKind()
    {
        var line = new WaiterLine(maxWaiters: 10, TimeoutMs);
        line.TryJoin("r1", LockKind.Read, "a");
        line.TryJoin("w1", LockKind.Write, "a");
        line.TryJoin("r2", LockKind.Read, "a");

        Assert.Equal(2, line.CountWaiting(LockKind.Read));
        Assert.Equal(1, line.CountWaiting(LockKind.Write));
    }

    private static LockLease Lease() =>
        new(LockToken.New(), 7, "a", DateTimeOffset.FromUnixTimeMilliseconds(Now), DateTimeOffset.FromUnixTimeMilliseconds(Now), DateTimeOffset.FromUnixTimeMilliseconds(Now + LeaseMs));
}
