using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;
using Orleans.Runtime;

namespace OrleansLocks.Chaos.Scale;

/// <summary>
/// The scale run: many locks held by several client processes across 3 silos (part A), a line of
/// waiters on some locks draining in order (part B, <see cref="ScaleLine"/>, before the kill), then
/// kill -9 of the silo hosting most locks and the checks that every lock kept its holder, token and
/// fencing token, answers again, and keeps renewing. Every broken promise is a violation.
/// </summary>
internal sealed class ScaleRun(ScaleOptions options, ChaosCluster cluster, List<ScaleClientProcess> clients)
{
    private const string LockGrainType = "orleanslocks.lock";
    private readonly List<string> _violations = [];
    private readonly StringBuilder _report = new();

    public async Task<int> RunAsync()
    {
        Line($"# Scale run: {options.Locks:N0} held locks, {options.Waiters:N0} waiters on {options.WaiterLocks:N0} locks");
        Line();
        Line($"3 silos on PostgreSQL (fsync on, the default store with group commit), {clients.Count} client processes, lease {options.LeaseTimeout.TotalSeconds:F0} s renewed every {options.RenewalInterval.TotalSeconds:F0} s; wait calls open up to {options.PollInterval.TotalSeconds:F0} s (clients give up on a call after 10 s), a waiter silent for {options.WaiterTimeout.TotalSeconds:F0} s leaves its line.");
        Line();
        // Warm up first (connections, JIT, pools), so that the memory measured from here on is the locks'.
        await Task.WhenAll(clients.Select(async (c, i) =>
        {
            await c.RunAsync($"acquire x {i * 250} {(i + 1) * 250}", TimeSpan.FromMinutes(5));
            await c.RunAsync("release x", TimeSpan.FromMinutes(5));
        }));
        var memoryAtStart = SiloMemory();
        var held = await AcquireAsync();
        var stored = await ReadRowsAsync();
        CheckStored("after acquiring", held, stored);

        await new ScaleLine(options, cluster, clients, _violations, _report).RunAsync();

        var placement = await LocateAsync();
        var perSilo = placement.GroupBy(p => p.Value).ToDictionary(g => g.Key, g => g.Count());
        var victim = perSilo.MaxBy(p => p.Value).Key;
        var memoryBefore = SiloMemory();
        Line("## Part A: kill -9 of a silo under held locks");
        Line();
        await Task.WhenAll(clients.Select(c => c.RunAsync("snapshot", TimeSpan.FromMinutes(1))));
        var killAt = Now();
        await cluster.KillSiloAsync(victim);
        var answers = await CheckAllAsync(killAt, held, placement.Where(p => p.Value == victim).Select(p => p.Key).ToHashSet());
        var memoryAfter = SiloMemory();
        Line("| silo | locks hosted before the kill | RSS at start (warmed up) | RSS before the kill | RSS after (its locks moved in) |");
        Line("|---|---|---|---|---|");
        foreach (var (silo, count) in perSilo.OrderBy(p => p.Key))
        {
            var after = memoryAfter.TryGetValue(silo, out var a) ? ScaleMemory.MiB(a) : "killed";
            Line($"| {silo}{(silo == victim ? " (killed)" : "")} | {count:N0} | {ScaleMemory.MiB(memoryAtStart.GetValueOrDefault(silo))} | {ScaleMemory.MiB(memoryBefore.GetValueOrDefault(silo))} | {after} |");
        }

        var clientMemory = clients.Sum(c => c.ResidentBytes);
        var grown = memoryBefore.Values.Sum() - memoryAtStart.Values.Sum();
        Line();
        Line($"The 3 silos grew by {ScaleMemory.MiB(grown)} from start to holding {held.Count:N0} locks ({grown / 1024.0 / Math.Max(1, held.Count):F2} KiB per held lock, GC headroom included); after the kill the 2 survivors hold them all in {ScaleMemory.MiB(memoryAfter.Values.Sum())}; the {clients.Count} client processes use {ScaleMemory.MiB(clientMemory)}.");
        Line();

        var dead = placement.Where(p => p.Value == victim).Select(p => p.Key).Where(held.ContainsKey).ToList();
        var deadTimes = dead.Where(answers.ContainsKey).Select(k => answers[k]).Order().ToList();
        var otherTimes = answers.Where(a => placement.GetValueOrDefault(a.Key) != victim).Select(a => a.Value).Order().ToList();
        Line("Time from the kill to each lock's first successful answer (IsStillValid, retried until it answers):");
        Line();
        Line("| locks | count | first | p50 | p99 | max |");
        Line("|---|---|---|---|---|---|");
        Line($"| on the killed silo (asked first) | {deadTimes.Count:N0} | {Seconds(deadTimes.FirstOrDefault())} | {Seconds(Percentile(deadTimes, 0.50))} | {Seconds(Percentile(deadTimes, 0.99))} | {Seconds(deadTimes.LastOrDefault())} |");
        Line($"| on the surviving silos (asked after those) | {otherTimes.Count:N0} | {Seconds(otherTimes.FirstOrDefault())} | {Seconds(Percentile(otherTimes, 0.50))} | {Seconds(Percentile(otherTimes, 0.99))} | {Seconds(otherTimes.LastOrDefault())} |");
        Line();
        Line($"All {dead.Count:N0} locks of the killed silo answered again {Seconds(deadTimes.LastOrDefault())} after the kill.");
        Line();

        await TryAsOtherClientAsync(dead, held);
        CheckStored("after the kill", held, await ReadRowsAsync(), stored);
        await CheckRenewalsAsync(killAt);

        Line("## Result");
        Line();
        foreach (var violation in _violations.Take(50))
        {
            Line($"- VIOLATION: {violation}");
        }

        Line($"Violations: {_violations.Count}");
        var text = _report.ToString();
        Console.WriteLine(text);
        if (options.Report is { } path)
        {
            await File.WriteAllTextAsync(path, text);
        }

        return _violations.Count == 0 ? 0 : 1;
    }

