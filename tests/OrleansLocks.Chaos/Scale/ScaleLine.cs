using System.Diagnostics;
using System.Globalization;
using System.Text;
using OrleansLocks.Admin;

namespace OrleansLocks.Chaos.Scale;

/// <summary>
/// Part B of the scale run: while the part A locks are held, one client holds the waiter locks and
/// waiters join their lines one round at a time (the next round joins only once the lock shows the
/// previous one in line, so the line's order is known); then the holder releases and the lines drain.
/// Every waiter must be granted exactly once, in its line's order, with growing fencing tokens and
/// never while the one before it still held the lock.
/// </summary>
internal sealed class ScaleLine(ScaleOptions options, ChaosCluster cluster, List<ScaleClientProcess> clients, List<string> violations, StringBuilder report)
{
    private readonly int _perLock = options.Waiters / options.WaiterLocks;

    public async Task RunAsync()
    {
        report.AppendLine("## Part B: waiters drain").AppendLine();
        var holder = clients[0];
        var (lines, summary) = await holder.RunAsync($"acquire w 0 {options.WaiterLocks}", TimeSpan.FromMinutes(10));
        var holderFencing = lines.Select(l => l.Split(' ')).ToDictionary(p => p[1], p => long.Parse(p[2], CultureInfo.InvariantCulture));
        if (holderFencing.Count != options.WaiterLocks)
        {
            violations.Add($"the waiter locks could not all be taken ({summary})");
            return;
        }

        var queued = Stopwatch.StartNew();
        var admin = cluster.Client.GetGrain<ILockAdminGrain>(0);
        for (var round = 0; round < _perLock; round++)
        {
            for (var j = 0; j < options.WaiterLocks; j++)
            {
                WaiterClient(round, j).StartWaiter(Key(j), Tag(round, j));
            }

            await WaitUntilInLineAsync(admin, round);
        }

        var queueSeconds = queued.Elapsed.TotalSeconds;
        var releasedAt = Now();
        var release = await holder.RunAsync("release w", TimeSpan.FromMinutes(10));
        var drained = await WaitForDrainAsync();
        var drainMs = Now() - releasedAt;

        var events = clients.SelectMany(c => c.Events).Select(e => e.Split(' ')).ToList();
        var grants = events.Where(e => e[0] == "g").ToList();
        var lastGrant = grants.Count == 0 ? 0 : grants.Max(g => long.Parse(g[4], CultureInfo.InvariantCulture)) - releasedAt;
        CheckLines(events, holderFencing, releasedAt);

        report.AppendLine(CultureInfo.InvariantCulture, $"{options.Waiters:N0} waiters ({_perLock} per lock) joined the lines of {options.WaiterLocks:N0} held locks in {queueSeconds:F1} s, each round confirmed in line before the next.").AppendLine();
        report.AppendLine("| measure | value |").AppendLine("|---|---|");
        report.AppendLine(CultureInfo.InvariantCulture, $"| holder's release ({release.Summary}) to last grant | {ScaleRun.Seconds(lastGrant)} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| holder's release to every waiter released (drain) | {ScaleRun.Seconds(drainMs)}{(drained ? "" : " (did not finish)")} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| waiters granted | {grants.Count:N0} of {options.Waiters:N0} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| waiters that failed (error or timeout) | {events.Count(e => e[0] == "x"):N0} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| releases that failed | {events.Count(e => e[0] == "d" && e[2] != "ok"):N0} |").AppendLine();
    }

    private ScaleClientProcess WaiterClient(int round, int lockIndex) => clients[(round + lockIndex) % clients.Count];

