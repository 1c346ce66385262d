namespace OrleansLocks.Chaos;

/// <summary>A fault the controller injected: what, on what, from when to when (Unix ms).</summary>
internal sealed record Fault(string Kind, string Target, long Start, long End);

/// <summary>A worker killed at <paramref name="At"/> (Unix ms).</summary>
internal sealed record Kill(string Worker, long At);

/// <summary>
/// Checks a run's history against the lock's promises. Every check is sound: it reports a violation
/// only when the recorded times prove one (times are the one machine clock shared by all processes;
/// grant times are the silo's own), so process pauses and lost answers can hide a violation but
/// never invent one.
/// </summary>
internal sealed partial class HistoryChecker(
    IReadOnlyList<ChaosEvent> events,
    IReadOnlyList<Fault> faults,
    IReadOnlyList<Kill> kills,
    TimeSpan lease,
    TimeSpan waiterTimeout,
    TimeSpan pollInterval,
    IReadOnlyList<CrashSnapshot>? crashes = null,
    IReadOnlyList<GuardedWrite>? guardedWrites = null)
{
    // Clock readings in different processes are taken at slightly different moments around the
    // same instant; a few milliseconds of slack keeps honest histories from looking wrong.
    private const long Slack = 5;

    // How long the client library waits for a waiter that gave up to leave the line before it
    // throws (LockProvider.LeaveBudget); leaving carries on in the background after that.
    private const long LeaveBudgetMs = 2000;

    private readonly long _leaseMs = (long)lease.TotalMilliseconds;
    private readonly long _waiterMs = (long)waiterTimeout.TotalMilliseconds;
    private readonly long _responseMs = (long)ChaosClient.ResponseTimeout.TotalMilliseconds;

    // The longest a waiter that gave up can stay in a lock's line when its leaving was not confirmed
    // (it failed, or outlasted its budget) or was overtaken by one of its own wait calls reaching
    // another activation: a call is dropped by Orleans once older than the response timeout, an
    // open call ends by itself after the poll interval, a waiter without a call is dropped after the
    // waiter timeout, and a grant made to it is taken back after another.
    private readonly long _lingerMs = (long)(ChaosClient.ResponseTimeout + pollInterval + (2 * waiterTimeout)).TotalMilliseconds;

    public List<string> Violations { get; } = [];

    public List<string> Notes { get; } = [];

    public List<Hold> Holds { get; } = [];

    /// <summary>Per fault: how long after it ended the first new grant came.</summary>
    public List<(Fault Fault, long? RecoveryMs)> Recoveries { get; } = [];

    /// <summary>Per killed worker: how long until every lock it held or was acquiring was granted again.</summary>
    public List<(Kill Kill, long? FreedAfterMs, int Locks)> DeadHolderRecoveries { get; } = [];

    public int StaleWritesRefused { get; private set; }

    public void Check()
    {
        var killedAt = kills.ToDictionary(k => k.Worker, k => k.At);
        var (holds, inFlight, waits, nulls) = Replay(killedAt);
        Holds.AddRange(holds);

        CheckFencingAndExclusion(holds);
        CheckBeliefs();
        CheckNullsWereHeld(holds, inFlight, waits, nulls);
        CheckNothingHung();
        CheckDeadHoldersFreed(holds, inFlight);
        CheckGuardedResource();
        CheckFencedWrites();
        CheckNothingAcknowledgedLostInCrashes();
        MeasureRecoveries(holds);
    }

    private (List<Hold>, List<(string Lock, long From, long To)>, List<(string Lock, long From, long To, long GaveUpAt)>, List<ChaosEvent>) Replay(Dictionary<string, long> killedAt)
    {
        var holds = new List<Hold>();
        var open = new Dictionary<(string, int), Hold>();
        var started = new Dictionary<(string, int), ChaosEvent>();
        var inFlight = new List<(string, long, long)>();
        var waits = new List<(string, long, long, long)>();
        var nulls = new List<ChaosEvent>();
        foreach (var e in events)
        {
            var actor = (e.Worker, e.Actor);
            switch (e.Kind)
            {
                case "start":
                    started[actor] = e;
                    break;
                case "grant":
                    started.Remove(actor);
                    var hold = new Hold(e.Lock!, e.Worker, e.Fencing!.Value, e.Granted!.Value, e.Expires!.Value);
                    holds.Add(hold);
                    open[actor] = hold;
                    if (e.Op == "wait")
                    {
                        waits.Add((e.Lock!, e.Sent!.Value, e.At, e.At));
                    }

                    break;
                case "renew" when open.TryGetValue(actor, out var renewed):
                    renewed.LastExpires = Math.Max(renewed.LastExpires, e.Expires!.Value);
                    break;
                case "releasing" when open.TryGetValue(actor, out var releasing):
                    releasing.ReleaseSent = e.ReleaseSent;
                    break;
                case "end" when open.Remove(actor, out var ended):
                    ended.End = e;
                    ended.LastExpires = Math.Max(ended.LastExpires, e.Expires ?? 0);
                    break;
                case "null":
                    started.Remove(actor);
                    nulls.Add(e);
                    break;
                case "wait-timeout":
                    started.Remove(actor);
                    waits.Add((e.Lock!, e.Sent!.Value, MayHaveLingered(e) ? e.At + _lingerMs + Slack : e.At, e.At));
                    break;
                case "error":
                    started.Remove(actor);

                    // A failed acquire may still have been granted (its answer lost) and be held by
                    // nobody until it expires, or have left a waiter in line until it timed out.
                    inFlight.Add((e.Lock!, e.Sent!.Value, e.At + _leaseMs + _waiterMs + Slack));
                    break;
            }
        }

        foreach (var ((worker, _), hold) in open)
        {
            hold.KilledAt = killedAt.GetValueOrDefault(worker);
        }

        foreach (var ((worker, _), start) in started)
        {
            // An acquire in flight when its worker was killed (or stopped) may have been granted.
            var until = killedAt.TryGetValue(worker, out var k) ? k : events[^1].At;
            inFlight.Add((start.Lock!, start.Sent!.Value, until + _leaseMs + _waiterMs + Slack));
        }

        return (holds, inFlight, waits, nulls);
    }

    /// <summary>
    /// Whether a wait that gave up may have left its waiter in line after the worker was told: its
    /// leaving took the client's whole budget (so it was not confirmed), or it gave up during a fault
    /// or within a response timeout after one, when a wait call of it can be delayed past its leaving
    /// and reach a new activation that has not seen it leave. Otherwise the waiter left before
    /// <c>AcquireAsync</c> threw (the lock refuses a later wait call of a waiter that left).
    /// </summary>
    private bool MayHaveLingered(ChaosEvent gaveUp) =>
        gaveUp.Timeout is not { } timeout
        || gaveUp.At - gaveUp.Sent!.Value >= timeout + LeaveBudgetMs - Slack
        || faults.Any(f => f.Start - Slack <= gaveUp.At && gaveUp.At <= f.End + _responseMs);

    /// <summary>Per lock, in fencing order: tokens strictly grow, and a grant never comes before the previous holder's lease ended.</summary>
    private void CheckFencingAndExclusion(List<Hold> holds)
    {
        foreach (var group in holds.GroupBy(h => h.Lock))
        {
            var ordered = group.OrderBy(h => h.Fencing).ToList();
            for (var i = 1; i < ordered.Count; i++)
            {
                var (previous, next) = (ordered[i - 1], ordered[i]);
                if (next.Fencing == previous.Fencing)
                {
                    Violations.Add($"{next.Lock}: fencing token {next.Fencing} was granted twice ({previous.Worker} and {next.Worker}).");
                    continue;
                }

                // Grant and expiry times are the deciding silos' clocks: a skewed one shifts them.
                var clock = ClockSlack(previous.Granted, next.Granted);
                if (next.Granted + Slack + clock < previous.Granted)
                {
                    Violations.Add($"{next.Lock}: fencing token {next.Fencing} ({next.Worker}) was granted at {next.Granted}, before the smaller token {previous.Fencing} ({previous.Worker}) at {previous.Granted}.");
                }

                if (next.Granted + Slack + clock < previous.ValidAtLeastUntil)
                {
                    Violations.Add($"{next.Lock}: two holders: {next.Worker} (fencing {next.Fencing}) was granted at {next.Granted}, while {previous.Worker}'s grant (fencing {previous.Fencing}) was valid until at least {previous.ValidAtLeastUntil}.");
                }
            }
        }
    }

    /// <summary>
    /// "Held" (null) must mean someone held the lock or waited for it: a storage failure answered
    /// as null would show up here as a null with nobody holding. One exception is documented (see
    /// docs/safety.md): while a frozen silo runs on after it was declared dead, the lock has two
    /// activations, and one can answer "held" from a view the other has since changed (a holder that
    /// released through the other). Such a view is never later than the hold's last lease, so during
    /// a pause-silo fault, and one lease after it, a null is also explained by a hold's whole lease.
    /// </summary>
    private void CheckNullsWereHeld(List<Hold> holds, List<(string Lock, long From, long To)> inFlight, List<(string Lock, long From, long To, long GaveUpAt)> waits, List<ChaosEvent> nulls)
    {
        Dictionary<string, List<(string Lock, long From, long To)>> Busy(IEnumerable<(string Lock, long From, long To)> waitSpans) =>
            holds.Select(h => (h.Lock, From: h.Granted, To: h.ValidAtMostUntil(_leaseMs)))
                .Concat(inFlight)
                .Concat(waitSpans)
                .GroupBy(b => b.Lock)
                .ToDictionary(g => g.Key, g => g.ToList());
        var busy = Busy(waits.Select(w => (w.Lock, w.From, w.To)));
        var strictBusy = Busy(waits.Select(w => (w.Lock, w.From, w.GaveUpAt)));
        var staleViews = holds.Select(h => (h.Lock, From: h.Granted, To: h.LeaseAtMostUntil(_leaseMs)))
            .GroupBy(b => b.Lock)
            .ToDictionary(g => g.Key, g => g.ToList());
        var twoActivations = faults.Where(f => f.Kind == "pause-silo" || Network.NetworkFaults.MayLeaveTwoActivations(f.Kind)).Select(f => (From: f.Start, To: f.End + _leaseMs)).ToList();
        var byLingerer = 0;
        var byStaleView = 0;
        foreach (var n in nulls)
        {
            bool Overlaps(Dictionary<string, List<(string Lock, long From, long To)>> spans) =>
                spans.TryGetValue(n.Lock!, out var intervals)
                && intervals.Any(b => b.From <= n.At + Slack + ClockSlack(n.Sent!.Value, n.At) && b.To + Slack + ClockSlack(n.Sent!.Value, n.At) >= n.Sent!.Value);
            if (Overlaps(busy))
            {
                if (!Overlaps(strictBusy))
                {
                    byLingerer++;
                }
            }
            else if (twoActivations.Any(w => w.From <= n.At && n.Sent!.Value <= w.To) && Overlaps(staleViews))
            {
                byStaleView++;
            }
            else
            {
                Violations.Add($"{n.Lock}: {n.Worker} was told 'held' (null) between {n.Sent} and {n.At}, but nobody held or waited for the lock then.");
            }
        }

        if (byLingerer + byStaleView > 0)
        {
            Notes.Add($"'held' answers explained only by a waiter that gave up while its leaving was in doubt: {byLingerer}; only by a stale view while a frozen silo ran on: {byStaleView}.");
        }
    }

    private void CheckNothingHung()
    {
        foreach (var e in events.Where(e => e.Kind == "hung"))
        {
            Violations.Add($"{e.Lock}: {e.Worker}'s {e.Op} sent at {e.Sent} was still unanswered past its deadline.");
        }
    }

    /// <summary>
    /// <paramref name="bound"/>, moved later by the length of every fault that overlaps [from, bound]
    /// (plus a second for recovery each): while PostgreSQL is down nothing can be written, and a lock
    /// whose silo went away must be activated again, so the hand-off cannot happen during a fault.
    /// </summary>
    private long StretchedByFaults(long from, long bound)
    {
        var counted = new HashSet<Fault>();
        bool grew;
        do
        {
            grew = false;
            foreach (var fault in faults.Where(f => f.Start <= bound && f.End >= from && !counted.Contains(f)))
            {
                counted.Add(fault);
                bound += fault.End - fault.Start + 1000;
                grew = true;
            }
        }
        while (grew);
        return bound;
    }

    /// <summary>Every lock a killed worker held (or was acquiring) is granted again within its lease, plus the waiter timeout for a half-made hand-off, plus the faults in between.</summary>
    private void CheckDeadHoldersFreed(List<Hold> holds, List<(string Lock, long From, long To)> inFlight)
    {
        foreach (var kill in kills)
        {
            var deadLocks = holds.Where(h => h.Worker == kill.Worker && h.End is null)
                .Select(h => (h.Lock, FreeBy: Math.Max(h.LastExpires, kill.At)))
                .ToList();
            long latest = 0;
            var allFreed = true;
            foreach (var (lockName, freeBy) in deadLocks)
            {
                var bound = StretchedByFaults(kill.At, Math.Max(freeBy, kill.At + _leaseMs) + _waiterMs + 3000);
                var next = holds.Where(h => h.Lock == lockName && h.Worker != kill.Worker && h.Granted >= kill.At - Slack)
                    .Select(h => (long?)h.Granted).Min();
                if (next is null || next > bound)
                {
                    allFreed = false;
                    Violations.Add($"{lockName}: held by {kill.Worker} when it was killed at {kill.At}, but not granted again by {bound} (lease + waiter timeout + faults in between){(next is { } n ? $"; next grant at {n}" : "")}.");
                }
                else
                {
                    latest = Math.Max(latest, next.Value - kill.At);
                }
            }

            DeadHolderRecoveries.Add((kill, allFreed && deadLocks.Count > 0 ? latest : null, deadLocks.Count));
        }
    }

    /// <summary>
    /// A guarded resource simulated from the history, for writes not made through the database fence
    /// (no write id): per lock it accepts a write only with a fencing token at least as large
    /// as any it has seen. A refused write is a holder that kept working after its lease may have
    /// ended (a process pause): not a lock violation, but what fencing tokens are for.
    /// </summary>
    private void CheckGuardedResource()
    {
        var highest = new Dictionary<string, long>();
        foreach (var write in events.Where(e => e.Kind == "write" && e.WriteId is null).OrderBy(e => e.At))
        {
            if (highest.TryGetValue(write.Lock!, out var seen) && write.Fencing < seen)
            {
                StaleWritesRefused++;
            }
            else
            {
                highest[write.Lock!] = write.Fencing!.Value;
            }
        }

        if (StaleWritesRefused > 0)
        {
            Notes.Add($"{StaleWritesRefused} writes by holders that kept working past their lease were refused by the guarded resource's fencing check.");
        }
    }

    private void MeasureRecoveries(List<Hold> holds)
    {
        foreach (var fault in faults)
        {
            var first = holds.Where(h => h.Granted >= fault.End).Select(h => (long?)h.Granted).Min();
            Recoveries.Add((fault, first - fault.End));
        }
    }

    /// <summary>One grant as the history shows it.</summary>
    internal sealed class Hold(string lockName, string worker, long fencing, long granted, long expires)
    {
        public string Lock { get; } = lockName;

        public string Worker { get; } = worker;

        public long Fencing { get; } = fencing;

        public long Granted { get; } = granted;

        /// <summary>The latest expiry the holder learned of (grant or renewal answer).</summary>
        public long LastExpires { get; set; } = expires;

        public ChaosEvent? End { get; set; }

        /// <summary>When its release was sent, if it was (known even if the holder died before the answer).</summary>
        public long? ReleaseSent { get; set; }

        public long KilledAt { get; set; }

        /// <summary>
        /// The earliest the lock service may have ended this grant: its release was sent (a release
        /// takes effect after it is sent), or the last expiry the holder learned of.
        /// </summary>
        public long ValidAtLeastUntil => (End?.ReleaseSent ?? ReleaseSent) is { } sent ? Math.Min(sent, LastExpires) : LastExpires;

        /// <summary>
        /// The latest the grant may have lasted: its acknowledged release, else its last known expiry
        /// plus one more lease (a renewal whose answer was lost), or from its holder's death.
        /// </summary>
        public long ValidAtMostUntil(long leaseMs) =>
            End?.ReleaseAcked is { } acked ? acked : LeaseAtMostUntil(leaseMs);

        /// <summary>The latest its lease can have run to in any activation's view, released or not.</summary>
        public long LeaseAtMostUntil(long leaseMs) => Math.Max(LastExpires, KilledAt) + leaseMs;
    }
}
