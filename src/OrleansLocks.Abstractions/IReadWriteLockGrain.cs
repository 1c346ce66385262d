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

    /// <summary>
    /// Grants the upgradeable read hold if no writer holds the lock, no other upgradeable reader holds
    /// it, nobody waits, and fewer than <see cref="MaxReaders"/> readers hold it. It is shared with
    /// ordinary readers; a writer waits for it. Written durably before this returns.
    /// </summary>
    /// <param name="owner">Who holds it; when omitted, the owner from the client library's request context.</param>
    /// <param name="attemptId">An id for this acquire, the same on each retry of it (see <see cref="TryAcquireRead"/>).</param>
    /// <returns>The upgradeable reader's lease, or <see langword="null"/> when a writer or another upgradeable reader holds the lock, or anyone waits for it.</returns>
    /// <exception cref="LockStorageException">The grant could not be written; nothing was granted.</exception>
    [Alias("TryAcquireUpgradeableRead")]
    Task<LockLease?> TryAcquireUpgradeableRead(string? owner = null, string? attemptId = null);

    /// <summary>
    /// Tries once to turn the upgradeable read hold of <paramref name="token"/> into the write hold:
    /// granted when no other reader holds the lock. The hold keeps its token and lease and gets the
    /// lock's next fencing token. Written durably before this returns. Repeating it after a grant
    /// answers the same write lease.
    /// </summary>
    /// <param name="token">The token of the upgradeable read hold.</param>
    /// <returns>The write lease, or <see langword="null"/> while other readers hold the lock.</returns>
    /// <exception cref="InvalidOperationException">The token holds no upgradeable read of this lock (an ordinary read, released, or expired): only a live upgradeable read can be upgraded.</exception>
    /// <exception cref="LockStorageException">The upgrade could not be written; the hold stays an upgradeable read.</exception>
    [Alias("TryUpgrade")]
    Task<LockLease?> TryUpgrade(string token);

    /// <summary>
    /// Waits to upgrade the upgradeable read hold of <paramref name="token"/> to the write hold, with
    /// the protocol of <see cref="ILeaseGrain.Wait"/>: it answers the write lease once the other
    /// readers have left, or <see langword="null"/> after the poll interval (call again with the same
    /// <paramref name="waiterId"/>). While it waits, new readers are kept out, and it goes before every
    /// other waiter (it already holds part of the lock). No <see cref="ILeaseGrain.ConfirmGrant"/> is
    /// needed: the hold is renewed with its token as before. Give up with
    /// <see cref="ILeaseGrain.StopWaiting"/>: an upgrade granted to that waiter id turns back into the
    /// upgradeable read it was (its fencing token stays the lock's highest issued). The release or
    /// expiry of the hold drops the upgrade.
    /// </summary>
    /// <param name="token">The token of the upgradeable read hold.</param>
    /// <param name="waiterId">The caller's id for this upgrade, 1 to 64 characters from <c>[A-Za-z0-9_-]</c>, the same on every call.</param>
    /// <returns>The write lease once granted, or <see langword="null"/> when the poll interval passed first (call again).</returns>
    /// <exception cref="InvalidOperationException">The token holds no upgradeable read of this lock, or the waiter left with StopWaiting.</exception>
    /// <exception cref="LockStorageException">The lock's storage failed; call again with the same waiter id.</exception>
    [Alias("WaitForUpgrade")]
    [AlwaysInterleave]
    Task<LockLease?> WaitForUpgrade(string token, string waiterId);

    /// <summary>The current holders (never their tokens) and how many wait, by kind.</summary>
    [Alias("GetInfo")]
    [ReadOnly]
    Task<ReadWriteLockInfo> GetInfo();

    /// <summary>The most readers one read/write lock holds at once; further readers are refused or wait.</summary>
    public const int MaxReaders = 1024;
}
