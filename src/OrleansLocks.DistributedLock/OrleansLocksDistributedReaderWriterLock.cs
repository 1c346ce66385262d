using Medallion.Threading;
using OrleansLocks.Client;

namespace OrleansLocks.DistributedLock;

/// <summary>
/// A DistributedLock <see cref="IDistributedReaderWriterLock"/> that is the OrleansLocks read/write
/// lock <see cref="Id"/>: many readers or one writer; a waiting writer keeps new readers out, so
/// writers are not starved. Not reentrant.
/// </summary>
public sealed class OrleansLocksDistributedReaderWriterLock : IDistributedReaderWriterLock
{
    private readonly ILockProvider _locks;

    internal OrleansLocksDistributedReaderWriterLock(ILockProvider locks, string lockName, string name)
    {
        _locks = locks;
        Name = name;
        Id = LockId.Create(lockName, DistributedLockKeys.ToKey(name));
    }

    /// <summary>The DistributedLock name this lock was created with, exactly as given.</summary>
    public string Name { get; }

    /// <summary>The OrleansLock behind it: the adapter's read/write lock name and the key <see cref="Name"/> maps to.</summary>
    public LockId Id { get; }

    /// <summary>Tries to take a read hold, waiting for up to <paramref name="timeout"/>; blocks the calling thread.</summary>
    /// <inheritdoc cref="OrleansLocksDistributedLock.TryAcquire" path="/param"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.TryAcquire" path="/returns"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.TryAcquire" path="/exception"/>
    public IDistributedSynchronizationHandle? TryAcquireReadLock(TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        Acquisition.Wait(TryAcquireReadLockAsync(timeout, cancellationToken));

    /// <summary>Takes a read hold, waiting for up to <paramref name="timeout"/>; blocks the calling thread.</summary>
    /// <inheritdoc cref="OrleansLocksDistributedLock.Acquire" path="/param"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.Acquire" path="/returns"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.Acquire" path="/exception"/>
    public IDistributedSynchronizationHandle AcquireReadLock(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Acquisition.Wait(AcquireReadLockAsync(timeout, cancellationToken));

    /// <summary>Tries to take a read hold, waiting for up to <paramref name="timeout"/>.</summary>
    /// <inheritdoc cref="OrleansLocksDistributedLock.TryAcquire" path="/param"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.TryAcquire" path="/returns"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.TryAcquire" path="/exception"/>
    public ValueTask<IDistributedSynchronizationHandle?> TryAcquireReadLockAsync(TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        Acquisition.TryAsync(
            Acquisition.CheckTimeout(timeout),
            ct => _locks.TryAcquireReadAsync(Id.Name, Id.Key, ct),
            (wait, ct) => _locks.AcquireReadAsync(Id.Name, Id.Key, wait, ct),
            cancellationToken);

    /// <summary>Takes a read hold, waiting for up to <paramref name="timeout"/>.</summary>
    /// <inheritdoc cref="OrleansLocksDistributedLock.Acquire" path="/param"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.Acquire" path="/returns"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.Acquire" path="/exception"/>
    public ValueTask<IDistributedSynchronizationHandle> AcquireReadLockAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Acquisition.AcquireAsync(
            Acquisition.CheckTimeout(timeout),
            (wait, ct) => _locks.AcquireReadAsync(Id.Name, Id.Key, wait, ct),
            cancellationToken);

    /// <summary>Tries to take the write hold, waiting for up to <paramref name="timeout"/>; blocks the calling thread.</summary>
    /// <inheritdoc cref="OrleansLocksDistributedLock.TryAcquire" path="/param"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.TryAcquire" path="/returns"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.TryAcquire" path="/exception"/>
    public IDistributedSynchronizationHandle? TryAcquireWriteLock(TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        Acquisition.Wait(TryAcquireWriteLockAsync(timeout, cancellationToken));

    /// <summary>Takes the write hold, waiting for up to <paramref name="timeout"/>; blocks the calling thread.</summary>
    /// <inheritdoc cref="OrleansLocksDistributedLock.Acquire" path="/param"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.Acquire" path="/returns"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.Acquire" path="/exception"/>
    public IDistributedSynchronizationHandle AcquireWriteLock(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Acquisition.Wait(AcquireWriteLockAsync(timeout, cancellationToken));

    /// <summary>Tries to take the write hold, waiting for up to <paramref name="timeout"/>.</summary>
    /// <inheritdoc cref="OrleansLocksDistributedLock.TryAcquire" path="/param"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.TryAcquire" path="/returns"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.TryAcquire" path="/exception"/>
    public ValueTask<IDistributedSynchronizationHandle?> TryAcquireWriteLockAsync(TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        Acquisition.TryAsync(
            Acquisition.CheckTimeout(timeout),
            ct => _locks.TryAcquireWriteAsync(Id.Name, Id.Key, ct),
            (wait, ct) => _locks.AcquireWriteAsync(Id.Name, Id.Key, wait, ct),
            cancellationToken);

    /// <summary>Takes the write hold, waiting for up to <paramref name="timeout"/>.</summary>
    /// <inheritdoc cref="OrleansLocksDistributedLock.Acquire" path="/param"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.Acquire" path="/returns"/>
    /// <inheritdoc cref="OrleansLocksDistributedLock.Acquire" path="/exception"/>
    public ValueTask<IDistributedSynchronizationHandle> AcquireWriteLockAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Acquisition.AcquireAsync(
            Acquisition.CheckTimeout(timeout),
            (wait, ct) => _locks.AcquireWriteAsync(Id.Name, Id.Key, wait, ct),
            cancellationToken);

    /// <inheritdoc/>
    public override string ToString() => $"OrleansLocksDistributedReaderWriterLock {{ Name = {Name}, Id = {Id} }}";
}
