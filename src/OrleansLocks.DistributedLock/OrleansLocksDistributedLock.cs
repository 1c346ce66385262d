using Medallion.Threading;
using OrleansLocks.Client;

namespace OrleansLocks.DistributedLock;

/// <summary>
/// A DistributedLock <see cref="IDistributedLock"/> that is the plain OrleansLock <see cref="Id"/>.
/// Not reentrant: a second acquire while this process holds it waits (or fails) like anyone else's.
/// Waiting is fair (first come, first served) and woken by the lock, not by polling.
/// </summary>
public sealed class OrleansLocksDistributedLock : IDistributedLock
{
    private readonly ILockProvider _locks;

    internal OrleansLocksDistributedLock(ILockProvider locks, string lockName, string name)
    {
        _locks = locks;
        Name = name;
        Id = LockId.Create(lockName, DistributedLockKeys.ToKey(name));
    }

    /// <summary>The DistributedLock name this lock was created with, exactly as given.</summary>
    public string Name { get; }

    /// <summary>The OrleansLock behind it: the adapter's lock name and the key <see cref="Name"/> maps to.</summary>
    public LockId Id { get; }

    /// <summary>Tries to acquire the lock, waiting for up to <paramref name="timeout"/>; blocks the calling thread.</summary>
    /// <param name="timeout">How long to wait: zero (the default) tries once, <see cref="Timeout.InfiniteTimeSpan"/> waits for ever.</param>
    /// <param name="cancellationToken">Gives up the wait (nothing stays held or queued).</param>
    /// <returns>The handle, or <see langword="null"/> when the lock stayed taken until the timeout passed.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (and not infinite) or over 49 days (the longest a timer waits).</exception>
    /// <exception cref="OperationCanceledException">The wait was cancelled.</exception>
    /// <exception cref="LockStorageException">The lock's storage failed; nothing was granted.</exception>
    public IDistributedSynchronizationHandle? TryAcquire(TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        Acquisition.Wait(TryAcquireAsync(timeout, cancellationToken));

    /// <summary>Acquires the lock, waiting for up to <paramref name="timeout"/>; blocks the calling thread.</summary>
    /// <param name="timeout">How long to wait: <see langword="null"/> (the default) or <see cref="Timeout.InfiniteTimeSpan"/> for ever, zero to try once.</param>
    /// <param name="cancellationToken">Gives up the wait (nothing stays held or queued).</param>
    /// <returns>The handle.</returns>
    /// <exception cref="TimeoutException">The timeout passed first.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (and not infinite) or over 49 days (the longest a timer waits).</exception>
    /// <exception cref="OperationCanceledException">The wait was cancelled.</exception>
    public IDistributedSynchronizationHandle Acquire(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Acquisition.Wait(AcquireAsync(timeout, cancellationToken));

    /// <summary>Tries to acquire the lock, waiting for up to <paramref name="timeout"/>.</summary>
    /// <inheritdoc cref="TryAcquire" path="/param"/>
    /// <inheritdoc cref="TryAcquire" path="/returns"/>
    /// <inheritdoc cref="TryAcquire" path="/exception"/>
    public ValueTask<IDistributedSynchronizationHandle?> TryAcquireAsync(TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        Acquisition.TryAsync(
            Acquisition.CheckTimeout(timeout),
            ct => _locks.TryAcquireAsync(Id.Name, Id.Key, ct),
            (wait, ct) => _locks.AcquireAsync(Id.Name, Id.Key, wait, ct),
            cancellationToken);

    /// <summary>Acquires the lock, waiting for up to <paramref name="timeout"/>.</summary>
    /// <inheritdoc cref="Acquire" path="/param"/>
    /// <inheritdoc cref="Acquire" path="/returns"/>
    /// <inheritdoc cref="Acquire" path="/exception"/>
    public ValueTask<IDistributedSynchronizationHandle> AcquireAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Acquisition.AcquireAsync(
            Acquisition.CheckTimeout(timeout),
            (wait, ct) => _locks.AcquireAsync(Id.Name, Id.Key, wait, ct),
            cancellationToken);

    /// <inheritdoc/>
    public override string ToString() => $"OrleansLocksDistributedLock {{ Name = {Name}, Id = {Id} }}";
}