    /// <summary>Polls the locks (through the admin grain) until each shows <paramref name="round"/>+1 waiters, the last from the expected client.</summary>
    private async Task WaitUntilInLineAsync(ILockAdminGrain admin, int round)
    {
        var deadline = Now() + 180_000;
        await Parallel.ForEachAsync(Enumerable.Range(0, options.WaiterLocks), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (j, _) =>
        {
            while (true)
            {
                var details = await admin.Inspect("scale", Key(j), LockKind.Plain);
                if (details.Waiters.Count > round)
                {
                    if (details.Waiters[round].Owner != WaiterClient(round, j).Name)
                    {
                        Violation($"{Key(j)}: waiter {round} is in line as {details.Waiters[round].Owner}, not {WaiterClient(round, j).Name}");
                    }

                    return;
                }

                if (Now() > deadline)
                {
                    Violation($"{Key(j)}: waiter {round} never showed in the line ({details.Waiters.Count} waiting)");
                    return;
                }

                await Task.Delay(50, CancellationToken.None);
            }
        });
    }

    private async Task<bool> WaitForDrainAsync()
    {
        var deadline = Now() + 600_000;
        while (clients.Sum(c => c.Events.Count(e => e[0] is 'd' or 'x')) < options.Waiters)
        {
            if (Now() > deadline)
            {
                Violation($"the lines did not drain within 10 minutes");
                return false;
            }

            await Task.Delay(200);
        }

        return true;
    }

    /// <summary>Per lock: one grant per waiter, in line order, growing fencing tokens, each after the previous holder began its release.</summary>
    private void CheckLines(List<string[]> events, Dictionary<string, long> holderFencing, long holderReleasedAt)
    {
        var releaseSent = events.Where(e => e[0] == "r").ToDictionary(e => e[1], e => long.Parse(e[2], CultureInfo.InvariantCulture));
        foreach (var duplicate in events.Where(e => e[0] == "g").GroupBy(e => e[1]).Where(g => g.Count() > 1).Take(10))
        {
            Violation($"waiter {duplicate.Key} was granted {duplicate.Count()} times");
        }

        foreach (var line in events.Where(e => e[0] == "g").GroupBy(e => e[2]))
        {
            var ordered = line.OrderBy(g => long.Parse(g[3], CultureInfo.InvariantCulture)).ToList();
            var previousFencing = holderFencing[line.Key];
            for (var i = 0; i < ordered.Count; i++)
            {
                var (tag, fencing, grantedAt) = (ordered[i][1], long.Parse(ordered[i][3], CultureInfo.InvariantCulture), long.Parse(ordered[i][4], CultureInfo.InvariantCulture));
                if (tag != Tag(i, int.Parse(line.Key[1..], CultureInfo.InvariantCulture)))
                {
                    Violation($"{line.Key}: grant {i} went to waiter {tag}, out of line order");
                }

                if (fencing <= previousFencing)
                {
                    Violation($"{line.Key}: fencing token {fencing} did not grow past {previousFencing}");
                }

                if (i == 0 && grantedAt < holderReleasedAt)
                {
                    Violation($"{line.Key}: waiter {tag} was granted before the holder began its release (two holders at once)");
                }

                if (i > 0 && releaseSent.TryGetValue(ordered[i - 1][1], out var before) && grantedAt < before)
                {
                    Violation($"{line.Key}: waiter {tag} was granted before {ordered[i - 1][1]} began its release (two holders at once)");
                }

                previousFencing = fencing;
            }

            if (ordered.Count != _perLock)
            {
                Violation($"{line.Key}: {ordered.Count} of {_perLock} waiters were granted");
            }
        }

        var linesGranted = events.Where(e => e[0] == "g").Select(e => e[2]).Distinct().Count();
        if (linesGranted != options.WaiterLocks)
        {
            Violation($"only {linesGranted} of {options.WaiterLocks} lines granted anyone");
        }
    }

    private void Violation(string text)
    {
        lock (violations)
        {
            violations.Add(text);
        }
    }

    private static string Key(int lockIndex) => "w" + lockIndex.ToString(CultureInfo.InvariantCulture);

    private static string Tag(int round, int lockIndex) => string.Create(CultureInfo.InvariantCulture, $"{round}.{lockIndex}");

    private static long Now() => TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
}
