namespace OrleansLocks.Grains.Locking;

/// <summary>
/// One caller waiting in a lock's line (in memory only: after the activation moves, waiters join the
/// new activation's line as their next call arrives). Times are the silo clock in milliseconds.
/// </summary>
internal sealed class Waiter(string id, LockKind kind, string owner)
{
    public string Id { get; } = id;

    public LockKind Kind { get; } = kind;

    public string Owner { get; } = owner;

    /// <summary>
    /// For a waiting upgrade (<see cref="IReadWriteLockGrain.WaitForUpgrade"/>): the token of the
    /// upgradeable read hold it upgrades (a secret: never logged); null for every other waiter.
    /// </summary>
    public string? UpgradeToken { get; init; }

    /// <summary>When it joined this activation's line (for operators: <c>ILockAdminGrain.Inspect</c>).</summary>
    public long JoinedAt { get; set; }

    /// <summary>Its place in the line; null once granted.</summary>
    public LinkedListNode<Waiter>? Node { get; set; }

    /// <summary>The open <see cref="ILeaseGrain.Wait"/> call, if any.</summary>
    public TaskCompletionSource<LockLease?>? Call { get; set; }

    /// <summary>When its last call ended (it is presumed dead <see cref="LockWaitOptions.WaiterTimeout"/> later).</summary>
    public long LastSeenAt { get; set; }

    /// <summary>The lease granted to it, until it confirms it.</summary>
    public LockLease? Grant { get; set; }

    /// <summary>When an unconfirmed grant is taken back.</summary>
    public long ConfirmBy { get; set; }

    /// <summary>Answers the open call, if any.</summary>
    public void Answer(LockLease? lease)
    {
        Call?.TrySetResult(lease);
        Call = null;
    }
}
