using Medallion.Threading;

namespace OrleansLocks.DistributedLock;

/// <summary>
/// Reaches what an OrleansLocks handle adds to DistributedLock's from code that holds it as an
/// <see cref="IDistributedSynchronizationHandle"/>: <c>handle.GetFencingToken()</c>,
/// <c>handle.IsStillValidAsync()</c>.
/// </summary>
public static class DistributedSynchronizationHandleExtensions
{
    /// <summary>The fencing token of the grant behind <paramref name="handle"/> (for an upgradeable handle, of its current hold: a new one after the upgrade) (see <see cref="OrleansLocksDistributedLockHandle.FencingToken"/>).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="handle"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was not made by <see cref="OrleansLocksDistributedLockProvider"/> (a composite handle from the multi-lock helpers has no single token).</exception>
    public static long GetFencingToken(this IDistributedSynchronizationHandle handle) => Ours(handle).FencingToken;

    /// <summary>Asks the lock whether <paramref name="handle"/> still holds it, right now.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="handle"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was not made by <see cref="OrleansLocksDistributedLockProvider"/>.</exception>
    public static ValueTask<bool> IsStillValidAsync(this IDistributedSynchronizationHandle handle, CancellationToken cancellationToken = default) =>
        Ours(handle).IsStillValidAsync(cancellationToken);

    private static OrleansLocksDistributedLockHandle Ours(IDistributedSynchronizationHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return handle switch
        {
            OrleansLocksDistributedLockHandle ours => ours,
            OrleansLocksDistributedLockUpgradeableHandle upgradeable => upgradeable.Inner,
            _ => throw new ArgumentException($"Only a handle made by OrleansLocksDistributedLockProvider has a fencing token; this one is a {handle.GetType().Name}.", nameof(handle)),
        };
    }
}
