using OrleansLocks.Chaos;
using OrleansLocks.Chaos.Clock;

namespace OrleansLocks.Tests.Chaos.Clock;

/// <summary>
/// The checker's clock rules, on hand-made histories: two holders believing at once is a violation,
/// except within what a skew beyond the clients' 1 s allowance predicts (Δ - allowance); and the rules
/// that compare silo-stamped times allow for the skew a fault put on a silo, and only then.
/// </summary>
public sealed class HistoryCheckerClockTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(6);

    // w1 is granted at 1000 by a right clock and still sees its lease held at 5500 (its local deadline
    // is 1000 + 6000 - 1000); w2's grant comes at 4000 from a silo that judged the lease over.
    private static readonly ChaosEvent[] Overlap =
    [
        new() { Kind = "grant", Worker = "w1", Actor = 0, Lock = "k0", Op = "try", Sent = 999, At = 1001, Fencing = 1, Granted = 1000, Expires = 7000 },
        new() { Kind = "grant", Worker = "w2", Actor = 0, Lock = "k0", Op = "try", Sent = 3990, At = 4001, Fencing = 2, Granted = 7000, Expires = 13000 },
        new() { Kind = "end", Worker = "w1", Actor = 0, Lock = "k0", Fencing = 1, At = 5700, Reason = "lost", ReleaseSent = 5600, ReleaseAcked = 5650, HeldSeen = 5500, Expires = 7000 },
        new() { Kind = "end", Worker = "w2", Actor = 0, Lock = "k0", Fencing = 2, At = 6100, Reason = "released", ReleaseSent = 6000, ReleaseAcked = 6050, HeldSeen = 5900, Expires = 13000 },
    ];

    [Fact]
    public void TwoHoldersBelievingAtOnce_WithNoSkewInForce_AreAViolation()
    {
        var checker = Check(Overlap, []);

        Assert.Contains(checker.Violations, v => v.Contains("two holders at once", StringComparison.Ordinal));
        Assert.Empty(checker.PredictedByClock);
    }

    [Fact]
    public void AnOverlapWithinDeltaMinusTheAllowance_UnderASkewBeyondIt_IsReportedAsPredicted()
    {
        // Ahead by 3 s with a 1 s allowance: up to 2 s predicted; this overlap is 1.5 s.
        var checker = Check(Overlap, [new ClockSkew("silo1", TimeSpan.FromSeconds(3), 0, 20_000)]);

        Assert.Empty(checker.Violations);
        var predicted = Assert.Single(checker.PredictedByClock);
        Assert.Contains("up to 2000 ms is predicted", predicted, StringComparison.Ordinal);
    }

    [Fact]
    public void AnOverlapLongerThanTheSkewExplains_StaysAViolation()
    {
        // Ahead by 1.5 s: only 0.5 s predicted, the overlap is 1.5 s.
        var checker = Check(Overlap, [new ClockSkew("silo1", TimeSpan.FromMilliseconds(1500), 0, 20_000)]);

        Assert.Contains(checker.Violations, v => v.Contains("longer than the 500 ms silo1's skew explains", StringComparison.Ordinal));
    }

    [Fact]
    public void AGrantStampedByASiloBehind_AfterTheRelease_IsNoViolationOnlyWhenTheSkewIsKnown()
    {
        // w1 sends its release at 5000 (real); w2 is granted at 5100 real by a silo 700 ms behind,
        // which stamps 4400: before the release on the face of it.
        ChaosEvent[] history =
        [
            new() { Kind = "grant", Worker = "w1", Actor = 0, Lock = "k0", Op = "try", Sent = 999, At = 1001, Fencing = 1, Granted = 1000, Expires = 7000 },
            new() { Kind = "end", Worker = "w1", Actor = 0, Lock = "k0", Fencing = 1, At = 5050, Reason = "released", ReleaseSent = 5000, ReleaseAcked = 5040, HeldSeen = 4900, Expires = 7000 },
            new() { Kind = "grant", Worker = "w2", Actor = 0, Lock = "k0", Op = "try", Sent = 5090, At = 5110, Fencing = 2, Granted = 4400, Expires = 10400 },
            new() { Kind = "end", Worker = "w2", Actor = 0, Lock = "k0", Fencing = 2, At = 5300, Reason = "released", ReleaseSent = 5200, ReleaseAcked = 5250, HeldSeen = 5150, Expires = 10400 },
        ];

        Assert.Contains(Check(history, []).Violations, v => v.Contains("two holders", StringComparison.Ordinal));
        Assert.Empty(Check(history, [new ClockSkew("silo2", TimeSpan.FromMilliseconds(-700), 3000, 20_000)]).Violations);

        // Also when the skew was set only just before that grant: the stamp reads before the fault began.
        Assert.Empty(Check(history, [new ClockSkew("silo2", TimeSpan.FromMilliseconds(-700), 4900, 20_000)]).Violations);
    }

    private static HistoryChecker Check(ChaosEvent[] events, ClockSkew[] skews)
    {
        var faults = skews.Select(s => new Fault("clock-skew", s.Silo, s.Start, s.End)).ToList();
        var checker = new HistoryChecker(events, faults, [], Lease, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(2)) { ClockSkews = skews };
        checker.Check();
        return checker;
    }
}
