namespace OrleansLocks.Grains;

/// <summary>How lock grains keep their line of waiters (<see cref="ILeaseGrain.Wait"/>). Silo side.</summary>
public sealed class LockWaitOptions
{
    /// <summary>The configuration section: <c>OrleansLocks:Wait</c>.</summary>
    public const string SectionName = "OrleansLocks:Wait";

    /// <summary>
    /// The longest one <see cref="ILeaseGrain.Wait"/> call stays open before it answers "not yet" and
    /// the waiter calls again, keeping its place. Keep it shorter than the callers' Orleans response
    /// timeout (30 seconds by default): a longer one still works, since a timed-out wait call is made
    /// again with the same waiter id, but each time-out costs a logged fault and a retry pause. It must
    /// be at most half of <see cref="LockLeaseOptions.LeaseTimeout"/> (checked at start-up): a waiter
    /// counts its lease from when it sent the wait call that was granted, so a longer call could hand
    /// over a lease that is nearly over.
    /// </summary>
    /// <value>The default is 15 seconds.</value>
    [ValueRange(typeof(TimeSpan), "00:00:00", "00:10:00", MinimumIsExclusive = true, ErrorMessage = "{0} must be positive and at most 10 minutes (was {1}); keep it below the callers' response timeout.")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long a waiter may go without a call open, and how long a waiter that was granted the lock
    /// has to confirm it, before it is presumed dead: it then leaves the line, or its grant is taken
    /// back and the lock handed to the next waiter. Waiters call again at once, so this only needs
    /// to cover a network round trip and a pause.
    /// </summary>
    /// <value>The default is 10 seconds.</value>
    [ValueRange(typeof(TimeSpan), "00:00:00", "00:10:00", MinimumIsExclusive = true, ErrorMessage = "{0} must be positive and at most 10 minutes (was {1}).")]
    public TimeSpan WaiterTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The most waiters one lock keeps in line; a further waiter is refused with an error rather
    /// than letting one hot lock grow without bound.
    /// </summary>
    /// <value>The default is 10,000.</value>
    [ValueRange(1, 1_000_000, ErrorMessage = "{0} must be between 1 and 1,000,000 (was {1}).")]
    public int MaxWaiters { get; set; } = 10_000;
}
