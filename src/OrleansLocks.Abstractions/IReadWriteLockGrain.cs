using Orleans.Concurrency;

namespace OrleansLocks;

/// <summary>
/// One read/write lock, <c>(name, key)</c>, as a grain keyed <c>"name:key"</c> like plain locks but
/// independent of them: many readers or one writer. Every holder, reader or writer, has its own
/// token, lease, renewal and fencing token, and the expiry of any holder frees its share by itself.
/// Writers are preferred: while a writer waits, new readers are refused (or wait behind it), so a
/// steady stream of readers cannot starve writers.
/// </summary>
[Alias("OrleansLocks.IReadWriteLockGrain")]
public interface IReadWriteLockGrain : ILeaseGrain
{
    /// <summary>
    /// Grants a read hold if there is no writer, no writer waits, and fewer than
    /// <see cref="MaxReaders"/> readers hold it. Written durably before this returns.
    /// </summary>
    /// <param name="owner">Who holds it; when omitted, the owner from the client library's request context.</param>
    /// <param name="attemptId">
    /// An id the caller picks for this acquire and sends again with each retry of it (1 to 64
    /// characters from <c>[A-Za-z0-9_-]</c>, like a waiter id). When a retry arrives after the first
    /// call was granted but its answer was lost, it gets the same lease back instead of "held".
    /// When omitted, a retry after a lost answer sees the lock held (by the caller itself).
    /// </param>
    /// <returns>The reader's lease, or <see langword="null"/> when a writer holds the lock or waits for it.</returns>
    /// <exception cref="LockStorageException">The grant could not be written; nothing was granted.</exception>
    [Alias("TryAcquireRead")]
    Task<LockLease?> TryAcquireRead(string? owner = null, string? attemptId = null);

    /// <summary>Grants the write hold if nobody holds the lock and nobody waits for it. Written durably before this returns.</summary>
    /// <param name="owner">Who holds it; when omitted, the owner from the client library's request context.</param>
    /// <param name="attemptId">
    /// An id the caller picks for this acquire and sends again with each retry of it (1 to 64
    /// characters from <c>[A-Za-z0-9_-]</c>, like a waiter id). When a retry arrives after the first
    /// call was granted but its answer was lost, it gets the same lease back instead of "held".
    /// When omitted, a retry after a lost answer sees the lock held (by the caller itself).
    /// </param>
    /// <returns>The writer's lease, or <see langword="null"/> when any reader or writer holds the lock or waits for it.</returns>
    /// <exception cref="LockStorageException">The grant could not be written; nothing was granted.</exception>
    [Alias("TryAcquireWrite")]
    Task<LockLease?> TryAcquireWrite(string? owner = null, string? attemptId = null);

    /// <summary>The current holders (never their tokens) and how many wait, by kind.</summary>
    [Alias("GetInfo")]
    [ReadOnly]
    Task<ReadWriteLockInfo> GetInfo();

    /// <summary>The most readers one read/write lock holds at once; further readers are refused or wait.</summary>
    public const int MaxReaders = 1024;
}
