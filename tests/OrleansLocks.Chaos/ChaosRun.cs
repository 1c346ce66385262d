using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Npgsql;
using OrleansLocks.Client;
using OrleansLocks.Fencing.Postgres;

namespace OrleansLocks.Chaos;

/// <summary>
/// The controller: lets the workers run, injects faults on a seeded schedule, probes the locks of
/// killed clients, stops everything, checks the history and prints the summary.
/// </summary>
internal sealed class ChaosRun(ChaosOptions options, ChaosCluster cluster, ConcurrentQueue<ChaosEvent> events)
{
    private static readonly string[] FaultKinds = ["kill-silo", "stop-silo", "pause-silo", "kill-client", "pg-restart", "pg-outage", "pg-crash", "pause-client", "clock-skew"];

    private readonly Random _random = new(options.Seed);
    private readonly List<Fault> _faults = [];
    private readonly List<Kill> _kills = [];
    private readonly List<Task> _probes = [];
    private readonly List<string> _runViolations = [];
    private readonly List<CrashSnapshot> _crashes = [];
    private readonly NpgsqlDataSource _guarded = NpgsqlDataSource.Create(cluster.GuardedConnectionString);
    private readonly Clock.ClockSkewFault _clockSkew = new(options, cluster, new Random(options.Seed + 1));
    private int _probeCount;
    private Network.NetworkFaults? _network;

    public async Task<int> RunAsync()
    {
        var started = Now();
        Console.WriteLine($"OrleansLocks chaos run: {Describe()}");
        Console.WriteLine($"Replay: dotnet run --project tests/OrleansLocks.Chaos -c Release -- {Arguments()}");
        Console.WriteLine($"Process logs: {cluster.LogDirectory}");

        // Every kind of fault once, in a seeded order, then seeded random kinds until the time is up.
        _network = cluster.Lab is { } lab ? new Network.NetworkFaults(cluster, lab, _random, w => [.. HeldBy(w).Values.Distinct()], (l, why) => ProbeAsync(l, why, fencedWrite: true), options.LeaseTimeout) : null;
        string[] kinds = _network is null ? FaultKinds : [.. FaultKinds, .. Network.NetworkFaults.Kinds];
        var plan = kinds.OrderBy(_ => _random.Next()).ToList();
        var deadline = started + (long)options.Duration.TotalMilliseconds;
        for (var i = 0; Now() < deadline || i < plan.Count; i++)
        {
            var pause = options.FaultInterval * (0.5 + _random.NextDouble());
            await Task.Delay(pause);
            var kind = i < plan.Count ? plan[i] : kinds[_random.Next(kinds.Length)];
            var fault = await InjectAsync(kind);
            _faults.Add(fault);
            Console.WriteLine($"  {Seconds(fault.Start - started),6} s  {fault.Kind,-11} {fault.Target,-8} ({fault.End - fault.Start} ms)");
        }

        // Let the last fault's aftermath play out under load, then stop.
        await Task.Delay(options.FaultInterval);
        await Task.WhenAll(_probes);
        foreach (var stuck in await cluster.StopWorkersAsync())
        {
            _runViolations.Add($"Worker {stuck} did not stop within 45 s of SIGTERM.");
        }

        // Every lock must be free again (the killed clients' leases have run out by now or soon).
        await Task.WhenAll(Enumerable.Range(0, options.Locks).Select(i => ProbeAsync($"k{i}", "final")));

        var guardedWrites = await GuardedResource.ReadAllAsync(cluster.GuardedConnectionString);
        await _guarded.DisposeAsync();
        var checker = new HistoryChecker(events.ToList(), _faults, _kills, options.LeaseTimeout, options.WaiterTimeout, options.PollInterval, _crashes, guardedWrites) { ClockSkews = _clockSkew.Skews };
        checker.Check();
        var violations = _runViolations.Concat(checker.Violations).ToList();
        var summary = Summarize(checker, violations, started, Now() - started);
        Console.WriteLine(summary);
        if (options.Report is { } path)
        {
            await File.WriteAllTextAsync(path, summary);
        }

        if (options.History is { } historyPath)
        {
            await File.WriteAllLinesAsync(historyPath, events.Select(e => e.ToLine()[ChaosEvent.Prefix.Length..]));
        }

        return violations.Count == 0 ? 0 : 1;
    }

