using Medallion.Threading;
using OrleansLocks.Client;

namespace OrleansLocks.DistributedLock;

/// <summary>
/// The handle of an upgradeable read hold the DistributedLock adapter returns (typed as
/// <see cref="IDistributedLockUpgradeableHandle"/>). It can be upgraded to the write hold once; dispose
/// releases whatever it holds then (the upgradeable read, or the write after an upgrade).
/// </summary>
/// <example>
/// <code>
/// await using var handle = await rwLock.AcquireUpgradeableReadLockAsync(cancellationToken: ct);
/// if (await NeedsRefreshAsync()) { await handle.UpgradeToWriteLockAsync(cancellationToken: ct); await RefreshAsync(handle.GetFencingToken()); }
/// </code>
/// </example>
public sealed class OrleansLocksDistributedLockUpgradeableHandle : IDistributedLockUpgradeableHandle
{
    private readonly OrleansLocksDistributedLockHandle _inner;

    internal OrleansLocksDistributedLockUpgradeableHandle(LockHandle handle)
    {
        _inner = new OrleansLocksDistributedLockHandle(handle);
    }

    /// <summary>The OrleansLocks handle underneath (its kind is the upgradeable read, then the write after an upgrade).</summary>
    public LockHandle LockHandle => _inner.LockHandle;

    /// <summary>Which OrleansLock this is: the adapter's read/write lock name and the key the DistributedLock name maps to.</summary>
    public LockId Id => _inner.Id;

    /// <summary>The fencing token of the current hold: after an upgrade, the new and larger token of the write hold.</summary>
    public long FencingToken => _inner.FencingToken;

    /// <inheritdoc cref="OrleansLocksDistributedLockHandle.HandleLostToken"/>
    public CancellationToken HandleLostToken => _inner.HandleLostToken;

    internal OrleansLocksDistributedLockHandle Inner => _inner;

    /// <inheritdoc cref="OrleansLocksDistributedLockHandle.IsStillValidAsync"/>
    public ValueTask<bool> IsStillValidAsync(CancellationToken cancellationToken = default) =>
        _inner.IsStillValidAsync(cancellationToken);

    /// <summary>Upgrades to the write hold, waiting for up to <paramref name="timeout"/> for the other readers to leave; blocks the calling thread.</summary>
    /// <param name="timeout">How long to wait: zero (the default) tries once, <see cref="Timeout.InfiniteTimeSpan"/> waits for ever.</param>
    /// <param name="cancellationToken">Gives up the upgrade; the hold stays the upgradeable read.</param>
    /// <returns><see langword="true"/> when upgraded; <see langword="false"/> when the timeout passed first (the hold is still the upgradeable read).</returns>
    /// <exception cref="ObjectDisposedException">The handle was disposed.</exception>
    /// <exception cref="InvalidOperationException">The handle was upgraded already, or its hold was lost.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (and not infinite) or over 49 days (the longest a timer waits).</exception>
    /// <exception cref="OperationCanceledException">The upgrade was cancelled.</exception>
    /// <exception cref="LockStorageException">The lock's storage failed.</exception>
    public bool TryUpgradeToWriteLock(TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        Acquisition.Wait(TryUpgradeToWriteLockAsync(timeout, cancellationToken));

    /// <summary>Upgrades to the write hold, waiting for up to <paramref name="timeout"/> for the other readers to leave.</summary>
    /// <inheritdoc cref="TryUpgradeToWriteLock" path="/param"/>
    /// <inheritdoc cref="TryUpgradeToWriteLock" path="/returns"/>
    /// <inheritdoc cref="TryUpgradeToWriteLock" path="/exception"/>
    public ValueTask<bool> TryUpgradeToWriteLockAsync(TimeSpan timeout = default, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_inner.IsDisposed, this);
        return _inner.LockHandle.TryUpgradeToWriteAsync(timeout, cancellationToken);
    }

    /// <summary>Upgrades to the write hold, waiting for up to <paramref name="timeout"/> for the other readers to leave; blocks the calling thread.</summary>
    /// <param name="timeout">How long to wait: <see langword="null"/> (the default) or <see cref="Timeout.InfiniteTimeSpan"/> for ever, zero to try once.</param>
    /// <param name="cancellationToken">Gives up the upgrade; the hold stays the upgradeable read.</param>
    /// <exception cref="TimeoutException">The timeout passed first; the hold is still the upgradeable read.</exception>
    /// <exception cref="ObjectDisposedException">The handle was disposed.</exception>
    /// <exception cref="InvalidOperationException">The handle was upgraded already, or its hold was lost.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (and not infinite) or over 49 days (the longest a timer waits).</exception>
    /// <exception cref="OperationCanceledException">The upgrade was cancelled.</exception>
    /// <exception cref="LockStorageException">The lock's storage failed.</exception>
    public void UpgradeToWriteLock(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Acquisition.Wait(UpgradeToWriteLockAsync(timeout, cancellationToken));

    /// <summary>Upgrades to the write hold, waiting for up to <paramref name="timeout"/> for the other readers to leave.</summary>
    /// <inheritdoc cref="UpgradeToWriteLock" path="/param"/>
    /// <inheritdoc cref="UpgradeToWriteLock" path="/exception"/>
    public ValueTask UpgradeToWriteLockAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_inner.IsDisposed, this);
        return _inner.LockHandle.UpgradeToWriteAsync(timeout, cancellationToken);
    }

    /// <summary>Releases what the handle holds, blocking until the release is stored. Idempotent; a failed release is logged, not thrown (the lease then expires).</summary>
    public void Dispose() => _inner.Dispose();

    /// <summary>Releases what the handle holds. Idempotent; a failed release is logged, not thrown (the lease then expires).</summary>
    public ValueTask DisposeAsync() => _inner.DisposeAsync();

    /// <inheritdoc/>
    public override string ToString() => $"OrleansLocksDistributedLockUpgradeableHandle {{ Id = {Id}, Kind = {LockHandle.Kind}, FencingToken = {FencingToken} }}";
}
