using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;
using OrleansLocks.Benchmarks.Subjects;

namespace OrleansLocks.Benchmarks;

/// <summary>The run's parameters: <c>--quick</c> is the seconds-long smoke version CI runs.</summary>
internal sealed record BenchOptions(bool Quick, TimeSpan Measure, string Out, string? Only, IReadOnlyDictionary<string, string> SiloEnvironment, int[]? InFlightGiven = null, IReadOnlySet<string>? SubjectsGiven = null, TimeSpan? WarmUp = null)
{
    /// <summary>The short names <c>--subjects</c> takes, e.g. <c>--subjects pg,synapse</c>.</summary>
    public static readonly string[] SubjectNames = ["pg", "cohosted", "memory", "synapse", "dlock"];

    /// <summary>Whether the subject with this short name is measured (<c>--subjects</c> picks some, for profiling; a silo of a subject not picked is not started).</summary>
    public bool Includes(string subject) => SubjectsGiven is null || SubjectsGiven.Contains(subject);

    /// <summary>Whether to run the scenario named <paramref name="scenario"/> (<c>--only</c> picks one, for profiling).</summary>
    public bool Runs(string scenario) => Only is null || Only == scenario;

    /// <summary>The concurrency levels measured (<c>--in-flight 1,16</c> picks some, for profiling).</summary>
    public int[] InFlight => InFlightGiven ?? (Quick ? [1, 4] : [1, 16, 64]);

    public int HandoffRounds => Quick ? 3 : 60;

    public int Waiters => Quick ? 20 : 500;

    public int HeldLocks => Quick ? 1_000 : 100_000;

