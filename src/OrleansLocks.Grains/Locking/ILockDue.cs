namespace OrleansLocks.Grains.Locking;

/// <summary>
/// The lock grain's face for the silo's <see cref="ExpirySchedule"/> (internal; not part of the lock
/// API): called when something the lock asked to be woken for is due.
/// </summary>
[Alias("OrleansLocks.ILockDue")]
internal interface ILockDue : IGrainWithStringKey
{
    /// <summary>
    /// Does what is due now: frees the holders whose lease ran out, drops the waiters that stopped
    /// calling, takes back grants nobody confirmed, hands the lock on, writes the change, and asks the
    /// schedule for the next due time. Reactivates a lock whose activation went away, which then reads
    /// its stored state first. Harmless when nothing is due.
    /// </summary>
    /// <exception cref="LockStorageException">The state could not be read or the change written; the schedule calls again later.</exception>
    [Alias("OnDue")]
    Task OnDue();
}
