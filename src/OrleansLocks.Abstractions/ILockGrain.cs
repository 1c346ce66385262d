using Orleans.Concurrency;

namespace OrleansLocks;

/// <summary>
/// One lock, <c>(name, key)</c>, as a grain keyed <c>"name:key"</c> (see <see cref="LockId"/>).
/// Its persisted state mirrors Synapse's <c>worker_locks</c> row. Most code uses the client
/// library's <c>ILockProvider</c>, which renews and releases for you; calling the grain
/// directly is supported, e.g. <c>GetGrain&lt;ILockGrain&gt;("purge_room:!abc:example.org").TryAcquire()</c>.
/// Renewal, release and waiting are inherited from <see cref="ILeaseGrain"/>.
/// </summary>
[Alias("OrleansLocks.ILockGrain")]
public interface ILockGrain : ILeaseGrain
{
    /// <summary>
    /// Grants the lock if it is free: a new random token, the next fencing token, the holder set to
    /// <paramref name="owner"/>. The grant is written durably before this returns.
    /// </summary>
    /// <param name="owner">
    /// Who holds the lock, for humans and the <c>worker_locks</c> view. When omitted, the owner the
    /// calling client library put in the request context, else <c>"unknown"</c>.
    /// </param>
    /// <param name="attemptId">
    /// An id the caller picks for this acquire and sends again with each retry of it (1 to 64
    /// characters from <c>[A-Za-z0-9_-]</c>, like a waiter id). When a retry arrives after the first
    /// call was granted but its answer was lost, it gets the same lease back instead of "held".
    /// When omitted, a retry after a lost answer sees the lock held (by the caller itself).
    /// </param>
    /// <returns>The lease, or <see langword="null"/> when the lock is held (also by this same owner: locks are not reentrant).</returns>
    /// <exception cref="LockStorageException">The grant could not be written; nothing was granted.</exception>
    /// <exception cref="ArgumentException"><paramref name="attemptId"/> or the owner breaks its rule, or the grain key is not a valid lock id.</exception>
    [Alias("TryAcquire")]
    Task<LockLease?> TryAcquire(string? owner = null, string? attemptId = null);

    /// <summary>The current holder (never its token) and how many wait in line, or <see langword="null"/> when the lock is free.</summary>
    [Alias("GetInfo")]
    [ReadOnly]
    Task<LockInfo?> GetInfo();
}
