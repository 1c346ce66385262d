namespace OrleansLocks.Admin;

/// <summary>
/// The operator's view of the cluster's locks: list who holds what, inspect one lock, and force a
/// stuck lock free. Get it with <c>grainFactory.GetGrain&lt;ILockAdminGrain&gt;(0)</c> (any key works;
/// every silo answers locally). It never shows a holder's token, and no answer carries one.
/// </summary>
/// <remarks>
/// <para><see cref="List"/> reads storage, so it sees locks whose activation is gone. How many wait for a
/// lock is known only to its live activation (waiters are kept in memory), so list rows carry it only
/// when asked for (<see cref="LockListQuery.IncludeWaiting"/>), and <see cref="Inspect"/> always.</para>
/// <para>A forced release tells the old holder first: the lock is freed and then kept free of new
/// grants for <c>LockAdminOptions.ForceReleaseDelay</c> (the renewal interval plus a margin), long
/// enough for the old holder's next renewal to be refused, which fires its
/// <c>HandleLostToken</c>. Only then are waiters served and new acquires granted. During that delay
/// the lock has no holder, <c>TryAcquire</c> answers <see langword="null"/> as if held, and waiters
/// keep waiting. The freeing and the delay are written durably before the answer, so a new
/// activation of the lock honours them too.</para>
/// </remarks>
[Alias("OrleansLocks.Admin.ILockAdminGrain")]
public interface ILockAdminGrain : IGrainWithIntegerKey
{
    /// <summary>One page of the held locks, one row per holder, newest grant first.</summary>
    /// <param name="query">The filters, the page size and where to continue.</param>
    /// <returns>The rows and, when more may follow, the continuation to pass in the next query.</returns>
    /// <exception cref="ArgumentException">A filter, the page size or the continuation breaks its rule (the message names it).</exception>
    /// <exception cref="LockStorageException">Storage could not be read.</exception>
    [Alias("List")]
    Task<LockListPage> List(LockListQuery query);

    /// <summary>One lock: its live holders, its waiters, its stored version and any lock-delay after a forced release.</summary>
    /// <param name="name">The lock name.</param>
    /// <param name="key">The lock key.</param>
    /// <param name="kind"><see cref="LockKind.Plain"/> for the plain lock; <see cref="LockKind.Read"/> or <see cref="LockKind.Write"/> for the read/write lock of that name and key; <see cref="LockKind.Semaphore"/> for its semaphore.</param>
    /// <exception cref="ArgumentException">The name or key breaks its rule.</exception>
    /// <exception cref="LockStorageException">Storage could not be read.</exception>
    [Alias("Inspect")]
    Task<LockDetails> Inspect(string name, string key, LockKind kind);

    /// <summary>
    /// Frees the holders of one lock, then keeps it free of new grants for the lock-delay (see the
    /// remarks of <see cref="ILockAdminGrain"/>). Logged as a warning with <paramref name="requestedBy"/>
    /// and <paramref name="reason"/>.
    /// </summary>
    /// <param name="name">The lock name.</param>
    /// <param name="key">The lock key.</param>
    /// <param name="kind">
    /// Which holders: <see cref="LockKind.Plain"/> the plain lock's holder, <see cref="LockKind.Read"/>
    /// the read/write lock's readers, <see cref="LockKind.Write"/> its writer, <see cref="LockKind.Semaphore"/>
    /// the semaphore's holders; <see langword="null"/> every holder of both locks and the semaphore of that name and key.
    /// </param>
    /// <param name="expectedFencingToken">
    /// When given, only the holder with this fencing token is freed: if the lock has moved on to another
    /// grant since the operator looked, nothing is freed (<see cref="ForceReleaseOutcome.FencingTokenMoved"/>).
    /// </param>
    /// <param name="reason">Why, for the log: required, 1 to 500 characters.</param>
    /// <param name="requestedBy">Who asked, for the log: 1 to 256 characters.</param>
    /// <returns>What was freed, or why nothing was.</returns>
    /// <exception cref="ArgumentException">An argument breaks its rule (the message names it); nothing was changed.</exception>
    /// <exception cref="LockStorageException">The release could not be written; the lock stays as it was.</exception>
    [Alias("ForceRelease")]
    Task<ForceReleaseResult> ForceRelease(string name, string key, LockKind? kind, long? expectedFencingToken, string reason, string requestedBy);

    /// <summary>
    /// Force-releases every lock <paramref name="owner"/> holds (found in storage), each as
    /// <see cref="ForceRelease"/> does: for a worker that died or hung.
    /// </summary>
    /// <param name="owner">The owner name, exactly as the locks record it.</param>
    /// <param name="reason">Why, for the log: required, 1 to 500 characters.</param>
    /// <param name="requestedBy">Who asked, for the log: 1 to 256 characters.</param>
    /// <returns>Every hold that was freed (empty when the owner held nothing).</returns>
    /// <exception cref="ArgumentException">An argument breaks its rule; nothing was changed.</exception>
    /// <exception cref="LockStorageException">Storage failed; the locks freed before the failure stay freed, the others as they were.</exception>
    [Alias("ReleaseOwner")]
    Task<ForceReleaseResult> ReleaseOwner(string owner, string reason, string requestedBy);
}