    private async Task<Fault> InjectAsync(string kind)
    {
        var start = Now();
        string target;
        switch (kind)
        {
            case "kill-silo":
            case "stop-silo":
                var live = Enumerable.Range(0, cluster.Silos.Count).Where(i => cluster.Silos[i] is not null).ToList();
                var index = live[_random.Next(live.Count)];
                target = $"silo{index}";
                if (kind == "kill-silo")
                {
                    await cluster.KillSiloAsync(index);
                }
                else
                {
                    await cluster.StopSiloAsync(index);
                }

                await Task.Delay(_random.Next(1000, 3000));
                await cluster.StartSiloAsync(index);
                break;
            case "pause-silo":
                var running = Enumerable.Range(0, cluster.Silos.Count).Where(i => cluster.Silos[i] is not null).ToList();
                var paused = running[_random.Next(running.Count)];
                target = $"silo{paused}";
                if (!await cluster.PauseSiloAsync(paused, TimeSpan.FromMilliseconds(_random.Next(6000, 9000))))
                {
                    Console.WriteLine($"  note: {target} was still running 30 s after it was resumed (declared dead); it was killed");
                }

                await cluster.StartSiloAsync(paused);
                break;
            case "kill-client":
                target = BusiestWorker();
                cluster.KillWorker(target);
                var killedAt = Now();
                _kills.Add(new Kill(target, killedAt));
                foreach (var lockName in LocksTouchedBy(target))
                {
                    _probes.Add(ProbeAsync(lockName, $"after {target}"));
                }

                await cluster.StartWorkerAsync();
                break;
            case "pg-restart":
                target = "postgres";
                await cluster.Postgres.StopAsync();
                await cluster.Postgres.RestartAsync();
                break;
            case "pg-outage":
                target = "postgres";
                await cluster.Postgres.StopAsync();
                await Task.Delay(_random.Next(3000, 6000));
                await cluster.Postgres.RestartAsync();
                break;
            case "pg-crash":
                target = "postgres";

                // Crash while some holder has an acknowledged lease that outlives the recovery, when
                // one comes within 10 s, so that the recovered rows have a live grant to be checked on.
                for (var waited = 0; waited < 100 && !LeaseRunningPast(Now() + (long)(options.LeaseTimeout.TotalMilliseconds / 2)); waited++)
                {
                    await Task.Delay(100);
                }

                start = Now();
                var killed = await cluster.Postgres.CrashAsync();
                var downAt = Now();
                await cluster.Postgres.RestartAsync();
                var recoveredAt = Now();

                // Read at once, before the silos have had much time to write over what recovery kept.
                var rows = await cluster.ReadLockRowsAsync();
                var readAt = Now();
                var crash = new Fault(kind, target, start, Now());
                _crashes.Add(new CrashSnapshot(crash, readAt, rows));
                Console.WriteLine($"  note: pg-crash killed {killed} PostgreSQL processes in {downAt - start} ms, recovery and start took {recoveredAt - downAt} ms, {rows.Count} lock rows read {readAt - start} ms after the kill");
                return crash;
            case "pause-client":
                target = await PauseHolderAsync();
                break;
            case "clock-skew":
                target = await _clockSkew.InjectAsync();
                break;
            case var _ when _network is not null && Network.NetworkFaults.Kinds.Contains(kind):
                target = await _network.InjectAsync(kind);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }

        return new Fault(kind, target, start, Now());
    }

