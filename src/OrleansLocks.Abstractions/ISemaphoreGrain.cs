using Orleans.Concurrency;

namespace OrleansLocks;

/// <summary>
/// One semaphore, <c>(name, key)</c>, as a grain keyed <c>"name:key"</c> like the locks but
/// independent of them: up to a count of holders at once, each holding one permit. Every holder has
/// its own token, lease, renewal and fencing token (which grows with every grant of the semaphore),
/// and the expiry of a holder frees its permit by itself. Renewal, release and the waiting protocol's
/// confirmation and leaving are inherited from <see cref="ILeaseGrain"/>; waiting itself is
/// <see cref="WaitForPermit"/>, which carries the count.
/// </summary>
/// <remarks>
/// The count is set by the first caller (holder or waiter) and stays while anyone holds a permit or
/// waits for one; a caller with another count is refused with an <see cref="ArgumentException"/>
/// naming both counts, and nothing is granted or queued for it. Once the semaphore is empty and
/// nobody waits, the next caller sets the count anew. Whatever the count, at most
/// <see cref="MaxHolders"/> permits are held at once; further callers are refused or wait. Waiters
/// are served first come, first served: a try never jumps the line.
/// </remarks>
[Alias("OrleansLocks.ISemaphoreGrain")]
public interface ISemaphoreGrain : ILeaseGrain
{
    /// <summary>
    /// Grants a permit if fewer than <paramref name="maxCount"/> (and fewer than <see cref="MaxHolders"/>)
    /// hold one and nobody waits. Written durably before this returns.
    /// </summary>
    /// <param name="maxCount">The semaphore's count, 1 or more; it must match the count of those that hold or wait.</param>
    /// <param name="owner">Who holds the permit; when omitted, the owner from the client library's request context.</param>
    /// <param name="attemptId">
    /// An id the caller picks for this acquire and sends again with each retry of it (1 to 64
    /// characters from <c>[A-Za-z0-9_-]</c>). A retry after a grant whose answer was lost gets the same lease back.
    /// </param>
    /// <returns>The holder's lease, or <see langword="null"/> when every permit is held or someone waits.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxCount"/> is below 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="maxCount"/> differs from the count of those that hold or wait; nothing was granted.</exception>
    /// <exception cref="LockStorageException">The grant could not be written; nothing was granted.</exception>
    [Alias("TryAcquire")]
    Task<LockLease?> TryAcquire(int maxCount, string? owner = null, string? attemptId = null);

    /// <summary>
    /// Waits in line for a permit, with the same protocol as <see cref="ILeaseGrain.Wait"/> (answers a
    /// lease, or <see langword="null"/> after the poll interval: call again with the same waiter id;
    /// confirm with <see cref="ILeaseGrain.ConfirmGrant"/>; give up with <see cref="ILeaseGrain.StopWaiting"/>).
    /// </summary>
    /// <param name="waiterId">The caller's id for this wait, 1 to 64 characters from <c>[A-Za-z0-9_-]</c>, the same on every call.</param>
    /// <param name="maxCount">The semaphore's count, 1 or more; it must match the count of those that hold or wait.</param>
    /// <param name="owner">Who will hold the permit; when omitted, the owner from the client library's request context.</param>
    /// <returns>The lease once granted, or <see langword="null"/> when the poll interval passed first (call again).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxCount"/> is below 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="maxCount"/> differs from the count of those that hold or wait; nothing was queued.</exception>
    /// <exception cref="LockStorageException">The storage failed, and the caller is no longer in line (see <see cref="ILeaseGrain.Wait"/>).</exception>
    [Alias("WaitForPermit")]
    [AlwaysInterleave]
    Task<LockLease?> WaitForPermit(string waiterId, int maxCount, string? owner = null);

    /// <summary>The count, the holders (never their tokens) and how many wait.</summary>
    [Alias("GetInfo")]
    [ReadOnly]
    Task<SemaphoreInfo> GetInfo();

    /// <summary>The most permits one semaphore has held at once, whatever its count; further callers are refused or wait.</summary>
    public const int MaxHolders = 1024;
}