    /// <summary>Each client takes its share of the keys: key → (client, fencing token).</summary>
    private async Task<Dictionary<string, (ScaleClientProcess Client, long Fencing)>> AcquireAsync()
    {
        var started = Stopwatch.StartNew();
        var share = (options.Locks + clients.Count - 1) / clients.Count;
        var results = await Task.WhenAll(clients.Select((c, i) =>
            c.RunAsync($"acquire s {i * share} {Math.Min(options.Locks, (i + 1) * share)}", TimeSpan.FromMinutes(30))));
        var held = new Dictionary<string, (ScaleClientProcess, long)>();
        for (var i = 0; i < clients.Count; i++)
        {
            foreach (var line in results[i].Lines.Where(l => l.StartsWith("h ", StringComparison.Ordinal)))
            {
                var parts = line.Split(' ');
                held[parts[1]] = (clients[i], long.Parse(parts[2], CultureInfo.InvariantCulture));
            }

            // Every key is new, so a try answered "held" (with no failed call before it) means two holders or a lost grant.
            if (Field(results[i].Summary, "nulls") > 0)
            {
                _violations.Add($"{clients[i].Name}: a try-acquire of a free lock answered held ({results[i].Summary})");
            }
        }

        var seconds = started.Elapsed.TotalSeconds;
        Line($"Acquired {held.Count:N0} of {options.Locks:N0} locks in {seconds:F1} s ({held.Count / seconds:N0}/s); clients: {string.Join("; ", results.Select((r, i) => $"{clients[i].Name} {r.Summary}"))}.");
        Line();
        if (held.Count < options.Locks)
        {
            _violations.Add($"only {held.Count} of {options.Locks} free locks could be taken");
        }

        return held;
    }

