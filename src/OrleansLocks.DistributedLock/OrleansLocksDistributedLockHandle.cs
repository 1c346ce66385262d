using Medallion.Threading;
using OrleansLocks.Client;

namespace OrleansLocks.DistributedLock;

/// <summary>
/// The handle the DistributedLock adapter returns (typed as <see cref="IDistributedSynchronizationHandle"/>):
/// a held OrleansLock. Dispose releases it; disposing twice is harmless. Cast to this type, or call
/// <see cref="DistributedSynchronizationHandleExtensions.GetFencingToken"/>, to reach the fencing
/// token and <see cref="IsStillValidAsync"/>.
/// </summary>
/// <example>
/// <code>
/// await using var handle = await provider.AcquireLockAsync("reports/daily", cancellationToken: ct);
/// await SaveAsync(report, handle.GetFencingToken(), handle.HandleLostToken);
/// </code>
/// </example>
public sealed class OrleansLocksDistributedLockHandle : IDistributedSynchronizationHandle
{
    private readonly LockHandle _handle;
    private int _disposed;

    internal OrleansLocksDistributedLockHandle(LockHandle handle)
    {
        _handle = handle;
    }

    /// <summary>
    /// The OrleansLocks handle underneath, e.g. for <c>handle.LockHandle.FenceAsync(connection, transaction)</c>
    /// of OrleansLocks.Fencing.Postgres. Releasing it releases this handle's lock.
    /// </summary>
    public LockHandle LockHandle => _handle;

    /// <summary>Which OrleansLock this is: the adapter's lock name and the key the DistributedLock name maps to.</summary>
    public LockId Id => _handle.Id;

    /// <summary>
    /// The fencing token of this grant: larger than that of every earlier grant of the same lock. Pass
    /// it with writes to a guarded resource so it can refuse writes from an older holder.
    /// </summary>
    public long FencingToken => _handle.FencingToken;

    /// <summary>
    /// Cancelled when the lease may be lost (a renewal answered "lost", or none succeeded before the
    /// lease would have run out); never cancelled by disposing. It can always be cancelled
    /// (<see cref="CancellationToken.CanBeCanceled"/> is true) and costs nothing extra: the handle
    /// renews its lease anyway.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The handle was disposed, as DistributedLock defines it.</exception>
    public CancellationToken HandleLostToken
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return _handle.HandleLostToken;
        }
    }

    /// <summary>Whether <see cref="Dispose"/> or <see cref="DisposeAsync"/> was called.</summary>
    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Asks the lock whether this handle still holds it, right now (false once disposed).</summary>
    /// <exception cref="LockStorageException">The lock's storage could not answer.</exception>
    public ValueTask<bool> IsStillValidAsync(CancellationToken cancellationToken = default) =>
        _handle.IsStillValidAsync(cancellationToken);

    /// <summary>Releases the lock, blocking until the release is stored. Idempotent; a failed release is logged, not thrown (the lease then expires).</summary>
    public void Dispose() => ReleaseAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Releases the lock. Idempotent; a failed release is logged, not thrown (the lease then expires).</summary>
    public ValueTask DisposeAsync() => ReleaseAsync();

    /// <inheritdoc/>
    public override string ToString() => $"OrleansLocksDistributedLockHandle {{ Id = {Id}, FencingToken = {FencingToken} }}";

    private ValueTask ReleaseAsync() =>
        Interlocked.Exchange(ref _disposed, 1) == 0 ? _handle.DisposeAsync() : ValueTask.CompletedTask;
}
