using Medallion.Threading;
using OrleansLocks.Client;

namespace OrleansLocks.DistributedLock;

/// <summary>
/// DistributedLock's acquire rules over <see cref="ILockProvider"/>: the timeout is checked by the
/// call itself (with <see cref="ILockProvider"/>'s rule), a try with a timeout answers
/// <see langword="null"/> when the timeout passes, and the sync forms block on the async ones.
/// </summary>
internal static class Acquisition
{
    /// <summary>Checks a try form's timeout; <see cref="Timeout.InfiniteTimeSpan"/> waits for ever, zero tries once.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (and not infinite) or over 49 days.</exception>
    public static TimeSpan CheckTimeout(TimeSpan timeout) => LockProvider.ValidateTimeout(timeout);

    /// <summary>Checks a waiting form's timeout; <see langword="null"/> waits for ever.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (and not infinite) or over 49 days.</exception>
    public static TimeSpan CheckTimeout(TimeSpan? timeout) => LockProvider.ValidateTimeout(timeout);

    /// <summary>
    /// Tries once when <paramref name="wait"/> is zero, else waits in the lock's line for up to
    /// <paramref name="wait"/>; <see langword="null"/> when the lock stayed taken. A timeout that
    /// passed while the lock's storage kept failing is not "taken": that
    /// <see cref="TimeoutException"/> (with the fault inside) is thrown.
    /// </summary>
    public static ValueTask<IDistributedSynchronizationHandle?> TryAsync(
        TimeSpan wait,
        Func<CancellationToken, ValueTask<LockHandle?>> tryOnce,
        Func<TimeSpan, CancellationToken, ValueTask<LockHandle>> waitFor,
        CancellationToken cancellationToken) =>
        TryAsync<IDistributedSynchronizationHandle>(wait, tryOnce, waitFor, h => new OrleansLocksDistributedLockHandle(h), cancellationToken);

    /// <summary>
    /// <see cref="TryAsync(TimeSpan, Func{CancellationToken, ValueTask{LockHandle}}, Func{TimeSpan, CancellationToken, ValueTask{LockHandle}}, CancellationToken)"/>
    /// with the handle type of the caller's choosing (an upgradeable handle, say).
    /// </summary>
    public static async ValueTask<THandle?> TryAsync<THandle>(
        TimeSpan wait,
        Func<CancellationToken, ValueTask<LockHandle?>> tryOnce,
        Func<TimeSpan, CancellationToken, ValueTask<LockHandle>> waitFor,
        Func<LockHandle, THandle> wrap,
        CancellationToken cancellationToken)
        where THandle : class
    {
        // Inside the task, as DistributedLock's async forms do: an already cancelled token gives a
        // cancelled task, not an exception from the call.
        cancellationToken.ThrowIfCancellationRequested();
        if (wait == TimeSpan.Zero)
        {
            var once = await tryOnce(cancellationToken).ConfigureAwait(false);
            return once is null ? null : wrap(once);
        }

        try
        {
            return wrap(await waitFor(wait, cancellationToken).ConfigureAwait(false));
        }
        catch (TimeoutException ex) when (ex.InnerException is null)
        {
            return null;
        }
    }

    /// <summary>Waits in the lock's line for up to <paramref name="wait"/>; <see cref="TimeoutException"/> when it passes.</summary>
    public static ValueTask<IDistributedSynchronizationHandle> AcquireAsync(
        TimeSpan wait,
        Func<TimeSpan, CancellationToken, ValueTask<LockHandle>> waitFor,
        CancellationToken cancellationToken) =>
        AcquireAsync<IDistributedSynchronizationHandle>(wait, waitFor, h => new OrleansLocksDistributedLockHandle(h), cancellationToken);

    /// <summary>
    /// <see cref="AcquireAsync(TimeSpan, Func{TimeSpan, CancellationToken, ValueTask{LockHandle}}, CancellationToken)"/>
    /// with the handle type of the caller's choosing (an upgradeable handle, say).
    /// </summary>
    public static async ValueTask<THandle> AcquireAsync<THandle>(
        TimeSpan wait,
        Func<TimeSpan, CancellationToken, ValueTask<LockHandle>> waitFor,
        Func<LockHandle, THandle> wrap,
        CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return wrap(await waitFor(wait, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Blocks on <paramref name="pending"/>, as DistributedLock's own sync forms do. The client library
    /// never resumes on the caller's synchronization context, so this cannot deadlock on it.
    /// </summary>
    public static T Wait<T>(ValueTask<T> pending) =>
        pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();

    /// <summary>Blocks on <paramref name="pending"/> (see <see cref="Wait{T}(ValueTask{T})"/>).</summary>
    public static void Wait(ValueTask pending)
    {
        if (!pending.IsCompletedSuccessfully)
        {
            pending.AsTask().GetAwaiter().GetResult();
        }
    }
}
