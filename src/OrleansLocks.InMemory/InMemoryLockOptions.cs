namespace OrleansLocks.InMemory;

/// <summary>How an <see cref="InMemoryLockProvider"/> grants and keeps leases.</summary>
public sealed class InMemoryLockOptions
{
    /// <summary>Who holds the locks this provider takes (shown in <see cref="OrleansLocks.Client.LockHandle.Owner"/>): 1 to 256 characters without NUL.</summary>
    /// <value>The default is <c>host-name/process-id</c>, as for the real client.</value>
    public string Owner { get; set; } = $"{Environment.MachineName}/{Environment.ProcessId}";

    /// <summary>How long a lease lasts without renewal: a holder that stopped renewing loses its lease this long after its last renewal. Positive, at most 1 day.</summary>
    /// <value>The default is 2 minutes, as for the lock grains.</value>
    public TimeSpan LeaseTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often a handle renews its lease; positive and at most a third of <see cref="LeaseTimeout"/>.</summary>
    /// <value>The default is 30 seconds, as for the lock grains.</value>
    public TimeSpan RenewalInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Refuses options that break a rule, naming it.</summary>
    /// <param name="paramName">The caller's parameter that carried the options, for the exception.</param>
    /// <exception cref="ArgumentException">An option breaks its rule.</exception>
    internal void Validate(string paramName)
    {
        LockOwner.Validate(Owner, paramName);
        if (LeaseTimeout <= TimeSpan.Zero || LeaseTimeout > TimeSpan.FromDays(1))
        {
            throw new ArgumentException($"LeaseTimeout must be positive and at most 1 day (was {LeaseTimeout}).", paramName);
        }

        // By ticks, not RenewalInterval * 3: a huge interval would overflow TimeSpan instead of being refused.
        if (RenewalInterval <= TimeSpan.Zero || RenewalInterval.Ticks > LeaseTimeout.Ticks / 3)
        {
            throw new ArgumentException(
                $"RenewalInterval must be positive and at most a third of LeaseTimeout (was {RenewalInterval} with LeaseTimeout {LeaseTimeout}).", paramName);
        }
    }
}
