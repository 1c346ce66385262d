namespace OrleansLocks.Chaos;

/// <summary>A plain lock's row as PostgreSQL holds it (the <c>orleans_locks</c> view): held or not, by which token, until when.</summary>
internal sealed record RecoveredLock(string Lock, bool Held, long FencingToken, long? ExpiresAt);

/// <summary>
/// The lock rows read right after a <c>pg-crash</c> fault's crash recovery, at <paramref name="ReadAt"/>
/// (Unix ms). <paramref name="Crash"/>'s <see cref="Fault.Start"/> is the moment of the SIGKILL.
/// </summary>
internal sealed record CrashSnapshot(Fault Crash, long ReadAt, IReadOnlyList<RecoveredLock> Rows);

/// <summary>The rules that compare what clients saw acknowledged with what PostgreSQL kept.</summary>
internal sealed partial class HistoryChecker
{
    /// <summary>Violations of the crash rules (also in <see cref="Violations"/>), counted on their own.</summary>
    public int AcknowledgedLostInCrash { get; private set; }

    /// <summary>Per crash: locks, holds still live (by their acknowledged lease) and releases whose acknowledged state was compared with the recovered rows.</summary>
    public List<(Fault Crash, int Locks, int LiveHolds, int Releases)> CrashChecks { get; } = [];

    /// <summary>Fenced writes PostgreSQL committed and acknowledged to a worker.</summary>
    public int FencedWritesCommitted { get; private set; }

    /// <summary>Fenced writes PostgreSQL refused (StaleFencingTokenException): a newer holder had written.</summary>
    public int FencedWritesRefused { get; private set; }

    /// <summary>Committed writes whose fencing token was lower than one already committed for the lock (each a violation).</summary>
    public int StaleWritesAccepted { get; private set; }

    /// <summary>
    /// After each crash of PostgreSQL (SIGKILL of every process, then WAL recovery), nothing that a
    /// client saw acknowledged before the crash may be missing from the recovered rows:
    /// <list type="bullet">
    /// <item>the stored fencing counter is at least every token acknowledged for the lock;</item>
    /// <item>a hold whose acknowledged grant or renewal ran past the crash: if the row still has that
    /// grant, it runs until at least the acknowledged expiry (a grant's expiry only grows); if the
    /// expiry was still ahead when the rows were read and its holder had not begun to release it,
    /// the row must have that grant (not free, not someone else's);</item>
    /// <item>a release acknowledged before the crash is not stored as still held by that token.</item>
    /// </list>
    /// Only events stamped before the crash count as acknowledged before it (a worker stamps an
    /// answer after it has it, so this errs towards checking less, never towards a false report).
    /// </summary>
    private void CheckNothingAcknowledgedLostInCrashes()
    {
        foreach (var snapshot in crashes ?? [])
        {
            var crashAt = snapshot.Crash.Start;
            var rows = snapshot.Rows.ToDictionary(r => r.Lock);
            var before = events.Where(e => e.At < crashAt).ToList();
            var locks = 0;
            var live = 0;
            var releases = 0;
            void Lost(string what)
            {
                AcknowledgedLostInCrash++;
                Violations.Add($"lost in pg-crash at {crashAt}: {what}");
            }

            foreach (var group in before.Where(e => e.Kind == "grant").GroupBy(e => e.Lock!))
            {
                locks++;
                var highest = group.Max(e => e.Fencing!.Value);
                if (!rows.TryGetValue(group.Key, out var row))
                {
                    Lost($"{group.Key}: fencing token {highest} was acknowledged, but the recovered state has no row for the lock.");
                }
                else if (row.FencingToken < highest)
                {
                    Lost($"{group.Key}: fencing token {highest} was acknowledged, but the recovered counter is {row.FencingToken}.");
                }
            }

            foreach (var hold in AcknowledgedHolds(before))
            {
                if (hold.ReleaseAcked is { } acked)
                {
                    releases++;
                    if (rows.TryGetValue(hold.Lock, out var row) && row.Held && row.FencingToken == hold.Fencing)
                    {
                        Lost($"{hold.Lock}: {hold.Worker}'s release of fencing token {hold.Fencing} was acknowledged at {acked}, but the recovered row still has that grant.");
                    }

                    continue;
                }

                if (hold.Expires <= crashAt)
                {
                    continue;
                }

                // A row that still has the grant must have its acknowledged expiry (a grant's expiry
                // only grows). A row without it is a loss only if nothing could have ended the grant
                // by the time the rows were read: a release sent (by the worker, or its death), or
                // the lease running out.
                rows.TryGetValue(hold.Lock, out var stored);
                var sameGrant = stored is { Held: true } && stored.FencingToken == hold.Fencing;
                var releasedBy = events.FirstOrDefault(e => e.Worker == hold.Worker && e.Actor == hold.Actor && e.Kind == "releasing" && e.Fencing == hold.Fencing)?.ReleaseSent;
                var killed = kills.Any(k => k.Worker == hold.Worker && k.At <= snapshot.ReadAt);
                if (!sameGrant && (hold.Expires <= snapshot.ReadAt + Slack || (releasedBy is { } sent && sent <= snapshot.ReadAt) || killed))
                {
                    continue;
                }

                live++;
                if (!sameGrant)
                {
                    var what = stored is null ? "no row" : !stored.Held ? "free" : $"held by fencing token {stored.FencingToken}";
                    Lost($"{hold.Lock}: {hold.Worker}'s grant (fencing token {hold.Fencing}) was acknowledged to run until {hold.Expires}, but the recovered row read at {snapshot.ReadAt} says {what}.");
                }
                else if (stored!.ExpiresAt + Slack < hold.Expires)
                {
                    Lost($"{hold.Lock}: {hold.Worker}'s lease (fencing token {hold.Fencing}) was acknowledged to run until {hold.Expires}, but the recovered row says it ends at {stored.ExpiresAt}.");
                }
            }

            CrashChecks.Add((snapshot.Crash, locks, live, releases));
        }
    }

