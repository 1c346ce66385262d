namespace OrleansLocks;

/// <summary>
/// Which kind of lock a request is for. A plain lock and a read/write lock of the same name and key
/// are different locks (as in Synapse): holding one never blocks the other.
/// </summary>
[GenerateSerializer, Alias("OrleansLocks.LockKind")]
public enum LockKind
{
    /// <summary>A plain lock (<see cref="ILockGrain"/>): one holder at a time.</summary>
    Plain = 0,

    /// <summary>A shared hold on a read/write lock (<see cref="IReadWriteLockGrain"/>): many readers at once, never with a writer.</summary>
    Read = 1,

    /// <summary>An exclusive hold on a read/write lock (<see cref="IReadWriteLockGrain"/>): no readers and no other writer.</summary>
    Write = 2,

    /// <summary>One permit of a semaphore (<see cref="ISemaphoreGrain"/>): up to its count of holders at once.</summary>
    Semaphore = 3,

    /// <summary>
    /// An upgradeable read hold on a read/write lock (<see cref="IReadWriteLockGrain"/>): shared with
    /// ordinary readers but never with a writer or another upgradeable reader, and it can be turned
    /// into the write hold (<see cref="IReadWriteLockGrain.TryUpgrade"/>) without letting go.
    /// </summary>
    UpgradeableRead = 4,
}
