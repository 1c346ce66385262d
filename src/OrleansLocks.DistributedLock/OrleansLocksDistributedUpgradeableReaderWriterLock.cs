using Medallion.Threading;
using OrleansLocks.Client;

namespace OrleansLocks.DistributedLock;

/// <summary>
/// A DistributedLock <see cref="IDistributedUpgradeableReaderWriterLock"/> that is the OrleansLocks
/// read/write lock <see cref="Id"/>, the same lock as <c>CreateReaderWriterLock</c> of the same name:
/// many readers, beside them at most one upgradeable reader, or one writer. The upgradeable reader may
/// upgrade to the writer; the upgrade waits for the other readers to leave and keeps new ones out.
/// Not reentrant.
/// </summary>
public sealed class OrleansLocksDistributedUpgradeableReaderWriterLock : IDistributedUpgradeableReaderWriterLock
{
    private readonly ILockProvider _locks;
    private readonly OrleansLocksDistributedReaderWriterLock _plain;

    internal OrleansLocksDistributedUpgradeableReaderWriterLock(ILockProvider locks, string lockName, string name)
    {
        _locks = locks;
        _plain = new OrleansLocksDistributedReaderWriterLock(locks, lockName, name);
    }

    /// <summary>The DistributedLock name this lock was created with, exactly as given.</summary>
    public string Name => _plain.Name;

    /// <summary>The OrleansLock behind it: the adapter's read/write lock name and the key <see cref="Name"/> maps to.</summary>
    public LockId Id => _plain.Id;

    /// <summary>Tries to take the upgradeable read hold, waiting for up to <paramref name="timeout"/>; blocks the calling thread.</summary>
    /// <inheritdoc cref="OrleansLocksDistributedLock.TryAcquire" path="/param"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.TryAcquire" path="/returns"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.TryAcquire" path="/exception"/>
    public IDistributedLockUpgradeableHandle? TryAcquireUpgradeableReadLock(TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        Acquisition.Wait(TryAcquireUpgradeableReadLockAsync(timeout, cancellationToken));

    /// <summary>Takes the upgradeable read hold, waiting for up to <paramref name="timeout"/>; blocks the calling thread.</summary>
    /// <inheritdoc cref="OrleansLocksDistributedLock.Acquire" path="/param"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.Acquire" path="/returns"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.Acquire" path="/exception"/>
    public IDistributedLockUpgradeableHandle AcquireUpgradeableReadLock(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Acquisition.Wait(AcquireUpgradeableReadLockAsync(timeout, cancellationToken));

    /// <summary>Tries to take the upgradeable read hold, waiting for up to <paramref name="timeout"/>.</summary>
    /// <inheritdoc cref="OrleansLocksDistributedLock.TryAcquire" path="/param"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.TryAcquire" path="/returns"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.TryAcquire" path="/exception"/>
    public ValueTask<IDistributedLockUpgradeableHandle?> TryAcquireUpgradeableReadLockAsync(TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        Acquisition.TryAsync<IDistributedLockUpgradeableHandle>(
            Acquisition.CheckTimeout(timeout),
            ct => _locks.TryAcquireUpgradeableReadAsync(Id.Name, Id.Key, ct),
            (wait, ct) => _locks.AcquireUpgradeableReadAsync(Id.Name, Id.Key, wait, ct),
            h => new OrleansLocksDistributedLockUpgradeableHandle(h),
            cancellationToken);

    /// <summary>Takes the upgradeable read hold, waiting for up to <paramref name="timeout"/>.</summary>
    /// <inheritdoc cref="OrleansLocksDistributedLock.Acquire" path="/param"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.Acquire" path="/returns"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.Acquire" path="/exception"/>
    public ValueTask<IDistributedLockUpgradeableHandle> AcquireUpgradeableReadLockAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Acquisition.AcquireAsync<IDistributedLockUpgradeableHandle>(
            Acquisition.CheckTimeout(timeout),
            (wait, ct) => _locks.AcquireUpgradeableReadAsync(Id.Name, Id.Key, wait, ct),
            h => new OrleansLocksDistributedLockUpgradeableHandle(h),
            cancellationToken);

    /// <inheritdoc cref="OrleansLocksDistributedReaderWriterLock.TryAcquireReadLock"/>
    public IDistributedSynchronizationHandle? TryAcquireReadLock(TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        _plain.TryAcquireReadLock(timeout, cancellationToken);

    /// <inheritdoc cref="OrleansLocksDistributedReaderWriterLock.AcquireReadLock"/>
    public IDistributedSynchronizationHandle AcquireReadLock(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        _plain.AcquireReadLock(timeout, cancellationToken);

    /// <inheritdoc cref="OrleansLocksDistributedReaderWriterLock.TryAcquireReadLockAsync"/>
    public ValueTask<IDistributedSynchronizationHandle?> TryAcquireReadLockAsync(TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        _plain.TryAcquireReadLockAsync(timeout, cancellationToken);

    /// <inheritdoc cref="OrleansLocksDistributedReaderWriterLock.AcquireReadLockAsync"/>
    public ValueTask<IDistributedSynchronizationHandle> AcquireReadLockAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        _plain.AcquireReadLockAsync(timeout, cancellationToken);

    /// <inheritdoc cref="OrleansLocksDistributedReaderWriterLock.TryAcquireWriteLock"/>
    public IDistributedSynchronizationHandle? TryAcquireWriteLock(TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        _plain.TryAcquireWriteLock(timeout, cancellationToken);

    /// <inheritdoc cref="OrleansLocksDistributedReaderWriterLock.AcquireWriteLock"/>
    public IDistributedSynchronizationHandle AcquireWriteLock(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        _plain.AcquireWriteLock(timeout, cancellationToken);

    /// <inheritdoc cref="OrleansLocksDistributedReaderWriterLock.TryAcquireWriteLockAsync"/>
    public ValueTask<IDistributedSynchronizationHandle?> TryAcquireWriteLockAsync(TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        _plain.TryAcquireWriteLockAsync(timeout, cancellationToken);

    /// <inheritdoc cref="OrleansLocksDistributedReaderWriterLock.AcquireWriteLockAsync"/>
    public ValueTask<IDistributedSynchronizationHandle> AcquireWriteLockAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        _plain.AcquireWriteLockAsync(timeout, cancellationToken);

    /// <inheritdoc/>
    public override string ToString() => $"OrleansLocksDistributedUpgradeableReaderWriterLock {{ Name = {Name}, Id = {Id} }}";
}
