using Orleans.Concurrency;

namespace OrleansLocks;

/// <summary>
/// One lock, <c>(name, key)</c>, as a grain keyed <c>"name:key"</c> (see <see cref="LockId"/>).
/// Its persisted state mirrors Synapse's <c>worker_locks</c> row. Most code uses the client
/// library's <c>ILockProvider</c>, which renews and releases for you; calling the grain
/// directly is supported, e.g. <c>GetGrain&lt;ILockGrain&gt;("purge_room:!abc:example.org").TryAcquire()</c>.
/// </summary>
[Alias("OrleansLocks.ILockGrain")]
public interface ILockGrain : IGrainWithStringKey
{
    /// <summary>
    /// Grants the lock if it is free: a new random token, the next fencing token, the holder set to
    /// <paramref name="owner"/>. The grant is written durably before this returns.
    /// </summary>
    /// <param name="owner">
    /// Who holds the lock, for humans and the <c>worker_locks</c> view. When omitted, the owner the
    /// calling client library put in the request context, else <c>"unknown"</c>.
    /// </param>
    /// <returns>The lease, or <see langword="null"/> when the lock is held (also by this same owner: locks are not reentrant).</returns>
    /// <exception cref="LockStorageException">The grant could not be written; nothing was granted.</exception>
    [Alias("TryAcquire")]
    Task<LockLease?> TryAcquire(string? owner = null);

    /// <summary>Extends the lease of the holder of <paramref name="token"/>, written durably before this returns.</summary>
    /// <returns>The renewed lease, or <see langword="null"/> when the lease is lost (another token, or it expired, even if nobody took it since).</returns>
    /// <exception cref="LockStorageException">The renewal could not be written.</exception>
    [Alias("Renew")]
    Task<LockLease?> Renew(string token);

    /// <summary>Frees the lock if <paramref name="token"/> is the holder's (held or expired). Harmless to repeat.</summary>
    /// <returns><see langword="true"/> when this call freed the lock; <see langword="false"/> for any other token.</returns>
    /// <exception cref="LockStorageException">The release could not be written; the lock stays as it was.</exception>
    [Alias("Release")]
    Task<bool> Release(string token);

    /// <summary>Whether the lock is held, right now, with <paramref name="token"/>.</summary>
    [Alias("IsStillValid")]
    [ReadOnly]
    Task<bool> IsStillValid(string token);

    /// <summary>The current holder (never its token), or <see langword="null"/> when the lock is free.</summary>
    [Alias("GetInfo")]
    [ReadOnly]
    Task<LockInfo?> GetInfo();
}
