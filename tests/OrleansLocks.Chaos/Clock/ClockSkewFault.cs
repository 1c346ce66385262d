using System.Globalization;

namespace OrleansLocks.Chaos.Clock;

/// <summary>One silo's wall clock shifted by <paramref name="Offset"/> (positive: ahead) from <paramref name="Start"/> until the fault ended at <paramref name="End"/> (Unix ms).</summary>
internal sealed record ClockSkew(string Silo, TimeSpan Offset, long Start, long End);

/// <summary>
/// The clock-skew fault: one silo's wall clock ahead or behind by a seeded Δ, held for about two
/// leases under load, then set right. Below the documented bound (the clients'
/// <see cref="ChaosClient.ClockSkewAllowance"/>) Δ is drawn between a fifth and three fifths of the
/// allowance and no violation is allowed; with <c>--clock-skew-beyond</c> Δ is that value, and the
/// checker must find only what the clock assumption predicts.
/// </summary>
/// <remarks>
/// A skew bites only where a lease stamped on one clock is judged on another, so the fault makes
/// that happen three ways: the jump itself (leases the silo granted or renewed before it now end
/// Δ early on a clock set ahead), a silo killed while the skew holds (its locks' activations move,
/// some to the skewed silo, which judges leases another clock stamped), and the reset (leases a
/// clock set behind stamped end Δ early once it is right again). The workload keeps every lock
/// contended, so an early end is taken at once.
/// </remarks>
internal sealed class ClockSkewFault(ChaosOptions options, ChaosCluster cluster, Random random)
{
    public List<ClockSkew> Skews { get; } = [];

    /// <summary>Runs the fault; returns its target (the skewed silo).</summary>
    public async Task<string> InjectAsync()
    {
        var start = Now();
        var live = Enumerable.Range(0, cluster.Silos.Count).Where(i => cluster.Silos[i] is not null).ToList();

        // The silo hosting the most locks is skewed, and the one hosting the most of the rest is
        // killed: its locks come back on the others, some on the skewed one.
        var hosted = await LocksPerSiloAsync();
        var byLocks = live.OrderByDescending(i => hosted.GetValueOrDefault(i)).ThenBy(_ => random.Next()).ToList();
        var skewed = byLocks[0];
        var size = options.ClockSkewBeyond ?? ChaosClient.ClockSkewAllowance * (0.2 + (0.4 * random.NextDouble()));
        var offset = random.Next(2) == 0 ? size : -size;
        var lease = options.LeaseTimeout;

        cluster.Clocks.SetOffset(skewed, offset);
        await Task.Delay(SiloClocks.Propagation + (lease / 2));

        // Move activations: kill -9 another silo, so that its locks come back on the others, the
        // skewed one among them, carrying leases stamped on a right clock.
        var others = byLocks.Skip(1).Where(i => cluster.Silos[i] is not null).ToList();
        string moved = "none";
        if (others.Count > 0)
        {
            var victim = others[0];
            moved = $"silo{victim}";
            await cluster.KillSiloAsync(victim);
            await Task.Delay(random.Next(1000, 3000));
            await cluster.StartSiloAsync(victim);
        }

        await Task.Delay(lease / 2);
        cluster.Clocks.SetOffset(skewed, TimeSpan.Zero);

        // The reset: leases the skewed clock stamped are judged on a right one until they run out.
        await Task.Delay(SiloClocks.Propagation + lease + size);
        var end = Now();
        Skews.Add(new ClockSkew($"silo{skewed}", offset, start, end));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  note: clock-skew set silo{skewed}'s clock {(offset > TimeSpan.Zero ? "ahead" : "behind")} by {size.TotalMilliseconds:F0} ms (allowance {ChaosClient.ClockSkewAllowance.TotalMilliseconds:F0} ms) while it hosted {hosted.GetValueOrDefault(skewed)} of {options.Locks} locks, and killed {moved} meanwhile"));
        return $"silo{skewed}";
    }

    /// <summary>How many of the workload's locks each silo hosts now, by the cluster's own (eventually consistent) directory.</summary>
    private async Task<Dictionary<int, int>> LocksPerSiloAsync()
    {
        var management = cluster.Client.GetGrain<IManagementGrain>(0);
        var hosted = new Dictionary<int, int>();
        for (var i = 0; i < options.Locks; i++)
        {
            try
            {
                var grain = cluster.Client.GetGrain<ILockGrain>(LockId.Create("chaos", $"k{i}").ToGrainKey());
                if (await management.GetActivationAddress(grain) is { } silo && cluster.SiloIndexOfPort(silo.Endpoint.Port) is { } index)
                {
                    hosted[index] = hosted.GetValueOrDefault(index) + 1;
                }
            }
            catch (Exception ex) when (ex is OrleansException or TimeoutException)
            {
                // Not knowing where one lock is only makes the choice of silo less telling.
            }
        }

        return hosted;
    }

    private static long Now() => TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
}
