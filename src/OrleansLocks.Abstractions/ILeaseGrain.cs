using Orleans.Concurrency;

namespace OrleansLocks;

/// <summary>
/// What every lock grain does with a lease it granted, and the waiting protocol the client library's
/// <c>AcquireAsync</c> uses. Plain locks (<see cref="ILockGrain"/>) and read/write locks
/// (<see cref="IReadWriteLockGrain"/>) both have it; a token names exactly one holder.
/// </summary>
/// <remarks>
/// Waiting: call <see cref="Wait"/> with an id of your choosing and the same id on every call. It
/// answers a lease as soon as the lock is granted to you (waiters are served first come, first
/// served), or <see langword="null"/> after the silo's poll interval, so that no call outlives
/// Orleans' response timeout: then call it again, and you keep your place. A lease from
/// <see cref="Wait"/> must be confirmed with <see cref="ConfirmGrant"/> within the silo's waiter
/// timeout, or the grant is taken back and given to the next waiter: that is how a waiter whose
/// process died is skipped instead of being handed a lock nobody renews. Give up with
/// <see cref="StopWaiting"/>.
/// </remarks>
[Alias("OrleansLocks.ILeaseGrain")]
public interface ILeaseGrain : IGrainWithStringKey
{
    /// <summary>Extends the lease of the holder of <paramref name="token"/>, written durably before this returns.</summary>
    /// <returns>The renewed lease, or <see langword="null"/> when the lease is lost (another token, or it expired, even if nobody took it since).</returns>
    /// <exception cref="LockStorageException">The renewal could not be written.</exception>
    [Alias("Renew")]
    Task<LockLease?> Renew(string token);

    /// <summary>
    /// Ends the hold of <paramref name="token"/> (held or expired), and hands the lock to the next
    /// waiter in the same durable write. Harmless to repeat.
    /// </summary>
    /// <returns><see langword="true"/> when this call ended the hold; <see langword="false"/> for any other token.</returns>
    /// <exception cref="LockStorageException">The release could not be written; the lock stays as it was.</exception>
    [Alias("Release")]
    Task<bool> Release(string token);

    /// <summary>Whether <paramref name="token"/> holds the lock, right now.</summary>
    [Alias("IsStillValid")]
    [ReadOnly]
    Task<bool> IsStillValid(string token);

    /// <summary>
    /// Waits in line for the lock (see the remarks of <see cref="ILeaseGrain"/>). The grant is written
    /// durably before it is answered.
    /// </summary>
    /// <param name="waiterId">The caller's id for this wait, 1 to 64 characters from <c>[A-Za-z0-9_-]</c>, the same on every call.</param>
    /// <param name="kind">What to wait for: <see cref="LockKind.Plain"/> on a plain lock, <see cref="LockKind.Read"/>, <see cref="LockKind.Write"/> or <see cref="LockKind.UpgradeableRead"/> on a read/write lock (a semaphore waits with <see cref="ISemaphoreGrain.WaitForPermit"/>, which carries its count).</param>
    /// <param name="owner">Who will hold the lock; when omitted, the owner the client library put in the request context.</param>
    /// <returns>The lease once granted, or <see langword="null"/> when the poll interval passed first (call again).</returns>
    /// <exception cref="LockStorageException">
    /// The lock's storage failed, and the caller is no longer in line. Whether a grant was written for it
    /// is unknown: call again with the same waiter id, which finds such a grant or joins the line again.
    /// </exception>
    /// <exception cref="InvalidOperationException">
    /// The waiter left with <see cref="StopWaiting"/> (within the last two minutes): a waiter that left
    /// cannot come back, so a call delayed in the network does not queue a waiter that has gone.
    /// </exception>
    [Alias("Wait")]
    [AlwaysInterleave]
    Task<LockLease?> Wait(string waiterId, LockKind kind, string? owner = null);

    /// <summary>Takes delivery of a lease that <see cref="Wait"/> answered.</summary>
    /// <returns><see langword="true"/> when the lease is still held; <see langword="false"/> when it was taken back because the confirmation came too late (wait again).</returns>
    [Alias("ConfirmGrant")]
    Task<bool> ConfirmGrant(string token);

    /// <summary>
    /// Leaves the line: the waiter is removed, and a lease granted to it (confirmed or not) is released,
    /// so a waiter that gave up leaves nothing held or queued. Harmless to repeat. The lock remembers
    /// the id for two minutes and refuses a later <see cref="Wait"/> with it.
    /// </summary>
    /// <exception cref="LockStorageException">Releasing a grant made to the waiter could not be written; it expires with its lease.</exception>
    [Alias("StopWaiting")]
    Task StopWaiting(string waiterId);
}
