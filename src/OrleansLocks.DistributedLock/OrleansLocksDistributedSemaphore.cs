using Medallion.Threading;
using OrleansLocks.Client;

namespace OrleansLocks.DistributedLock;

/// <summary>
/// A DistributedLock <see cref="IDistributedSemaphore"/> that is the OrleansLocks semaphore
/// <see cref="Id"/>: up to <see cref="MaxCount"/> holders at once (and never more than
/// <see cref="ISemaphoreGrain.MaxHolders"/>), each with its own lease and fencing token. Waiting is
/// fair (first come, first served) and woken by the semaphore, not by polling.
/// </summary>
/// <remarks>
/// The first holder or waiter sets the count; while anyone holds or waits, acquiring the same name with
/// another count is refused with an <see cref="ArgumentException"/> naming both counts.
/// </remarks>
public sealed class OrleansLocksDistributedSemaphore : IDistributedSemaphore
{
    private readonly ILockProvider _locks;

    internal OrleansLocksDistributedSemaphore(ILockProvider locks, string lockName, string name, int maxCount)
    {
        if (maxCount < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxCount), maxCount, "A semaphore's maxCount (how many may hold it at once) must be 1 or more.");
        }

        _locks = locks;
        Name = name;
        MaxCount = maxCount;
        Id = LockId.Create(lockName, DistributedLockKeys.ToKey(name));
    }

    /// <summary>The DistributedLock name this semaphore was created with, exactly as given.</summary>
    public string Name { get; }

    /// <summary>How many may hold this semaphore at once, as given to <c>CreateSemaphore</c>.</summary>
    public int MaxCount { get; }

    /// <summary>The OrleansLocks semaphore behind it: the adapter's semaphore name and the key <see cref="Name"/> maps to.</summary>
    public LockId Id { get; }

    /// <summary>Tries to take a permit, waiting for up to <paramref name="timeout"/>; blocks the calling thread.</summary>
    /// <param name="timeout">How long to wait: zero (the default) tries once, <see cref="Timeout.InfiniteTimeSpan"/> waits for ever.</param>
    /// <param name="cancellationToken">Gives up the wait (nothing stays held or queued).</param>
    /// <returns>The handle, or <see langword="null"/> when every permit stayed taken until the timeout passed.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (and not infinite) or over 49 days (the longest a timer waits).</exception>
    /// <exception cref="ArgumentException">Someone holds or waits for this semaphore with another count.</exception>
    /// <exception cref="OperationCanceledException">The wait was cancelled.</exception>
    /// <exception cref="LockStorageException">The semaphore's storage failed; nothing was granted.</exception>
    public IDistributedSynchronizationHandle? TryAcquire(TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        Acquisition.Wait(TryAcquireAsync(timeout, cancellationToken));

    /// <summary>Takes a permit, waiting for up to <paramref name="timeout"/>; blocks the calling thread.</summary>
    /// <param name="timeout">How long to wait: <see langword="null"/> (the default) or <see cref="Timeout.InfiniteTimeSpan"/> for ever, zero to try once.</param>
    /// <param name="cancellationToken">Gives up the wait (nothing stays held or queued).</param>
    /// <returns>The handle.</returns>
    /// <exception cref="TimeoutException">The timeout passed first.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (and not infinite) or over 49 days (the longest a timer waits).</exception>
    /// <exception cref="ArgumentException">Someone holds or waits for this semaphore with another count.</exception>
    /// <exception cref="OperationCanceledException">The wait was cancelled.</exception>
    public IDistributedSynchronizationHandle Acquire(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Acquisition.Wait(AcquireAsync(timeout, cancellationToken));

    /// <summary>Tries to take a permit, waiting for up to <paramref name="timeout"/>.</summary>
    /// <inheritdoc cref="TryAcquire" path="/param"/>
    /// <inheritdoc cref="TryAcquire" path="/returns"/>
    /// <inheritdoc cref="TryAcquire" path="/exception"/>
    public ValueTask<IDistributedSynchronizationHandle?> TryAcquireAsync(TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        Acquisition.TryAsync(
            Acquisition.CheckTimeout(timeout),
            ct => _locks.TryAcquireSemaphoreAsync(Id.Name, Id.Key, MaxCount, ct),
            (wait, ct) => _locks.AcquireSemaphoreAsync(Id.Name, Id.Key, MaxCount, wait, ct),
            cancellationToken);

    /// <summary>Takes a permit, waiting for up to <paramref name="timeout"/>.</summary>
    /// <inheritdoc cref="Acquire" path="/param"/>
    /// <inheritdoc cref="Acquire" path="/returns"/>
    /// <inheritdoc cref="Acquire" path="/exception"/>
    public ValueTask<IDistributedSynchronizationHandle> AcquireAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Acquisition.AcquireAsync(
            Acquisition.CheckTimeout(timeout),
            (wait, ct) => _locks.AcquireSemaphoreAsync(Id.Name, Id.Key, MaxCount, wait, ct),
            cancellationToken);

    /// <inheritdoc/>
    public override string ToString() => $"OrleansLocksDistributedSemaphore {{ Name = {Name}, MaxCount = {MaxCount}, Id = {Id} }}";
}
