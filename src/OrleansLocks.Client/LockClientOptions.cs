namespace OrleansLocks.Client;

/// <summary>How this process acquires and keeps locks.</summary>
public sealed class LockClientOptions
{
    /// <summary>The configuration section: <c>OrleansLocks:Client</c>.</summary>
    public const string SectionName = "OrleansLocks:Client";

    /// <summary>
    /// Who this process is, recorded as the holder of the locks it takes (Synapse's
    /// <c>instance_name</c>): 1 to 256 characters without NUL.
    /// </summary>
    /// <value>The default is <c>host-name/process-id</c>, which a human can trace.</value>
    public string Owner { get; set; } = $"{Environment.MachineName}/{Environment.ProcessId}";

    /// <summary>
    /// How many times one lock operation is attempted when the cluster fails transiently (a silo
    /// dying, a gateway moving, a call timing out). From 1 (no retry) to 10.
    /// </summary>
    /// <value>The default is 4.</value>
    [ValueRange(1, 10, ErrorMessage = "{0} must be from 1 to 10 (was {1}).")]
    public int MaxAttempts { get; set; } = 4;

    /// <summary>
    /// The pause before the first retry; it doubles for each further one, up to <see cref="MaxRetryDelay"/>.
    /// Each pause is drawn at random between half and all of that, so clients that lost the same silo
    /// do not all call again at once. From 0 to 10 seconds.
    /// </summary>
    /// <value>The default is 200 milliseconds.</value>
    [ValueRange(typeof(TimeSpan), "00:00:00", "00:00:10", ErrorMessage = "{0} must be from 0 to 10 seconds (was {1}).")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// The longest pause between two retries, however many faults came before: it bounds the
    /// doubling, mostly for a wait, which keeps retrying through an outage for as long as its
    /// timeout allows. From <see cref="RetryDelay"/> to 1 minute. Keep it below the silos'
    /// <c>OrleansLocks:Wait:WaiterTimeout</c> (10 s by default): a waiter with no call open for that
    /// long is dropped from the line, so a longer pause costs a wait its place (it joins again at
    /// the back on its next call).
    /// </summary>
    /// <value>The default is 2 seconds, well inside the silo's 10-second waiter timeout.</value>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How far the silos' wall clocks may disagree (with each other, or a silo's clock with itself after
    /// a jump) without two processes believing they hold a lock at once. A handle counts its lease as
    /// lost this much before <c>sentAt + lease</c> (on this process's monotonic clock), which is how
    /// early a silo whose clock is ahead by less than this can end the lease and grant the lock again.
    /// Renewals are paced to the shortened lease. From zero to a third of
    /// <see cref="LockLeaseOptions.LeaseTimeout"/>; a silo granting a shorter lease than configured
    /// has the allowance cut to a third of that lease.
    /// </summary>
    /// <value>
    /// The default is 1 second: far above what NTP keeps between machines (milliseconds), and small
    /// beside the default 2-minute lease and 30-second renewal.
    /// </value>
    public TimeSpan ClockSkewAllowance { get; set; } = TimeSpan.FromSeconds(1);
}