    /// <summary>
    /// SIGSTOP of a worker that holds a lock, kept until the controller has acquired each lock it
    /// held (so past its lease) and written through the fence with the newer token; then SIGCONT.
    /// The woken holder's next write carries the older token and must be refused by PostgreSQL.
    /// A holder frozen after its last write has no next write (it only releases); then another
    /// holder is paused, until one shows the refusal (at most 4 pauses).
    /// </summary>
    private async Task<string> PauseHolderAsync()
    {
        var pauses = 0;
        string? last = null;
        for (var attempt = 0; attempt < 20 && pauses < 4; attempt++)
        {
            foreach (var worker in cluster.LiveWorkers.OrderBy(_ => _random.Next()).ToList())
            {
                await cluster.PauseWorkerAsync(worker);

                // Let the lines it wrote before it froze reach the history.
                await Task.Delay(300);
                var held = HeldBy(worker);
                if (held.Count > 0)
                {
                    var refusedBefore = RefusedWrites(worker);
                    foreach (var lockName in held.Values.Distinct())
                    {
                        await ProbeAsync(lockName, $"while {worker} was paused", fencedWrite: true);
                    }

                    await cluster.ResumeWorkerAsync(worker);
                    pauses++;
                    last = worker;
                    if (await WokenHolderRefusedAsync(worker, held.Keys, refusedBefore))
                    {
                        return worker;
                    }

                    Console.WriteLine($"  note: pause-client: {worker} had made its last write before it froze, so it had none to be refused; pausing a holder again");
                    break;
                }

                await cluster.ResumeWorkerAsync(worker);
            }

            await Task.Delay(200);
        }

        if (last is null)
        {
            Console.WriteLine("  note: pause-client found no worker holding a lock in 20 tries; nothing was paused");
        }

        return last ?? "none";
    }

    /// <summary>
    /// Whether the woken worker's next fenced write was refused as stale, waiting until it is or
    /// until each actor that held a lock when it froze has finished that hold.
    /// </summary>
    private async Task<bool> WokenHolderRefusedAsync(string worker, IEnumerable<int> actors, int refusedBefore)
    {
        var holding = actors.ToHashSet();
        int Ended() => events.Count(e => e.Worker == worker && e.Kind == "end" && holding.Contains(e.Actor));
        var ended = Ended();
        var deadline = Now() + (long)(options.LeaseTimeout * 2).TotalMilliseconds + 10_000;
        while (Now() < deadline)
        {
            if (RefusedWrites(worker) > refusedBefore)
            {
                return true;
            }

            if (Ended() >= ended + holding.Count)
            {
                // Each hold ended: a refused write would have been reported before its end.
                return RefusedWrites(worker) > refusedBefore;
            }

            await Task.Delay(100);
        }

        return false;
    }

    private int RefusedWrites(string worker) => events.Count(e => e.Worker == worker && e.Kind == "write-refused");

    /// <summary>Whether some worker's acknowledged grant or renewal (not yet being released) runs past <paramref name="until"/>.</summary>
    private bool LeaseRunningPast(long until)
    {
        var expires = new Dictionary<(string, int), long>();
        foreach (var e in events)
        {
            if (e.Kind is "grant" or "renew" && e.Worker != "probe")
            {
                expires[(e.Worker, e.Actor)] = e.Expires!.Value;
            }
            else if (e.Kind is "releasing" or "end")
            {
                expires.Remove((e.Worker, e.Actor));
            }
        }

        return expires.Values.Any(t => t > until);
    }

    /// <summary>The locks a worker holds by its own reports and has not begun to release, by actor.</summary>
    private Dictionary<int, string> HeldBy(string worker)
    {
        var holding = new Dictionary<int, string>();
        foreach (var e in events.Where(e => e.Worker == worker))
        {
            if (e.Kind == "grant")
            {
                holding[e.Actor] = e.Lock!;
            }
            else if (e.Kind is "releasing" or "end")
            {
                holding.Remove(e.Actor);
            }
        }

        return holding;
    }

    /// <summary>The controller's fenced write with its own grant (recorded as the workers' are).</summary>
    private async Task ProbeWriteAsync(LockHandle handle, int actor)
    {
        var ev = new ChaosEvent { Kind = "write", Worker = "probe", Actor = actor, Lock = handle.Id.Key, Fencing = handle.FencingToken, WriteId = $"probe-{actor}", Sent = Now(), At = 0 };
        try
        {
            await GuardedResource.WriteAsync(_guarded, handle, ev.WriteId);
            events.Enqueue(ev with { At = Now() });
        }
        catch (StaleFencingTokenException)
        {
            events.Enqueue(ev with { Kind = "write-refused", At = Now() });
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            events.Enqueue(ev with { Kind = "write-failed", At = Now(), Error = ex.GetType().Name });
        }
    }

