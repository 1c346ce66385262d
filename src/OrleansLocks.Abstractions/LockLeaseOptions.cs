namespace OrleansLocks;

/// <summary>How long a lease lasts and how often a holder renews it. Used by silos (grants) and clients (renewal).</summary>
public sealed class LockLeaseOptions
{
    /// <summary>The configuration section: <c>OrleansLocks:Lease</c>.</summary>
    public const string SectionName = "OrleansLocks:Lease";

    /// <summary>
    /// How long a grant lasts without renewal; after it the lock is free again. At most 1 day: a lease
    /// nobody renews for a day is already a lock nobody can take, and far longer ones would run expiry
    /// times past what <see cref="DateTimeOffset"/> can represent.
    /// </summary>
    /// <value>The default is 2 minutes, as in Synapse.</value>
    [ValueRange(typeof(TimeSpan), "00:00:00", "1.00:00:00", MinimumIsExclusive = true, ErrorMessage = "{0} must be positive and at most 1 day (was {1}).")]
    public TimeSpan LeaseTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How often a holder renews. Must be positive and at most a third of <see cref="LeaseTimeout"/>,
    /// so that two renewals can fail before the lease is lost.
    /// </summary>
    /// <value>The default is 30 seconds, as in Synapse.</value>
    [ValueRange(typeof(TimeSpan), "00:00:00", "10675199.02:48:05.4775807", MinimumIsExclusive = true, ErrorMessage = "{0} must be positive (was {1}).")]
    public TimeSpan RenewalInterval { get; set; } = TimeSpan.FromSeconds(30);
}