    /// <summary>Each grant acknowledged in <paramref name="before"/>, with its last acknowledged expiry and release.</summary>
    private static List<AcknowledgedHold> AcknowledgedHolds(List<ChaosEvent> before)
    {
        var holds = new List<AcknowledgedHold>();
        var open = new Dictionary<(string, int), AcknowledgedHold>();
        foreach (var e in before)
        {
            var actor = (e.Worker, e.Actor);
            switch (e.Kind)
            {
                case "grant":
                    var hold = new AcknowledgedHold(e.Lock!, e.Worker, e.Actor, e.Fencing!.Value) { Expires = e.Expires!.Value };
                    holds.Add(hold);
                    open[actor] = hold;
                    break;
                case "renew" when open.TryGetValue(actor, out var renewed):
                    renewed.Expires = Math.Max(renewed.Expires, e.Expires!.Value);
                    break;
                case "end" when open.Remove(actor, out var ended):
                    ended.ReleaseAcked = ended.Fencing == e.Fencing ? e.ReleaseAcked : null;
                    break;
            }
        }

        return holds;
    }

    /// <summary>
    /// The fenced writes, against the guarded table's committed rows: in each lock's commit order a
    /// row's token is never lower than one committed before it (else a stale write was accepted), and
    /// every write a worker saw committed is there (else an acknowledged commit was lost, e.g. in a
    /// crash of PostgreSQL). Refusals are counted: they are fencing doing its job.
    /// </summary>
    private void CheckFencedWrites()
    {
        FencedWritesCommitted = events.Count(e => e.Kind == "write" && e.WriteId is not null);
        FencedWritesRefused = events.Count(e => e.Kind == "write-refused");
        StaleWritesRefused += FencedWritesRefused;
        if (guardedWrites is null)
        {
            return;
        }

        foreach (var group in guardedWrites.GroupBy(w => w.Lock))
        {
            var highest = long.MinValue;
            foreach (var write in group.OrderBy(w => w.Sequence))
            {
                if (write.Fencing < highest)
                {
                    StaleWritesAccepted++;
                    Violations.Add($"{write.Lock}: a stale write was accepted: write {write.WriteId} committed with fencing token {write.Fencing} after a write with {highest} had committed.");
                }

                highest = Math.Max(highest, write.Fencing);
            }
        }

        var stored = guardedWrites.Select(w => w.WriteId).ToHashSet(StringComparer.Ordinal);
        foreach (var acked in events.Where(e => e.Kind == "write" && e.WriteId is not null && !stored.Contains(e.WriteId)))
        {
            Violations.Add($"{acked.Lock}: {acked.Worker}'s write {acked.WriteId} (fencing token {acked.Fencing}) was acknowledged as committed at {acked.At}, but the guarded table does not have it.");
        }
    }

    /// <summary>One acknowledged grant: whose, its last acknowledged expiry, and its acknowledged release if any.</summary>
    private sealed class AcknowledgedHold(string lockName, string worker, int actor, long fencing)
    {
        public string Lock { get; } = lockName;

        public string Worker { get; } = worker;

        public int Actor { get; } = actor;

        public long Fencing { get; } = fencing;

        public long Expires { get; set; }

        public long? ReleaseAcked { get; set; }
    }
}