    public static BenchOptions Parse(string[] args)
    {
        var quick = args.Contains("--quick");
        var seconds = Value("--seconds") is { } s ? double.Parse(s, CultureInfo.InvariantCulture) : quick ? 0.3 : 5;
        var siloEnvironment = args.Select((a, i) => (a, i)).Where(p => p.a == "--silo-env" && p.i + 1 < args.Length)
            .Select(p => args[p.i + 1].Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
        var inFlight = Value("--in-flight")?.Split(',').Select(n => int.Parse(n, CultureInfo.InvariantCulture)).ToArray();
        var subjects = Value("--subjects")?.Split(',').ToHashSet();
        if (subjects?.Except(SubjectNames).FirstOrDefault() is { } unknown)
        {
            throw new ArgumentException($"--subjects takes a comma-separated list of {string.Join(", ", SubjectNames)}; '{unknown}' is none of them.");
        }

        var warmUp = Value("--warmup") is { } w ? TimeSpan.FromSeconds(double.Parse(w, CultureInfo.InvariantCulture)) : (TimeSpan?)null;
        return new BenchOptions(quick, TimeSpan.FromSeconds(seconds), Value("--out") ?? "benchmark-results.md", Value("--only"), siloEnvironment, inFlight, subjects, warmUp);

        string? Value(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}

/// <summary>One row of a result table.</summary>
internal sealed record Measurement(string Subject, int InFlight, long Ops, double Seconds, double P50, double P99, double P999, double CpuSeconds, string? Note = null)
{
    /// <summary>The CPU seconds split by process (console only: where a row's CPU went).</summary>
    public string? CpuByProcess { get; init; }

    public double OpsPerSecond => Ops / Seconds;
}

/// <summary>The scenarios, each measured for every subject in one run, and the report with its ratios.</summary>
internal sealed class Bench(BenchOptions options, IReadOnlyList<(string Name, int Pid)> silos, int postmaster)
{
    private readonly List<(string Scenario, string Explanation, List<Measurement> Rows)> _results = [];
    private readonly List<string> _notes = [];
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    /// <summary>
    /// Runs every subject's acquire+release path before anything is measured, all alike: the silos
    /// start cold (their processes, and the clients in this one, are seconds old), and without this
    /// the first rows measured, OrleansLocks' at 1 in flight, ran on code still being JIT-compiled
    /// (at 0.2-0.4x of their warm rate; docs/benchmarks.md, "1 in flight: where the time went").
    /// </summary>
    public async Task WarmUpAsync(IEnumerable<IBenchSubject> subjects)
    {
        var (busy, single) = options.Quick ? (TimeSpan.FromSeconds(0.3), TimeSpan.FromSeconds(0.2)) : (TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(2));
        foreach (var subject in subjects)
        {
            foreach (var (inFlight, duration) in new[] { (Math.Max(16, options.InFlight.Max()), busy), (1, single) })
            {
                var prefix = $"w-{_run}-{inFlight}";
                await LoopAsync(inFlight, duration, async worker =>
                {
                    var hold = await subject.TryAcquireAsync($"{prefix}-{worker}") ?? throw new InvalidOperationException("An uncontended lock was held.");
                    await hold.ReleaseAsync();
                }, null);
            }
        }
    }

    public async Task UncontendedAsync(IEnumerable<IBenchSubject> subjects)
    {
        var rows = new List<Measurement>();
        foreach (var subject in subjects)
        {
            foreach (var inFlight in options.InFlight)
            {
                // Each in-flight worker has its own key: distinct keys, never contended.
                var prefix = $"u-{_run}-{inFlight}";
                rows.Add(await MeasureAsync(subject.Name, inFlight, async worker =>
                {
                    var hold = await subject.TryAcquireAsync($"{prefix}-{worker}") ?? throw new InvalidOperationException("An uncontended lock was held.");
                    await hold.ReleaseAsync();
                }));
            }
        }

        Add("Uncontended acquire + release", "Each in-flight worker acquires and releases its own key, over and over. Synapse: two autocommitted statements per cycle. OrleansLocks (defaults): the grant's and the release's durable writes. Advisory locks write nothing.", rows);
    }

    public async Task TryOnHeldAsync(IEnumerable<IBenchSubject> subjects)
    {
        var rows = new List<Measurement>();
        foreach (var subject in subjects)
        {
            var key = $"held-{_run}";
            var holder = await subject.TryAcquireAsync(key) ?? throw new InvalidOperationException("The lock to contend on was held.");
            foreach (var inFlight in options.InFlight)
            {
                rows.Add(await MeasureAsync(subject.Name, inFlight, async _ =>
                {
                    if (await subject.TryAcquireAsync(key) is { } wrong)
                    {
                        await wrong.ReleaseAsync();
                        throw new InvalidOperationException($"{subject.Name} granted a held lock.");
                    }
                }));
            }

            await holder.ReleaseAsync();
        }

        Add("Try-acquire on a held lock", "Another holder holds the lock; every try is refused.", rows);
    }

    public async Task IsStillValidAsync(IEnumerable<IBenchSubject> subjects)
    {
        var rows = new List<Measurement>();
        foreach (var subject in subjects)
        {
            var hold = await subject.TryAcquireAsync($"valid-{_run}") ?? throw new InvalidOperationException("The lock to check was held.");
            if (hold.IsStillValid is not { } check)
            {
                _notes.Add($"{subject.Name} has no validity query (its lock is the connection it holds): no IsStillValid row.");
                await hold.ReleaseAsync();
                continue;
            }

            foreach (var inFlight in options.InFlight)
            {
                rows.Add(await MeasureAsync(subject.Name, inFlight, async _ =>
                {
                    if (!await check())
                    {
                        throw new InvalidOperationException("A held lock was reported invalid.");
                    }
                }));
            }

            await hold.ReleaseAsync();
        }

        Add("IsStillValid", "The holder asks whether it still holds the lock (OrleansLocks: the handle's IsStillValidAsync; Synapse: its select).", rows);
    }

    public async Task RenewAsync(IEnumerable<IBenchSubject> subjects)
    {
        var rows = new List<Measurement>();
        foreach (var subject in subjects)
        {
            if (await subject.RenewableAsync($"probe-{_run}") is null)
            {
                _notes.Add($"{subject.Name} has no lease to renew: no renew row.");
                continue;
            }

            foreach (var inFlight in options.InFlight)
            {
                var renewals = new Func<Task<bool>>[inFlight];
                for (var i = 0; i < inFlight; i++)
                {
                    renewals[i] = (await subject.RenewableAsync($"renew-{_run}-{inFlight}-{i}"))!;
                }

                rows.Add(await MeasureAsync(subject.Name, inFlight, async worker =>
                {
                    if (!await renewals[worker]())
                    {
                        throw new InvalidOperationException("A held lock could not be renewed.");
                    }
                }));
            }
        }

        Add("Renew", "Each in-flight worker renews its own held lock (a durable write for both; OrleansLocks' renewal driven on the grain, as its handle does by itself).", rows);
    }

    public async Task HandoffAsync(IEnumerable<IBenchSubject> subjects)
    {
        var rows = new List<Measurement>();
        var random = new Random(7);
        foreach (var subject in subjects)
        {
            var latencies = new List<double>();
            var key = $"handoff-{_run}";
            var before = Cpu();
            var clock = Stopwatch.StartNew();
            for (var round = 0; round < options.HandoffRounds; round++)
            {
                var holder = await subject.TryAcquireAsync(key) ?? throw new InvalidOperationException("The hand-off lock was held.");
                var waiter = subject.AcquireAsync(key, TimeSpan.FromSeconds(60));

                // Let the waiter settle into waiting (queued, blocked, or between polls), then release.
                await Task.Delay(random.Next(50, 300));
                var released = Stopwatch.GetTimestamp();
                await holder.ReleaseAsync();
                var next = await waiter;
                latencies.Add(Stopwatch.GetElapsedTime(released).TotalMilliseconds);
                await next.ReleaseAsync();
            }

            rows.Add(Summarize(subject.Name, 1, latencies, clock.Elapsed.TotalSeconds, Used(before, Cpu()), "ops/s = hand-offs per second including the waits before each release"));
        }

        Add("Hand-off to a waiter", "Latency from the holder sending its release to the waiter holding the lock (OrleansLocks pushes it; DistributedLock's waiter blocks on the server; Synapse's polls from 0.1 s, doubling, up to 5 s).", rows);
    }

    public async Task DrainAsync(IEnumerable<IBenchSubject> subjects, Action clearPools)
    {
        var rows = new List<Measurement>();
        foreach (var subject in subjects)
        {
            var key = $"drain-{_run}";
            var holder = await subject.TryAcquireAsync(key) ?? throw new InvalidOperationException("The drain lock was held.");
            var order = 0;
            var waiters = Enumerable.Range(0, options.Waiters).Select(async _ =>
            {
                var hold = await subject.AcquireAsync(key, TimeSpan.FromMinutes(3));
                Interlocked.Increment(ref order);
                await hold.ReleaseAsync();
            }).ToList();

            // Wait until they all wait (OrleansLocks can say how many are in line; the others get time).
            if (subject is OrleansSubject orleans)
            {
                var grain = orleans.Grains.GetGrain<ILockGrain>(LockId.Create("bench", key).ToGrainKey());
                while ((await grain.GetInfo())?.Waiting < options.Waiters)
                {
                    await Task.Delay(50);
                }
            }
            else
            {
                await Task.Delay(TimeSpan.FromSeconds(options.Quick ? 1 : 5));
            }

            var before = Cpu();
            var clock = Stopwatch.StartNew();
            await holder.ReleaseAsync();
            await Task.WhenAll(waiters);
            var seconds = clock.Elapsed.TotalSeconds;
            rows.Add(new Measurement(subject.Name, options.Waiters, options.Waiters, seconds, double.NaN, double.NaN, double.NaN, Used(before, Cpu()), $"drained in {seconds:F2} s"));

            // Each subject's idle connections go, so the next one can open its own (DistributedLock needs one per waiter).
            NpgsqlConnection.ClearAllPools();
            clearPools();
        }

        Add($"{options.Waiters} waiters draining one lock", "All wait on one lock; each takes it, releases it at once, and the next follows. CPU = this process + both silos + PostgreSQL, from the first release to the last.", rows);
    }

    public async Task MemoryPerHeldLockAsync(IGrainFactory grains, int siloProcessId)
    {
        // Settle first: a warm, idle silo is the baseline. Warm it with the same calls on other locks,
        // so that code compiled, pools and threads started on first use (tens of MiB in a fresh silo,
        // as with `--only memory`) are not counted as the held locks' memory.
        var warm = -1;
        await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
        {
            while (Interlocked.Increment(ref warm) is var i && i < (options.Quick ? 200 : 5_000))
            {
                var grain = grains.GetGrain<ILockGrain>(LockId.Create("warm", $"{_run}-{i}").ToGrainKey());
                var lease = await grain.TryAcquire("memory") ?? throw new InvalidOperationException("A fresh lock was held.");
                await grain.Release(lease.Token);
            }
        }));
        await Task.Delay(TimeSpan.FromSeconds(options.Quick ? 0.5 : 3));
        var idle = Machine.ResidentBytes(siloProcessId);
        var clock = Stopwatch.StartNew();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < options.HeldLocks)
            {
                var grain = grains.GetGrain<ILockGrain>(LockId.Create("held", $"{_run}-{i}").ToGrainKey());
                if (await grain.TryAcquire("memory") is null)
                {
                    throw new InvalidOperationException("A fresh lock was held.");
                }
            }
        }));
        var acquired = clock.Elapsed.TotalSeconds;
        await Task.Delay(TimeSpan.FromSeconds(options.Quick ? 0.5 : 3));
        var held = Machine.ResidentBytes(siloProcessId);
        var perLock = (held - idle) / (double)options.HeldLocks;
        _memory = (options.HeldLocks, idle, held, perLock, acquired);
    }

    public string Report(string header)
    {
        var text = new StringBuilder();
        text.AppendLine("# OrleansLocks benchmark results");
        text.AppendLine();
        text.AppendLine(header);
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Latencies in milliseconds. \"vs\" columns: {Separate} (separate-process client) and {CoHosted} (the silo takes its own locks) throughput divided by that subject's at the same number in flight (above 1.0 means OrleansLocks is faster); for hand-off, the subject's p99 divided by OrleansLocks' p99; for the drain, the subject's drain time divided by OrleansLocks'. Each scenario ends with both against {Synapse}.");
        foreach (var (scenario, explanation, rows) in _results)
        {
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"## {scenario}");
            text.AppendLine();
            text.AppendLine(explanation);
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"| subject | in flight | ops/s | p50 | p99 | p999 | CPU s | {Separate} vs this | {CoHosted} vs this |");
            text.AppendLine("|---|---|---|---|---|---|---|---|---|");
            foreach (var row in rows)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"| {row.Subject} | {row.InFlight} | {row.OpsPerSecond:F0} | {Ms(row.P50)} | {Ms(row.P99)} | {Ms(row.P999)} | {row.CpuSeconds:F2} | {RatioOf(Separate, row)} | {RatioOf(CoHosted, row)} |{(row.Note is null ? "" : $" {row.Note}")}");
            }

            var against = new[] { Separate, CoHosted }
                .Select(ours => (ours, ratios: rows.Where(r => r.Subject == Synapse).Select(theirs => RatioOf(ours, theirs)).Where(r => r.Length > 0).ToList()))
                .Where(o => o.ratios.Count > 0)
                .Select(o => $"{o.ours} {string.Join(" / ", o.ratios)}")
                .ToList();
            if (against.Count > 0)
            {
                var levels = string.Join("/", rows.Where(r => r.Subject == Synapse).Select(r => r.InFlight));
                text.AppendLine();
                text.AppendLine(CultureInfo.InvariantCulture, $"Against {Synapse} ({levels} in flight): {string.Join("; ", against)}.");
            }

            string RatioOf(string ours, Measurement row) =>
                rows.FirstOrDefault(r => r.Subject == ours && r.InFlight == row.InFlight) is { } mine && !ReferenceEquals(mine, row) ? Ratio(scenario, mine, row) : "";
        }

        if (_memory is var (count, idle, held, perLock, seconds))
        {
            text.AppendLine();
            text.AppendLine("## Memory per held lock");
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"{count:N0} locks held at once on the PostgreSQL silo ({SiloGcMode()}; acquired in {seconds:F1} s at 64 in flight): silo resident memory {idle / 1048576.0:F0} MiB idle, {held / 1048576.0:F0} MiB with them held: **{perLock / 1024:F2} KiB per held lock** (target under 3 KB). Synapse keeps a lock as a row only; DistributedLock needs a PostgreSQL connection per held lock, so neither has a comparable figure.");
            if (MemoryBreakdown is { } breakdown)
            {
                text.AppendLine();
                text.Append(breakdown);
            }
        }

        text.AppendLine();
        text.AppendLine("## Targets");
        text.AppendLine();
        foreach (var line in Targets())
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {line}");
        }

        foreach (var note in _notes.Distinct())
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- Note: {note}");
        }

        return text.ToString();
    }

    private (int Count, long Idle, long Held, double PerLock, double Seconds)? _memory;

    /// <summary>The silo's GC mode: the Silo host's default (workstation GC, Silo.csproj) unless the run set one with --silo-env.</summary>
    private string SiloGcMode()
    {
        var set = options.SiloEnvironment.Where(e => e.Key.StartsWith("DOTNET_GC", StringComparison.OrdinalIgnoreCase) || e.Key.StartsWith("DOTNET_gc", StringComparison.Ordinal)).Select(e => $"{e.Key}={e.Value}").ToList();
        return set.Count == 0 ? "the Silo host's default GC: workstation, concurrent" : $"GC settings {string.Join(", ", set)}";
    }

    /// <summary>The managed-heap breakdown of a held lock (<see cref="Benchmarks.MemoryBreakdown"/>), if measured.</summary>
    public string? MemoryBreakdown { get; set; }

    private IEnumerable<string> Targets()
    {
        Measurement? Row(string scenario, string subject, int inFlight) =>
            _results.FirstOrDefault(r => r.Scenario == scenario).Rows?.FirstOrDefault(m => m.Subject == subject && m.InFlight == inFlight);

        // Issue 10's targets, as a ratio to Synapse's throughput at the same number in flight (0 = none at that level).
        const string Uncontended = "Uncontended acquire + release";
        const string TryHeld = "Try-acquire on a held lock";
        var targets = new (string Scenario, string Subject, Func<int, double> Target)[]
        {
            (Uncontended, Separate, n => n switch { 1 => 0.75, 16 => 1.5, 64 => 2.5, _ => 0 }),
            (Uncontended, CoHosted, n => n switch { 1 => 1.0, 16 => 1.5, 64 => 2.5, _ => 0 }),
            (TryHeld, Separate, n => n == 1 ? 5.0 : 10.0),
            (TryHeld, CoHosted, _ => 10.0),
            ("IsStillValid", Separate, _ => 1.0),
            ("IsStillValid", CoHosted, _ => 1.0),
            ("Renew", Separate, n => n is 16 or 64 ? 1.0 : 0),
            ("Renew", CoHosted, n => n is 16 or 64 ? 1.0 : 0),
        };
        foreach (var (scenario, ours, target) in targets)
        {
            foreach (var inFlight in options.InFlight)
            {
                if (target(inFlight) is > 0 and var wanted && Row(scenario, ours, inFlight) is { } mine && Row(scenario, Synapse, inFlight) is { } theirs)
                {
                    var ratio = mine.OpsPerSecond / theirs.OpsPerSecond;
                    yield return string.Create(CultureInfo.InvariantCulture, $"{scenario}, {ours}, {inFlight} in flight: {ratio:F2}x the Synapse SQL path (target at least {wanted:F2}x): {(ratio >= wanted ? "met" : "MISSED")}");
                }
            }
        }

        foreach (var handoff in _results.FirstOrDefault(r => r.Scenario.StartsWith("Hand-off", StringComparison.Ordinal)).Rows?.Where(m => m.Subject is Separate or CoHosted) ?? [])
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"Hand-off to a waiter, {handoff.Subject}: p99 {handoff.P99:F1} ms (target under 10 ms): {(handoff.P99 < 10 ? "met" : "MISSED")}");
        }

        if (_memory is { } memory)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"Memory: {memory.PerLock / 1024:F2} KiB per held lock with {memory.Count:N0} held (target under 3 KB): {(memory.PerLock < 3000 ? "met" : "MISSED")}");
        }
    }

    private const string Separate = "OrleansLocks (PostgreSQL)";
    private const string CoHosted = CoHostedSilo.SubjectName;
    private const string Synapse = "Synapse SQL (Npgsql)";

    private static string Ratio(string scenario, Measurement ours, Measurement theirs) =>
        scenario.StartsWith("Hand-off", StringComparison.Ordinal)
            ? string.Create(CultureInfo.InvariantCulture, $"{theirs.P99 / ours.P99:F1}x faster p99")
            : scenario.Contains("draining", StringComparison.Ordinal)
                ? string.Create(CultureInfo.InvariantCulture, $"{theirs.Seconds / ours.Seconds:F2}x faster, {theirs.CpuSeconds / Math.Max(ours.CpuSeconds, 0.01):F2}x less CPU")
                : string.Create(CultureInfo.InvariantCulture, $"{ours.OpsPerSecond / theirs.OpsPerSecond:F2}x");

    private static string Ms(double value) => double.IsNaN(value) ? "-" : value.ToString(value < 10 ? "F2" : "F1", CultureInfo.InvariantCulture);

    private void Add(string scenario, string explanation, List<Measurement> rows)
    {
        _results.Add((scenario, explanation, rows));
        Console.WriteLine($"{scenario}:");
        foreach (var row in rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {row.Subject,-28} {row.InFlight,4} in flight  {row.OpsPerSecond,9:F0} ops/s  p50 {Ms(row.P50),7}  p99 {Ms(row.P99),7}  CPU {row.CpuSeconds,6:F2} s {row.CpuByProcess} {row.Note}"));
        }
    }

    private Dictionary<int, double> Cpu() => Machine.CpuSnapshot(silos.Select(s => s.Pid), postmaster);

    private static double Used(Dictionary<int, double> before, Dictionary<int, double> after) => Machine.CpuSecondsBetween(before, after);

    private string ByProcess(Dictionary<int, double> before, Dictionary<int, double> after, double others)
    {
        double Of(int pid) => Math.Max(0, after.GetValueOrDefault(pid) - before.GetValueOrDefault(pid));
        var each = silos.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Name} {Of(s.Pid):F2}"));
        var postgres = Used(before, after) - Of(Environment.ProcessId) - silos.Sum(s => Of(s.Pid));
        return string.Create(CultureInfo.InvariantCulture, $"[bench {Of(Environment.ProcessId):F2}, {string.Join(", ", each)}, postgres {postgres:F2}; not ours {others:F2}]");
    }

    private async Task<Measurement> MeasureAsync(string subject, int inFlight, Func<int, Task> operation)
    {
        // Warm up (connections, activations, JIT), then measure.
        await LoopAsync(inFlight, options.WarmUp ?? TimeSpan.FromMilliseconds(Math.Min(1000, options.Measure.TotalMilliseconds / 3)), operation, null);
        var latencies = new List<double>[inFlight];
        var before = Cpu();
        var machineBefore = Machine.MachineBusySeconds();
        var clock = Stopwatch.StartNew();
        await LoopAsync(inFlight, options.Measure, operation, latencies);
        var seconds = clock.Elapsed.TotalSeconds;
        var after = Cpu();
        var others = Machine.MachineBusySeconds() - machineBefore - Used(before, after);
        return Summarize(subject, inFlight, latencies.SelectMany(l => l).ToList(), seconds, Used(before, after)) with { CpuByProcess = ByProcess(before, after, others) };
    }

    private static async Task LoopAsync(int inFlight, TimeSpan duration, Func<int, Task> operation, List<double>[]? latencies)
    {
        var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(worker => Task.Run(async () =>
        {
            var mine = new List<double>();
            while (Stopwatch.GetTimestamp() < end)
            {
                var started = Stopwatch.GetTimestamp();
                await operation(worker);
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            if (latencies is not null)
            {
                latencies[worker] = mine;
            }
        })));
    }

    private static Measurement Summarize(string subject, int inFlight, List<double> latencies, double seconds, double cpu, string? note = null)
    {
        latencies.Sort();
        double At(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)];
        return new Measurement(subject, inFlight, latencies.Count, seconds, At(0.5), At(0.99), At(0.999), cpu, note);
    }
}
