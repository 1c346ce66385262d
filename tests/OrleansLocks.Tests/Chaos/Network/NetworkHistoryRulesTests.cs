using OrleansLocks.Chaos;

namespace OrleansLocks.Tests.Chaos.Network;

/// <summary>
/// What the history checker makes of the network faults: a client cut from its gateways loses its
/// lease without a violation but its lock may not go to another before that lease ended; a silo cut
/// off may run on beside new activations, so a stale "held" answer is explained then, and only then.
/// </summary>
public sealed class NetworkHistoryRulesTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan WaiterTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(2);

    [Fact]
    public void ACutClientsLostLease_AndAGrantToAnotherAfterItEnded_AreNoViolation()
    {
        var checker = Check(
            [.. CutHolder(), Grant("probe", 1, fencing: 2, granted: 9_100)],
            new Fault("client-cut", "w1", 3_500, 12_000));

        Assert.Empty(checker.Violations);
    }

    [Fact]
    public void AGrantToAnotherBeforeTheCutClientsAcknowledgedExpiry_IsTwoHolders()
    {
        var checker = Check(
            [.. CutHolder(), Grant("probe", 1, fencing: 2, granted: 8_000)],
            new Fault("client-cut", "w1", 3_500, 12_000));

        Assert.Contains(checker.Violations, v => v.Contains("two holders", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("partition-silo")]
    [InlineData("silo-db-cut")]
    [InlineData("one-way-loss")]
    public void AHeldAnswerFromAStaleView_IsExplainedDuringAFaultThatMayLeaveASiloRunningOn(string kind)
    {
        Assert.Empty(Check(StaleViewHistory(), new Fault(kind, "s1", 500, 2_500)).Violations);
    }

    [Fact]
    public void AHeldAnswerFromAStaleView_IsAViolationDuringAClientCut_WhichLeavesTheSilosWhole()
    {
        var checker = Check(StaleViewHistory(), new Fault("client-cut", "w3", 500, 2_500));

        Assert.Contains(checker.Violations, v => v.Contains("nobody held", StringComparison.Ordinal));
    }

    /// <summary>w1 granted at 1000 (lease to 7000), one renewal seen (to 9000), then cut: its lease runs out.</summary>
    private static ChaosEvent[] CutHolder() =>
    [
        Grant("w1", 0, fencing: 1, granted: 1_000),
        new() { Kind = "renew", Worker = "w1", Actor = 0, Lock = "k0", Fencing = 1, Expires = 9_000, At = 3_000 },
        new() { Kind = "end", Worker = "w1", Actor = 0, Lock = "k0", Fencing = 1, At = 9_500, Reason = "lost", Expires = 9_000 },
    ];

    /// <summary>Released at 1101; a "held" answer at 3000 can only come from a view that still has the lease (to 7000).</summary>
    private static ChaosEvent[] StaleViewHistory() =>
    [
        Grant("w1", 0, fencing: 1, granted: 1_000),
        new() { Kind = "end", Worker = "w1", Actor = 0, Lock = "k0", Fencing = 1, At = 1_101, Reason = "released", ReleaseSent = 1_100, ReleaseAcked = 1_101 },
        new() { Kind = "null", Worker = "w2", Actor = 0, Lock = "k0", Op = "try", Sent = 3_000, At = 3_002 },
    ];

    private static HistoryChecker Check(ChaosEvent[] events, Fault fault)
    {
        var checker = new HistoryChecker(events, [fault], [], Lease, WaiterTimeout, Poll);
        checker.Check();
        return checker;
    }

    private static ChaosEvent Grant(string worker, int actor, long fencing, long granted) =>
        new() { Kind = "grant", Worker = worker, Actor = actor, Lock = "k0", Op = "try", Sent = granted - 1, At = granted + 1, Fencing = fencing, Granted = granted, Expires = granted + 6_000 };
}