    /// <summary>The live worker holding the most locks right now (by its own reports).</summary>
    private string BusiestWorker()
    {
        var holding = new Dictionary<(string, int), string>();
        foreach (var e in events)
        {
            if (e.Kind == "grant")
            {
                holding[(e.Worker, e.Actor)] = e.Lock!;
            }
            else if (e.Kind == "end")
            {
                holding.Remove((e.Worker, e.Actor));
            }
        }

        return cluster.LiveWorkers
            .OrderByDescending(w => holding.Keys.Count(k => k.Item1 == w))
            .ThenBy(_ => _random.Next())
            .First();
    }

    private HashSet<string> LocksTouchedBy(string worker)
    {
        var open = new Dictionary<int, string>();
        foreach (var e in events.Where(e => e.Worker == worker))
        {
            if (e.Kind is "start" or "grant")
            {
                open[e.Actor] = e.Lock!;
            }
            else if (e.Kind is "end" or "null" or "wait-timeout" or "error")
            {
                open.Remove(e.Actor);
            }
        }

        return [.. open.Values];
    }

    /// <summary>Acquires a lock as the controller (waiting up to a lease plus the waiter timeout and margin), records it, releases it.</summary>
    private async Task ProbeAsync(string lockName, string why, bool fencedWrite = false)
    {
        var actor = Interlocked.Increment(ref _probeCount);
        var sent = Now();
        var timeout = options.LeaseTimeout * 2 + options.WaiterTimeout + TimeSpan.FromSeconds(10);
        events.Enqueue(new ChaosEvent { Kind = "start", Worker = "probe", Actor = actor, Lock = lockName, Op = "wait", Sent = sent, At = sent });
        try
        {
            var handle = await cluster.Locks.AcquireAsync("chaos", lockName, timeout);
            events.Enqueue(new ChaosEvent
            {
                Kind = "grant",
                Worker = "probe",
                Actor = actor,
                Lock = lockName,
                Op = "wait",
                Sent = sent,
                At = Now(),
                Fencing = handle.FencingToken,
                Granted = handle.AcquiredAt.ToUnixTimeMilliseconds(),
                Expires = handle.ExpiresAt.ToUnixTimeMilliseconds(),
            });
            if (fencedWrite)
            {
                await ProbeWriteAsync(handle, actor);
            }

            var releaseSent = Now();
            await handle.ReleaseAsync();
            events.Enqueue(new ChaosEvent
            {
                Kind = "end",
                Worker = "probe",
                Actor = actor,
                Lock = lockName,
                Fencing = handle.FencingToken,
                At = Now(),
                Reason = "released",
                ReleaseSent = releaseSent,
                ReleaseAcked = Now(),
                UsedUntil = releaseSent,
                Expires = handle.ExpiresAt.ToUnixTimeMilliseconds(),
            });
        }
        catch (Exception ex)
        {
            events.Enqueue(new ChaosEvent { Kind = "error", Worker = "probe", Actor = actor, Lock = lockName, Op = "wait", Sent = sent, At = Now(), Error = ex.GetType().Name });
            lock (_runViolations)
            {
                _runViolations.Add($"{lockName}: the controller could not acquire it ({why}) within {timeout.TotalSeconds:F0} s: {ex.GetType().Name}: {ex.Message}");
            }
        }
    }

