using System.Globalization;

namespace OrleansLocks.Chaos;

/// <summary>The run's parameters, all on the command line so that a failing run can be replayed.</summary>
internal sealed record ChaosOptions
{
    public int Seed { get; init; } = 1;

    /// <summary>How long the workload runs with faults.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(2);

    public int Silos { get; init; } = 3;

    public int Workers { get; init; } = 3;

    /// <summary>Concurrent lock users inside each worker process.</summary>
    public int ActorsPerWorker { get; init; } = 4;

    /// <summary>How many distinct locks the workload contends on.</summary>
    public int Locks { get; init; } = 6;

    /// <summary>Mean pause between faults (each pause is drawn between half and one and a half of it).</summary>
    public TimeSpan FaultInterval { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan LeaseTimeout { get; init; } = TimeSpan.FromSeconds(6);

    public TimeSpan RenewalInterval { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan WaiterTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The silos' <c>OrleansLocks:Wait:PollInterval</c>: the longest one wait call stays open.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// PostgreSQL with its default durability (fsync and synchronous commit on), so that a crash
    /// loses nothing acknowledged. Off (<c>--no-fsync</c>) is faster but makes pg-crash meaningless.
    /// </summary>
    public bool Durable { get; init; } = true;

    /// <summary>
    /// Silos declare a dead peer in seconds (1 s probe timeout, 2 missed probes) so that faults play out
    /// within a run. The scale run keeps Orleans' defaults instead: with 100,000 locks reactivating on a
    /// 2-core machine, probes that slow answer 1 s late and a live silo would be declared dead too.
    /// </summary>
    public bool FastFailureDetection { get; init; } = true;

    /// <summary>
    /// Each process in a network namespace of its own, with the network fault kinds (partitions, a
    /// client cut from its gateways, one-way loss). Off with <c>--no-netns</c>, or by itself when the
    /// namespaces cannot be made (not root, no <c>ip netns</c>).
    /// </summary>
    public bool Network { get; init; } = true;

    /// <summary>
    /// Set: the clock-skew fault shifts a silo's clock by this much, beyond the clients' allowance, and
    /// the checker reports what the clock assumption predicts. Unset: the skew stays below the allowance.
    /// </summary>
    public TimeSpan? ClockSkewBeyond { get; init; }

    /// <summary>Where to write the markdown report, if anywhere.</summary>
    public string? Report { get; init; }

    /// <summary>Where to write every history event as JSON lines, if anywhere (for studying a failure).</summary>
    public string? History { get; init; }

    public static string Usage => """
        dotnet run --project tests/OrleansLocks.Chaos -c Release -- [options]
          --seed N              seed of the workload and the fault schedule (default 1)
          --duration SECONDS    how long to run the workload with faults (default 120)
          --silos N             Silo processes (default 3)
          --workers N           client processes (default 3)
          --actors N            concurrent lock users per client (default 4)
          --locks N             distinct locks contended on (default 6)
          --fault-interval S    mean seconds between faults (default 10)
          --lease S             lease timeout in seconds (default 6; renewal is a third)
          --no-fsync            run PostgreSQL with fsync off (faster; a pg-crash may then lose commits)
          --no-netns            no network namespaces and no network faults (all processes on loopback)
          --clock-skew-beyond S clock-skew faults shift a silo's clock by S seconds, beyond the clients'
                                1 s allowance (default: below it, a fifth to three fifths of it)
          --report PATH         also write the summary as markdown to PATH
          --history PATH        also write every history event to PATH (JSON lines)
        """;

    public static ChaosOptions Parse(IReadOnlyList<string> args)
    {
        var options = new ChaosOptions();
        for (var i = 0; i < args.Count; i++)
        {
            string Next() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            TimeSpan Seconds() => TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture));
            options = args[i] switch
            {
                "--seed" => options with { Seed = Int() },
                "--duration" => options with { Duration = Seconds() },
                "--silos" => options with { Silos = Int() },
                "--workers" => options with { Workers = Int() },
                "--actors" => options with { ActorsPerWorker = Int() },
                "--locks" => options with { Locks = Int() },
                "--fault-interval" => options with { FaultInterval = Seconds() },
                "--lease" => WithLease(options, Seconds()),
                "--no-fsync" => options with { Durable = false },
                "--no-netns" => options with { Network = false },
                "--clock-skew-beyond" => options with { ClockSkewBeyond = Seconds() },
                "--report" => options with { Report = Next() },
                "--history" => options with { History = Next() },
                _ => throw new ArgumentException($"Unknown option '{args[i]}'."),
            };
        }

        if (options.Silos < 2 || options.Workers < 2 || options.Locks < 1 || options.ActorsPerWorker < 1 || options.Duration <= TimeSpan.Zero)
        {
            throw new ArgumentException("The run needs at least 2 silos (one is killed at a time), 2 workers, 1 lock, 1 actor and a positive duration.");
        }

        if (options.ClockSkewBeyond is { } beyond && beyond <= ChaosClient.ClockSkewAllowance)
        {
            throw new ArgumentException($"--clock-skew-beyond must be more than the clients' clock-skew allowance ({ChaosClient.ClockSkewAllowance.TotalSeconds} s); below it, leave it out (was {beyond.TotalSeconds} s).");
        }

        return options;
    }

    private static ChaosOptions WithLease(ChaosOptions options, TimeSpan lease) =>
        options with { LeaseTimeout = lease, RenewalInterval = Third(lease), WaiterTimeout = lease / 2, PollInterval = Third(lease) };

    // Rounded down: TimeSpan's division rounds to the nearest tick, and a third rounded up is over
    // the silo's "at most a third of the lease" rule (a 20 s lease would be refused).
    private static TimeSpan Third(TimeSpan lease) => TimeSpan.FromTicks(lease.Ticks / 3);
}
