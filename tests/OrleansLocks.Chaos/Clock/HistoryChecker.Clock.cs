using OrleansLocks.Chaos.Clock;

namespace OrleansLocks.Chaos;

/// <summary>
/// The clock rules of the history checker. Times recorded by the workers and the controller are the
/// machine's real clock; grant and expiry times are the deciding silo's, which a clock-skew fault
/// shifts. So the rules that compare silo times allow for the skew in force, and one more rule
/// compares what the holders believed, on the real clock: two holders of a lock must never both
/// believe they hold it at once. Under a skew beyond the clients' allowance the clock assumption
/// (docs/safety.md) predicts exactly such overlaps, each no longer than Δ - allowance; those are
/// reported as predicted, anything else stays a violation.
/// </summary>
internal sealed partial class HistoryChecker
{
    // A holder's last look at its lost token can come after its lease's local deadline by the time its
    // timer callback waited for a thread and its 100 ms work loop: a belief that late is no evidence.
    private const long BeliefSlack = 250;

    /// <summary>The clock-skew faults of the run, with the offset each put on its silo.</summary>
    public IReadOnlyList<ClockSkew> ClockSkews { get; init; } = [];

    /// <summary>Each pair of holders that believed at once within what a skew beyond the allowance predicts.</summary>
    public List<string> PredictedByClock { get; } = [];

    /// <summary>
    /// How far two silo-stamped times around [<paramref name="from"/>, <paramref name="to"/>] may be
    /// from the real order: the largest skew whose stamps may still be compared then (the fault, and a
    /// lease after it, when leases it stamped run out), widened by the skew itself on both sides, as a
    /// stamp made during the fault can read up to that much before its start or after its end.
    /// </summary>
    private long ClockSlack(long from, long to) =>
        ClockSkews.Select(s => (Skew: s, Ms: (long)s.Offset.Duration().TotalMilliseconds))
            .Where(s => s.Skew.Start - s.Ms <= Math.Max(from, to) && Math.Min(from, to) <= s.Skew.End + _leaseMs + s.Ms)
            .Select(s => s.Ms)
            .DefaultIfEmpty(0)
            .Max();

    /// <summary>
    /// Per lock, in fencing order: a holder's grant answer must not come before the previous holder's
    /// last look at its lease that still found it held. A holder whose process was paused
    /// (pause-client) is left out: a frozen holder may wake and look before its timer fires, which is
    /// why fencing tokens exist, and the fence's refusals are counted for it.
    /// </summary>
    private void CheckBeliefs()
    {
        var grantSeen = new Dictionary<(string, long), (string Worker, long At)>();
        var believed = new Dictionary<(string, long), (string Worker, long From, long Until)>();
        foreach (var e in events)
        {
            if (e.Kind == "grant")
            {
                grantSeen[(e.Lock!, e.Fencing!.Value)] = (e.Worker, e.At);
            }
            else if (e.Kind == "end" && e.HeldSeen is { } seen && grantSeen.TryGetValue((e.Lock!, e.Fencing!.Value), out var g) && g.Worker == e.Worker)
            {
                believed[(e.Lock!, e.Fencing.Value)] = (e.Worker, g.At, seen);
            }
        }

        var allowanceMs = (long)ChaosClient.ClockSkewAllowance.TotalMilliseconds;
        foreach (var ((lockName, fencing), before) in believed)
        {
            if (faults.Any(f => f.Kind == "pause-client" && f.Target == before.Worker && f.Start <= before.Until && before.From <= f.End))
            {
                continue;
            }

            foreach (var ((otherLock, laterFencing), after) in grantSeen)
            {
                if (otherLock != lockName || laterFencing <= fencing || after.At + BeliefSlack >= before.Until)
                {
                    continue;
                }

                var overlap = before.Until - after.At;
                var text = $"{lockName}: {before.Worker} (fencing {fencing}) still believed it held at {before.Until}, {overlap} ms after {after.Worker} (fencing {laterFencing}) was granted it (answer at {after.At})";
                var skew = ClockSkews.FirstOrDefault(s => s.Start <= before.Until && after.At <= s.End);
                var predicted = skew is null ? 0 : (long)skew.Offset.Duration().TotalMilliseconds - allowanceMs;
                if (skew is not null && overlap <= predicted + BeliefSlack)
                {
                    PredictedByClock.Add($"{text}; {skew.Silo}'s clock was {(skew.Offset > TimeSpan.Zero ? "ahead" : "behind")} by {skew.Offset.Duration().TotalMilliseconds:F0} ms, so up to {predicted} ms is predicted. {StaleWritesAfter(lockName, fencing, after.At)}");
                }
                else
                {
                    Violations.Add($"{text}: two holders at once{(skew is null ? "" : $", longer than the {Math.Max(predicted, 0)} ms {skew.Silo}'s skew explains")}.");
                }
            }
        }

        if (PredictedByClock.Count > 0)
        {
            Notes.Add($"{PredictedByClock.Count} overlaps of two holders' beliefs, each within what the clock assumption predicts for a skew beyond the {allowanceMs} ms allowance:\n  - {string.Join("\n  - ", PredictedByClock.Take(20))}");
        }
    }

    /// <summary>What the fence did with the older holder's writes made after the newer grant.</summary>
    private string StaleWritesAfter(string lockName, long fencing, long from)
    {
        var late = events.Where(e => e.Lock == lockName && e.Fencing == fencing && e.At >= from && e.Kind is "write" or "write-refused").ToList();
        return $"The older holder's writes after that grant: {late.Count(e => e.Kind == "write")} committed, {late.Count(e => e.Kind == "write-refused")} refused by the fence.";
    }
}