    /// <summary>Which silo (by index) hosts each lock's activation, from Orleans' management grain.</summary>
    private async Task<Dictionary<string, int>> LocateAsync()
    {
        var management = cluster.Client.GetGrain<IManagementGrain>(0);
        var placement = new Dictionary<string, int>();
        foreach (var silo in (await management.GetHosts(onlyActive: true)).Keys)
        {
            var index = cluster.SiloIndexOfPort(silo.Endpoint.Port) ?? throw new InvalidOperationException($"No silo of ours listens on {silo}.");
            foreach (var grain in await management.GetDetailedGrainStatistics(null, [silo]))
            {
                if (grain.GrainId.Type.ToString() == LockGrainType && grain.GrainId.Key.ToString() is { } key && key.StartsWith("scale:s", StringComparison.Ordinal))
                {
                    placement[key["scale:".Length..]] = index;
                }
            }
        }

        return placement;
    }

    /// <summary>Asks every held lock, through its holder's handle, until it answers; returns ms from the kill to each lock's first answer.</summary>
    private async Task<Dictionary<string, long>> CheckAllAsync(long killAt, Dictionary<string, (ScaleClientProcess Client, long Fencing)> held, HashSet<string> dead)
    {
        var results = await Task.WhenAll(clients.Select(async c =>
        {
            var first = Path.Combine(cluster.LogDirectory, $"{c.Name}-killed-silo-keys.txt");
            await File.WriteAllLinesAsync(first, held.Where(h => h.Value.Client == c && dead.Contains(h.Key)).Select(h => h.Key));
            return await c.RunAsync($"check {killAt} {first}", TimeSpan.FromMinutes(15));
        }));
        var answers = new Dictionary<string, long>();
        foreach (var line in results.SelectMany(r => r.Lines).Where(l => l.StartsWith("c ", StringComparison.Ordinal)))
        {
            var parts = line.Split(' ');
            var key = parts[1];
            answers[key] = long.Parse(parts[3], CultureInfo.InvariantCulture);
            if (parts[2] != "1")
            {
                _violations.Add($"{key}: the holder's handle is no longer valid after the kill");
            }

            if (long.Parse(parts[4], CultureInfo.InvariantCulture) != held[key].Fencing)
            {
                _violations.Add($"{key}: the fencing token changed from {held[key].Fencing} to {parts[4]}");
            }
        }

        foreach (var key in held.Keys.Where(k => k.StartsWith('s') && !answers.ContainsKey(k)).Take(10))
        {
            _violations.Add($"{key}: never answered after the kill");
        }

        Line($"Check after the kill: {string.Join("; ", results.Select((r, i) => $"{clients[i].Name} {r.Summary}"))} (calls that failed while the silo's death was being detected).");
        Line();
        return answers;
    }