    private string Summarize(HistoryChecker checker, List<string> violations, long started, long elapsedMs)
    {
        var all = events.ToList();
        int Count(string kind, string? op = null) => all.Count(e => e.Kind == kind && e.Worker != "probe" && (op is null || e.Op == op));
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"# OrleansLocks chaos run");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{Describe()}; ran {Seconds(elapsedMs)} s.");
        text.AppendLine(CultureInfo.InvariantCulture, $"Replay: `dotnet run --project tests/OrleansLocks.Chaos -c Release -- {Arguments()}`");
        text.AppendLine();
        text.AppendLine("| operations | count |");
        text.AppendLine("|---|---|");
        var operations = all.Count(e => e.Kind == "start" && e.Worker != "probe") + all.Count(e => e.Kind == "end" && e.Reason == "released" && e.Worker != "probe");
        text.AppendLine(CultureInfo.InvariantCulture, $"| lock operations (tries, waits and releases) | {operations} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| try-acquire granted | {Count("grant", "try")} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| try-acquire answered held (null) | {Count("null", "try")} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| waiting acquire granted | {Count("grant", "wait")} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| waiting acquire timed out | {Count("wait-timeout")} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| renewals seen by holders | {Count("renew")} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| holds released | {all.Count(e => e.Kind == "end" && e.Reason == "released" && e.Worker != "probe")} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| holds lost (HandleLostToken) | {all.Count(e => e.Kind == "end" && e.Reason == "lost")} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| releases that failed (lock left to expire) | {all.Count(e => e.Kind == "end" && e.Reason == "release-failed")} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| writes to the guarded resource | {Count("write")} (refused as stale: {checker.StaleWritesRefused}) |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| fenced writes committed (through PostgreSQL's fence) | {checker.FencedWritesCommitted} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| fenced writes refused as stale (StaleFencingTokenException) | {checker.FencedWritesRefused} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| fenced writes not made (database unreachable) | {all.Count(e => e.Kind == "write-failed")} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| stale writes accepted (violations) | {checker.StaleWritesAccepted} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| acknowledged state lost in pg-crash (violations) | {checker.AcknowledgedLostInCrash} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| two holders believed at once, as a clock skew beyond the allowance predicts | {checker.PredictedByClock.Count} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| probes by the controller | {all.Count(e => e.Kind == "grant" && e.Worker == "probe")} |");
        foreach (var error in all.Where(e => e.Kind == "error" && e.Worker != "probe").GroupBy(e => e.Error!.Split(':')[0]).OrderByDescending(g => g.Count()))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| acquire failed: {error.Key} | {error.Count()} |");
        }

        text.AppendLine();
        text.AppendLine("| fault | count | recovery: first new grant after it, ms (each) |");
        text.AppendLine("|---|---|---|");
        foreach (var group in checker.Recoveries.GroupBy(r => r.Fault.Kind).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {group.Key} | {group.Count()} | {string.Join(", ", group.Select(r => r.RecoveryMs?.ToString(CultureInfo.InvariantCulture) ?? "none"))} |");
        }

        foreach (var (kill, freedAfter, locks) in checker.DeadHolderRecoveries)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"\nKilled client {kill.Worker} held {locks} lock(s); {(locks == 0 ? "nothing to free" : freedAfter is { } ms ? $"all granted again within {ms} ms (lease {options.LeaseTimeout.TotalMilliseconds:F0} ms)" : "NOT all granted again in time")}.");
        }

        foreach (var (crash, locks, live, releases) in checker.CrashChecks)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"\npg-crash at {Seconds(crash.Start - started)} s: recovered rows checked against {locks} lock(s) with acknowledged grants, {live} hold(s) still live, {releases} acknowledged release(s).");
        }

        foreach (var note in checker.Notes)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"\nNote: {note}");
        }

        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Violations: {violations.Count}");
        foreach (var violation in violations.Take(50))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {violation}");
        }

        return text.ToString();
    }

    private string Describe() =>
        $"seed {options.Seed}, {options.Duration.TotalSeconds:F0} s of faults, {options.Silos} silos, {options.Workers} workers x {options.ActorsPerWorker} actors, {options.Locks} locks, lease {options.LeaseTimeout.TotalSeconds:F0} s, PostgreSQL fsync {(options.Durable ? "on" : "off")}, network faults {(cluster.Lab is null ? "off" : "on")}";

    private string Arguments() => string.Create(
        CultureInfo.InvariantCulture,
        $"--seed {options.Seed} --duration {options.Duration.TotalSeconds} --silos {options.Silos} --workers {options.Workers} --actors {options.ActorsPerWorker} --locks {options.Locks} --fault-interval {options.FaultInterval.TotalSeconds} --lease {options.LeaseTimeout.TotalSeconds}{(options.Durable ? "" : " --no-fsync")}{(options.Network ? "" : " --no-netns")}{(options.ClockSkewBeyond is { } beyond ? $" --clock-skew-beyond {beyond.TotalSeconds}" : "")}");

    private static string Seconds(long ms) => (ms / 1000.0).ToString("F1", CultureInfo.InvariantCulture);

    private static long Now() => TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
}
