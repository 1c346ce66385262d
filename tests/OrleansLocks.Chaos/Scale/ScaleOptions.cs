using System.Globalization;

namespace OrleansLocks.Chaos.Scale;

/// <summary>The scale run's settings ("scale" mode of the chaos program).</summary>
internal sealed record ScaleOptions
{
    /// <summary>Locks held through the silo kill (part A).</summary>
    public int Locks { get; init; } = 100_000;

    /// <summary>Waiters in part B, spread evenly over <see cref="WaiterLocks"/> locks.</summary>
    public int Waiters { get; init; } = 10_000;

    /// <summary>The locks the waiters of part B line up on.</summary>
    public int WaiterLocks { get; init; } = 1_000;

    /// <summary>Client processes holding the locks and running the waiters.</summary>
    public int Clients { get; init; } = 4;

    /// <summary>
    /// The lease. 6 minutes with a 90 s renewal is about 1,100 renewals/s at 100,000 holders, which this
    /// 2-core machine sustains beside 3 silos and PostgreSQL; the default 2 min / 30 s would be 3,300/s.
    /// </summary>
    public TimeSpan LeaseTimeout { get; init; } = TimeSpan.FromMinutes(6);

    /// <summary>How often each handle renews.</summary>
    public TimeSpan RenewalInterval { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>
    /// The silos' longest wait call: 8 s, just below the clients' 10 s Orleans response timeout (a wait
    /// call must be answered before the caller gives up on it; the silos' default 15 s goes with Orleans'
    /// default 30 s), and at most half the lease, as the silo requires. Not the chaos run's 2 s made for
    /// its 6 s lease, which with 10,000 waiters would be 5,000 calls a second.
    /// </summary>
    public TimeSpan PollInterval => TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(8).Ticks, LeaseTimeout.Ticks / 2));

    /// <summary>
    /// How long a waiter may go without calling before it leaves the line: the silos' default 10 s. With
    /// the chaos run's 3 s, a waiter whose next call came late on the loaded cluster lost its place, as
    /// the contract says a silent waiter does, and part B reported that as the line out of order.
    /// </summary>
    public TimeSpan WaiterTimeout => TimeSpan.FromSeconds(10);

    /// <summary>Where to write the markdown report, besides standard output.</summary>
    public string? Report { get; init; }

    public static string Usage => """
        usage: OrleansLocks.Chaos scale [--locks 100000] [--waiters 10000] [--waiter-locks 1000]
                                        [--clients 4] [--lease 360] [--renewal 90] [--report file.md]
        """;

    public static ScaleOptions Parse(IReadOnlyList<string> args)
    {
        var options = new ScaleOptions();
        for (var i = 0; i < args.Count; i++)
        {
            string Next() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            TimeSpan Seconds() => TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture));
            options = args[i] switch
            {
                "--locks" => options with { Locks = Int() },
                "--waiters" => options with { Waiters = Int() },
                "--waiter-locks" => options with { WaiterLocks = Int() },
                "--clients" => options with { Clients = Int() },
                "--lease" => options with { LeaseTimeout = Seconds() },
                "--renewal" => options with { RenewalInterval = Seconds() },
                "--report" => options with { Report = Next() },
                _ => throw new ArgumentException($"Unknown option '{args[i]}'."),
            };
        }

        if (options.Locks < 1 || options.Clients < 1 || options.WaiterLocks < 1 || options.Waiters < options.WaiterLocks || options.Waiters % options.WaiterLocks != 0)
        {
            throw new ArgumentException("--locks, --clients and --waiter-locks must be at least 1, and --waiters a multiple of --waiter-locks.");
        }

        if (options.RenewalInterval <= TimeSpan.Zero || options.RenewalInterval >= options.LeaseTimeout)
        {
            throw new ArgumentException("--renewal must be positive and shorter than --lease.");
        }

        return options;
    }
}