    /// <summary>Another client (the controller) tries every lock of the killed silo and every tenth other: each must answer held.</summary>
    private async Task TryAsOtherClientAsync(List<string> dead, Dictionary<string, (ScaleClientProcess Client, long Fencing)> held)
    {
        var keys = dead.Concat(held.Keys.Where((k, i) => k.StartsWith('s') && i % 10 == 0)).Distinct().ToList();
        long granted = 0;
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (key, _) =>
        {
            if (await cluster.Locks.TryAcquireAsync("scale", key) is { } stolen)
            {
                Interlocked.Increment(ref granted);
                lock (_violations)
                {
                    _violations.Add($"{key}: another client was granted a lock its holder still held (fencing {stolen.FencingToken})");
                }

                await stolen.ReleaseAsync();
            }
        });
        Line($"Another client tried {keys.Count:N0} held locks (all of the killed silo's, every tenth other): {keys.Count - granted:N0} answered held, {granted} granted.");
        Line();
    }

    /// <summary>Waits until every handle's renewal fell due after the kill, then asks the clients how renewals went.</summary>
    private async Task CheckRenewalsAsync(long killAt)
    {
        var until = killAt + (long)options.RenewalInterval.TotalMilliseconds + 20_000;
        if (until > Now())
        {
            await Task.Delay(TimeSpan.FromMilliseconds(until - Now()));
        }

        var results = await Task.WhenAll(clients.Select(c => c.RunAsync("renewals", TimeSpan.FromMinutes(1))));
        long renewed = 0;
        for (var i = 0; i < clients.Count; i++)
        {
            var summary = results[i].Summary;
            renewed += Field(summary, "renewed");
            if (Field(summary, "stale") > 0 || Field(summary, "lost") > 0 || Field(summary, "calls-refused") > 0)
            {
                _violations.Add($"{clients[i].Name}: renewals did not keep succeeding after the kill ({summary}; e.g. {string.Join(", ", results[i].Lines)})");
            }
        }

        Line($"Renewals {(Now() - killAt) / 1000.0:F0} s after the kill: {renewed:N0} handles renewed since the kill; {string.Join("; ", results.Select((r, i) => $"{clients[i].Name} {r.Summary}"))} (calls-failed: renew calls that failed and were retried on the next tick).");
        Line();
    }

    /// <summary>Every held lock's stored row names the same holder (token fingerprint) and fencing token as before.</summary>
    private void CheckStored(
        string when,
        Dictionary<string, (ScaleClientProcess Client, long Fencing)> held,
        Dictionary<string, (string? Fingerprint, long Fencing)> rows,
        Dictionary<string, (string? Fingerprint, long Fencing)>? before = null)
    {
        var bad = 0;
        foreach (var (key, (_, fencing)) in held.Where(h => h.Key.StartsWith('s')))
        {
            if (!rows.TryGetValue(key, out var row) || row.Fingerprint is null || row.Fencing != fencing
                || (before is not null && before.TryGetValue(key, out var old) && old.Fingerprint != row.Fingerprint))
            {
                if (++bad <= 10)
                {
                    _violations.Add($"{key}: the stored row {when} does not name its holder's token and fencing token {fencing}");
                }
            }
        }

        Line($"Stored rows {when}: {held.Count(h => h.Key.StartsWith('s')) - bad:N0} name the same holder token (by fingerprint) and fencing token{(before is null ? "" : " as before the kill")}, {bad} differ.");
        Line();
    }

    private async Task<Dictionary<string, (string? Fingerprint, long Fencing)>> ReadRowsAsync()
    {
        await using var dataSource = NpgsqlDataSource.Create(cluster.ConnectionString);
        await using var command = dataSource.CreateCommand(
            "SELECT lock_key, token_fingerprint::text, fencing_token FROM orleans_locks WHERE lock_name = 'scale' AND lock_type = 'plain' AND has_state");
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<string, (string?, long)>();
        while (await reader.ReadAsync())
        {
            rows[reader.GetString(0)] = (reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? 0 : reader.GetInt64(2));
        }

        return rows;
    }

    private Dictionary<int, long> SiloMemory() =>
        cluster.Silos.Select((s, i) => (s, i)).Where(p => p.s is not null).ToDictionary(p => p.i, p => ScaleMemory.ResidentBytes(p.s!.ProcessId));

    internal static long Percentile(List<long> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    internal static string Seconds(long ms) => (ms / 1000.0).ToString("F2", CultureInfo.InvariantCulture) + " s";

    private static long Field(string summary, string name) =>
        summary.Split(' ').Where(f => f.StartsWith(name + "=", StringComparison.Ordinal)).Select(f => long.Parse(f[(name.Length + 1)..], CultureInfo.InvariantCulture)).FirstOrDefault();

    private void Line(string text = "")
    {
        _report.AppendLine(text);

        // Progress on standard error while the run goes (the report comes whole at the end).
        if (text.Length > 0)
        {
            Console.Error.WriteLine($"[{TimeProvider.System.GetUtcNow():HH:mm:ss}] {(text.Length > 160 ? text[..160] + "..." : text)}");
        }
    }

    private static long Now() => TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
}
