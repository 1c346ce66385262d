using OrleansLocks.Chaos;

namespace OrleansLocks.Tests.Chaos;

/// <summary>
/// The chaos program's history checker must catch each kind of violation it claims to (and accept an
/// honest history), or a green chaos run would prove nothing. Histories here are made by hand.
/// </summary>
public sealed class HistoryCheckerTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan WaiterTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(5);

    [Fact]
    public void AnHonestHistory_HasNoViolation()
    {
        var checker = Check(
            Start("w1", 0, "k0", "try", 1000), Grant("w1", 0, "k0", "try", fencing: 1, granted: 1001, at: 1002),
            Start("w2", 0, "k0", "try", 1100), Null("w2", 0, "k0", 1100, 1101),
            End("w1", 0, "k0", 1, releaseSent: 1500, releaseAcked: 1502),
            Start("w2", 0, "k0", "wait", 1400), Grant("w2", 0, "k0", "wait", fencing: 2, granted: 1501, at: 1503),
            End("w2", 0, "k0", 2, releaseSent: 1600, releaseAcked: 1601));
        Assert.Empty(checker.Violations);
    }

    [Fact]
    public void TwoHoldersAtOnce_AreAViolation()
    {
        var checker = Check(
            Grant("w1", 0, "k0", "try", fencing: 1, granted: 1000, at: 1001),
            Grant("w2", 0, "k0", "try", fencing: 2, granted: 1200, at: 1201),
            End("w1", 0, "k0", 1, releaseSent: 1500, releaseAcked: 1501),
            End("w2", 0, "k0", 2, releaseSent: 1600, releaseAcked: 1601));
        Assert.Contains(checker.Violations, v => v.Contains("two holders", StringComparison.Ordinal));
    }

    [Fact]
    public void AFencingTokenGrantedTwice_OrOutOfOrder_IsAViolation()
    {
        var twice = Check(
            Grant("w1", 0, "k0", "try", fencing: 5, granted: 1000, at: 1001), End("w1", 0, "k0", 5, 1100, 1101),
            Grant("w2", 0, "k0", "try", fencing: 5, granted: 1200, at: 1201), End("w2", 0, "k0", 5, 1300, 1301));
        Assert.Contains(twice.Violations, v => v.Contains("granted twice", StringComparison.Ordinal));

        var backwards = Check(
            Grant("w1", 0, "k0", "try", fencing: 7, granted: 1000, at: 1001), End("w1", 0, "k0", 7, 1100, 1101),
            Grant("w2", 0, "k0", "try", fencing: 6, granted: 1200, at: 1201), End("w2", 0, "k0", 6, 1300, 1301));
        Assert.Contains(backwards.Violations, v => v.Contains("before the smaller token", StringComparison.Ordinal));
    }

    [Fact]
    public void HeldAnsweredWhenNobodyHeldOrWaited_IsAViolation()
    {
        // e.g. a storage failure reported as "someone else holds it".
        var checker = Check(
            Grant("w1", 0, "k0", "try", fencing: 1, granted: 1000, at: 1001), End("w1", 0, "k0", 1, 1100, 1101),
            Start("w2", 0, "k0", "try", 5000), Null("w2", 0, "k0", 5000, 5003));
        Assert.Contains(checker.Violations, v => v.Contains("nobody held", StringComparison.Ordinal));
    }

    [Fact]
    public void HeldAnsweredAfterAWaiterGaveUp_IsExplainedOnlyWhenItsLeavingWasInDoubt()
    {
        // The wait gave up at 4000, within its budget, and nothing failed: it left the line then.
        var quickLeave = new ChaosEvent { Kind = "wait-timeout", Worker = "w1", Actor = 0, Lock = "k0", Op = "wait", Sent = 1000, At = 4000, Timeout = 3000 };
        var nullAfter = Null("w2", 0, "k0", 6000, 6002);
        Assert.Contains(Check(quickLeave, nullAfter).Violations, v => v.Contains("nobody held", StringComparison.Ordinal));

        // Leaving took the client's whole 2 s budget: it was not confirmed, so the waiter may linger.
        var slowLeave = quickLeave with { At = 6000 };
        Assert.Empty(Check(slowLeave, Null("w2", 0, "k0", 8000, 8002)).Violations);

        // It gave up during a fault: a delayed wait call may have queued it at a new activation.
        var duringFault = new HistoryChecker([quickLeave, nullAfter], [new Fault("kill-silo", "silo0", 3500, 4500)], [], Lease, WaiterTimeout, Poll);
        duringFault.Check();
        Assert.Empty(duringFault.Violations);

        // Even then only for so long: the response timeout, a poll, and two waiter timeouts (21 s).
        var muchLater = new HistoryChecker([quickLeave, Null("w2", 0, "k0", 30_000, 30_002)], [new Fault("kill-silo", "silo0", 3500, 4500)], [], Lease, WaiterTimeout, Poll);
        muchLater.Check();
        Assert.Contains(muchLater.Violations, v => v.Contains("nobody held", StringComparison.Ordinal));
    }

    [Fact]
    public void HeldAnsweredFromAStaleView_IsExplainedOnlyWhileAFrozenSiloRunsOn()
    {
        // Released at 1101, but a second activation (a frozen silo's) may still see the lease to 7000.
        var grant = Grant("w1", 0, "k0", "try", fencing: 1, granted: 1000, at: 1001);
        var released = End("w1", 0, "k0", 1, 1100, 1101);
        var staleNull = Null("w2", 0, "k0", 3000, 3002);
        Assert.Contains(Check(grant, released, staleNull).Violations, v => v.Contains("nobody held", StringComparison.Ordinal));

        var paused = new HistoryChecker([grant, released, staleNull], [new Fault("pause-silo", "silo1", 500, 2500)], [], Lease, WaiterTimeout, Poll);
        paused.Check();
        Assert.Empty(paused.Violations);

        // No view lasts past the hold's lease (7000, or one more lease for a lost renewal answer).
        var pastTheLease = new HistoryChecker([grant, released, Null("w2", 0, "k0", 13_500, 13_502)], [new Fault("pause-silo", "silo1", 500, 9000)], [], Lease, WaiterTimeout, Poll);
        pastTheLease.Check();
        Assert.Contains(pastTheLease.Violations, v => v.Contains("nobody held", StringComparison.Ordinal));
    }

    [Fact]
    public void AHungOperation_IsAViolation()
    {
        var checker = Check(new ChaosEvent { Kind = "hung", Worker = "w1", Lock = "k0", Op = "wait", Sent = 1000, At = 41000 });
        Assert.Contains(checker.Violations, v => v.Contains("past its deadline", StringComparison.Ordinal));
    }

    [Fact]
    public void ALockOfAKilledHolder_NotGrantedAgainWithinTheLease_IsAViolation()
    {
        var events = new[]
        {
            Grant("w1", 0, "k0", "try", fencing: 1, granted: 1000, at: 1001),
            Grant("probe", 1, "k0", "wait", fencing: 2, granted: 60_000, at: 60_001),
            End("probe", 1, "k0", 2, 60_010, 60_011),
        };
        var checker = new HistoryChecker(events, [], [new Kill("w1", 2000)], Lease, WaiterTimeout, Poll);
        checker.Check();
        Assert.Contains(checker.Violations, v => v.Contains("not granted again", StringComparison.Ordinal));

        var inTime = new HistoryChecker(
            [events[0], Grant("probe", 1, "k0", "wait", fencing: 2, granted: 7100, at: 7101), End("probe", 1, "k0", 2, 7110, 7111)],
            [], [new Kill("w1", 2000)], Lease, WaiterTimeout, Poll);
        inTime.Check();
        Assert.Empty(inTime.Violations);
    }

    [Fact]
    public void ALockOfAKilledHolder_MayBeGrantedAgainLater_ByTheLengthOfAnOutageInBetween_AndNoLater()
    {
        var grant = Grant("w1", 0, "k0", "try", fencing: 1, granted: 1000, at: 1001);
        var late = new[] { grant, Grant("probe", 1, "k0", "wait", fencing: 2, granted: 16_000, at: 16_001), End("probe", 1, "k0", 2, 16_010, 16_011) };
        var outage = new Fault("pg-outage", "postgres", 9_000, 12_000);

        // Due by 14,000 (kill + lease + waiter timeout + 3 s); the 3 s outage in between moves it to 18,000.
        var withOutage = new HistoryChecker(late, [outage], [new Kill("w1", 2000)], Lease, WaiterTimeout, Poll);
        withOutage.Check();
        Assert.Empty(withOutage.Violations);

        var noFault = new HistoryChecker(late, [], [new Kill("w1", 2000)], Lease, WaiterTimeout, Poll);
        noFault.Check();
        Assert.Contains(noFault.Violations, v => v.Contains("not granted again", StringComparison.Ordinal));

        var faultAfterwards = new HistoryChecker(late, [new Fault("pg-outage", "postgres", 14_500, 17_500)], [new Kill("w1", 2000)], Lease, WaiterTimeout, Poll);
        faultAfterwards.Check();
        Assert.Contains(faultAfterwards.Violations, v => v.Contains("not granted again", StringComparison.Ordinal));
    }

    [Fact]
    public void AHolderKilledRightAfterSendingItsRelease_IsNotMistakenForTwoHolders()
    {
        var grant = Grant("w1", 0, "k0", "try", fencing: 1, granted: 1000, at: 1001);
        var next = Grant("w2", 0, "k0", "try", fencing: 2, granted: 1300, at: 1301);
        var released = new HistoryChecker(
            [grant, new ChaosEvent { Kind = "releasing", Worker = "w1", Actor = 0, Lock = "k0", Fencing = 1, At = 1200, ReleaseSent = 1200 }, next, End("w2", 0, "k0", 2, 1400, 1401)],
            [], [new Kill("w1", 1250)], Lease, WaiterTimeout, Poll);
        released.Check();
        Assert.Empty(released.Violations);

        // Without the release on record, the dead holder's lease (to 7000) was still running at 1300.
        var unreleased = new HistoryChecker([grant, next, End("w2", 0, "k0", 2, 1400, 1401)], [], [new Kill("w1", 1250)], Lease, WaiterTimeout, Poll);
        unreleased.Check();
        Assert.Contains(unreleased.Violations, v => v.Contains("two holders", StringComparison.Ordinal));
    }

    [Fact]
    public void AStaleWrite_IsRefusedByTheGuardedResource_NotCountedAsAViolation()
    {
        var checker = Check(
            Grant("w1", 0, "k0", "try", fencing: 1, granted: 1000, at: 1001),
            Write("w1", "k0", 1, 1010),
            Write("w2", "k0", 2, 1020),
            Write("w1", "k0", 1, 1030));
        Assert.Equal(1, checker.StaleWritesRefused);
    }

    [Fact]
    public void ARenewalAcknowledgedBeforeAPostgresCrash_ButMissingFromTheRecoveredRow_IsReported()
    {
        // Renewed to 12000 (acknowledged at 3000), crash at 5000, rows read at 6000 still say 7000.
        var history = new[] { Grant("w1", 0, "k0", "try", fencing: 3, granted: 1000, at: 1001), Renew("w1", 0, "k0", 3, expires: 12000, at: 3000) };
        var checker = CheckCrash(history, new RecoveredLock("k0", Held: true, FencingToken: 3, ExpiresAt: 7000));
        Assert.Equal(1, checker.AcknowledgedLostInCrash);
        Assert.Contains(checker.Violations, v => v.Contains("lost in pg-crash", StringComparison.Ordinal) && v.Contains("12000", StringComparison.Ordinal));
    }

    [Fact]
    public void ALeaseThatEndedBeforeTheRowsWereRead_IsReportedOnlyWhenItsOwnRowIsShorter()
    {
        // Granted until 5000, renewed until 5500: past the crash (5000), before the read (6000).
        var history = new[] { Grant("w1", 0, "k0", "try", fencing: 3, granted: -1000, at: -999), Renew("w1", 0, "k0", 3, expires: 5500, at: 3000) };
        var shortened = CheckCrash(history, new RecoveredLock("k0", Held: true, FencingToken: 3, ExpiresAt: 4000));
        Assert.Contains(shortened.Violations, v => v.Contains("says it ends at 4000", StringComparison.Ordinal));

        // Free by the read: the lease may simply have run out after the restart.
        var moved = CheckCrash(history, new RecoveredLock("k0", Held: false, FencingToken: 3, ExpiresAt: null));
        Assert.Empty(moved.Violations);
    }

    [Fact]
    public void AGrantAcknowledgedBeforeAPostgresCrash_StoredAsFreeOrWithALowerCounter_IsReported()
    {
        var history = new[] { Grant("w1", 0, "k0", "try", fencing: 3, granted: 1000, at: 1001) };
        var free = CheckCrash(history, new RecoveredLock("k0", Held: false, FencingToken: 3, ExpiresAt: null));
        Assert.Contains(free.Violations, v => v.Contains("says free", StringComparison.Ordinal));

        var regressed = CheckCrash(history, new RecoveredLock("k0", Held: true, FencingToken: 2, ExpiresAt: 7000));
        Assert.Contains(regressed.Violations, v => v.Contains("recovered counter is 2", StringComparison.Ordinal));
    }

    [Fact]
    public void AReleaseAcknowledgedBeforeAPostgresCrash_StoredAsStillHeld_IsReported()
    {
        var history = new[] { Grant("w1", 0, "k0", "try", fencing: 3, granted: 1000, at: 1001), End("w1", 0, "k0", 3, releaseSent: 2000, releaseAcked: 2002) };
        var checker = CheckCrash(history, new RecoveredLock("k0", Held: true, FencingToken: 3, ExpiresAt: 7000));
        Assert.Equal(1, checker.AcknowledgedLostInCrash);
        Assert.Contains(checker.Violations, v => v.Contains("still has that grant", StringComparison.Ordinal));
    }

    [Fact]
    public void APostgresCrash_ThatKeptEverythingAcknowledged_HasNoViolation()
    {
        var history = new[]
        {
            Grant("w1", 0, "k0", "try", fencing: 3, granted: 1000, at: 1001), Renew("w1", 0, "k0", 3, expires: 12000, at: 3000),
            Grant("w2", 0, "k1", "try", fencing: 8, granted: 1000, at: 1001), End("w2", 0, "k1", 8, releaseSent: 2000, releaseAcked: 2002),
        };
        var checker = CheckCrash(
            history,
            new RecoveredLock("k0", Held: true, FencingToken: 3, ExpiresAt: 12000),
            new RecoveredLock("k1", Held: false, FencingToken: 8, ExpiresAt: null));
        Assert.Empty(checker.Violations);
        Assert.Equal(0, checker.AcknowledgedLostInCrash);
        Assert.Equal((2, 1, 1), (checker.CrashChecks[0].Locks, checker.CrashChecks[0].LiveHolds, checker.CrashChecks[0].Releases));
    }

    [Fact]
    public void AStaleFencedWriteCommittedAfterANewerOne_IsReported()
    {
        var events = new[] { FencedWrite("w2", "k0", 2, "w2-1", 1010), FencedWrite("w1", "k0", 1, "w1-1", 1020) };
        var checker = new HistoryChecker(events, [], [], Lease, WaiterTimeout, Poll, guardedWrites: [new GuardedWrite(1, "k0", 2, "w2-1"), new GuardedWrite(2, "k0", 1, "w1-1")]);
        checker.Check();
        Assert.Equal(1, checker.StaleWritesAccepted);
        Assert.Contains(checker.Violations, v => v.Contains("stale write was accepted", StringComparison.Ordinal));
    }

    [Fact]
    public void FencedWritesRefusedAsStale_AreCounted_AndACleanHistoryPasses()
    {
        var events = new[]
        {
            FencedWrite("w1", "k0", 1, "w1-1", 1010), FencedWrite("probe", "k0", 2, "probe-1", 9000),
            FencedWrite("w1", "k0", 1, "w1-2", 9500) with { Kind = "write-refused" },
        };
        var checker = new HistoryChecker(events, [], [], Lease, WaiterTimeout, Poll, guardedWrites: [new GuardedWrite(1, "k0", 1, "w1-1"), new GuardedWrite(2, "k0", 2, "probe-1")]);
        checker.Check();
        Assert.Empty(checker.Violations);
        Assert.Equal((2, 1, 0), (checker.FencedWritesCommitted, checker.FencedWritesRefused, checker.StaleWritesAccepted));
    }

    [Fact]
    public void AFencedWriteAcknowledgedAsCommitted_ButMissingFromTheTable_IsReported()
    {
        var events = new[] { FencedWrite("w1", "k0", 1, "w1-1", 1010) };
        var checker = new HistoryChecker(events, [], [], Lease, WaiterTimeout, Poll, guardedWrites: []);
        checker.Check();
        Assert.Contains(checker.Violations, v => v.Contains("w1-1", StringComparison.Ordinal) && v.Contains("does not have it", StringComparison.Ordinal));
    }

    private static HistoryChecker CheckCrash(ChaosEvent[] history, params RecoveredLock[] rows)
    {
        var crash = new Fault("pg-crash", "postgres", 5000, 5900);
        var checker = new HistoryChecker(history, [crash], [], Lease, WaiterTimeout, Poll, crashes: [new CrashSnapshot(crash, 6000, rows)]);
        checker.Check();
        return checker;
    }

    private static ChaosEvent Renew(string worker, int actor, string lockName, long fencing, long expires, long at) =>
        new() { Kind = "renew", Worker = worker, Actor = actor, Lock = lockName, Fencing = fencing, Expires = expires, At = at };

    private static ChaosEvent FencedWrite(string worker, string lockName, long fencing, string writeId, long at) =>
        new() { Kind = "write", Worker = worker, Lock = lockName, Fencing = fencing, WriteId = writeId, Sent = at - 1, At = at };

    private static HistoryChecker Check(params ChaosEvent[] events)
    {
        var checker = new HistoryChecker(events, [], [], Lease, WaiterTimeout, Poll);
        checker.Check();
        return checker;
    }

    private static ChaosEvent Start(string worker, int actor, string lockName, string op, long sent) =>
        new() { Kind = "start", Worker = worker, Actor = actor, Lock = lockName, Op = op, Sent = sent, At = sent };

    private static ChaosEvent Grant(string worker, int actor, string lockName, string op, long fencing, long granted, long at) =>
        new() { Kind = "grant", Worker = worker, Actor = actor, Lock = lockName, Op = op, Sent = granted - 1, At = at, Fencing = fencing, Granted = granted, Expires = granted + 6000 };

    private static ChaosEvent Null(string worker, int actor, string lockName, long sent, long at) =>
        new() { Kind = "null", Worker = worker, Actor = actor, Lock = lockName, Op = "try", Sent = sent, At = at };

    private static ChaosEvent End(string worker, int actor, string lockName, long fencing, long releaseSent, long releaseAcked) =>
        new() { Kind = "end", Worker = worker, Actor = actor, Lock = lockName, Fencing = fencing, At = releaseAcked, Reason = "released", ReleaseSent = releaseSent, ReleaseAcked = releaseAcked };

    private static ChaosEvent Write(string worker, string lockName, long fencing, long at) =>
        new() { Kind = "write", Worker = worker, Lock = lockName, Fencing = fencing, At = at };
}
