namespace OrleansLocks.Client;

/// <summary>
/// A held lock. It renews itself until released; <see cref="HandleLostToken"/> tells you when it may
/// no longer be held. Dispose (or <see cref="ReleaseAsync"/>) releases it; both are idempotent.
/// </summary>
/// <example>
/// <code>
/// await using var handle = await locks.TryAcquireAsync("purge_room", roomId, ct);
/// if (handle is null) return; // someone else is purging this room
/// await PurgeAsync(roomId, handle.FencingToken, handle.HandleLostToken);
/// </code>
/// </example>
public sealed class LockHandle : IAsyncDisposable
{
    private readonly IHeldLease _keeper;

    internal LockHandle(IHeldLease keeper)
    {
        _keeper = keeper;
    }

    /// <summary>Releases nothing (the lease just expires) but says, as an error, that the handle was dropped.</summary>
    ~LockHandle()
    {
        _keeper.Abandon();
    }

    /// <summary>Which lock this is.</summary>
    public LockId Id => _keeper.Id;

    /// <summary>Which kind of hold this is: a plain lock, a read, write or upgradeable read hold on a read/write lock (<see cref="LockKind.Write"/> once upgraded), or a semaphore's permit.</summary>
    public LockKind Kind => _keeper.Kind;

    /// <summary>Who holds it: this process's owner name.</summary>
    public string Owner => _keeper.Lease.Owner;

    /// <summary>
    /// The fencing token of this grant: larger than that of every earlier grant of the same lock.
    /// Pass it with writes to a guarded resource so it can refuse writes from an older holder.
    /// </summary>
    public long FencingToken => _keeper.Lease.FencingToken;

    /// <summary>When this grant was made (silo clock).</summary>
    public DateTimeOffset AcquiredAt => _keeper.Lease.AcquiredAt;

    /// <summary>When the lease ends unless renewed (silo clock), as of the latest successful renewal.</summary>
    public DateTimeOffset ExpiresAt => _keeper.Lease.ExpiresAt;

    /// <summary>
    /// Cancelled as soon as this process knows or must assume the lease is gone: a renewal answered
    /// "lost", or no renewal succeeded before the lease would have run out (measured on this
    /// process's clock from when the request was sent, so network delay only makes it earlier).
    /// Releasing or disposing does not cancel it.
    /// </summary>
    public CancellationToken HandleLostToken => _keeper.LostToken;

    /// <summary>Asks the lock whether this handle still holds it, right now.</summary>
    public async ValueTask<bool> IsStillValidAsync(CancellationToken cancellationToken = default) =>
        await _keeper.IsStillValidAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Turns this upgradeable read hold into the write hold, waiting up to <paramref name="timeout"/>
    /// for the other readers to leave (new readers are kept out meanwhile, and the upgrade goes before
    /// every other waiter). Afterwards <see cref="Kind"/> is <see cref="LockKind.Write"/> and
    /// <see cref="FencingToken"/> is a new, larger one; the handle keeps renewing the same lease.
    /// </summary>
    /// <param name="timeout">How long to wait: zero (the default) to try once, <see cref="Timeout.InfiniteTimeSpan"/> for ever.</param>
    /// <param name="cancellationToken">Gives up the upgrade; the hold stays the upgradeable read.</param>
    /// <returns><see langword="true"/> when upgraded; <see langword="false"/> when the timeout passed first (the hold is still the upgradeable read).</returns>
    /// <exception cref="InvalidOperationException">This handle is not an upgradeable read (a read, a write, a plain lock, or upgraded already), or it was released or lost.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative or over 49 days (the longest a timer waits).</exception>
    /// <exception cref="OperationCanceledException">The upgrade was cancelled; the hold is still the upgradeable read.</exception>
    /// <exception cref="LockStorageException">The lock's storage failed.</exception>
    public ValueTask<bool> TryUpgradeToWriteAsync(TimeSpan timeout = default, CancellationToken cancellationToken = default)
    {
        var wait = CheckUpgrade(timeout);
        return new(_keeper.UpgradeAsync(wait, cancellationToken));
    }

    /// <summary>
    /// Turns this upgradeable read hold into the write hold, waiting up to <paramref name="timeout"/>
    /// (see <see cref="TryUpgradeToWriteAsync"/>).
    /// </summary>
    /// <param name="timeout">How long to wait: null or <see cref="Timeout.InfiniteTimeSpan"/> for ever, zero to try once.</param>
    /// <param name="cancellationToken">Gives up the upgrade; the hold stays the upgradeable read.</param>
    /// <exception cref="TimeoutException">The timeout passed first; the hold is still the upgradeable read.</exception>
    /// <exception cref="InvalidOperationException">This handle is not an upgradeable read (a read, a write, a plain lock, or upgraded already), or it was released or lost.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative or over 49 days (the longest a timer waits).</exception>
    /// <exception cref="OperationCanceledException">The upgrade was cancelled; the hold is still the upgradeable read.</exception>
    /// <exception cref="LockStorageException">The lock's storage failed.</exception>
    public ValueTask UpgradeToWriteAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var wait = CheckUpgrade(timeout);
        return UpgradedOrTimeoutAsync(_keeper.UpgradeAsync(wait, cancellationToken), wait);
    }

    /// <summary>Stops renewing and releases the lock. Idempotent.</summary>
    /// <exception cref="LockStorageException">The release could not be stored; the lock then expires by itself.</exception>
    public async ValueTask ReleaseAsync(CancellationToken cancellationToken = default)
    {
        GC.SuppressFinalize(this);
        await _keeper.ReleaseAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Releases the lock (see <see cref="ReleaseAsync"/>); a failure is logged, not thrown, as disposal must not throw.</summary>
    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        try
        {
            await _keeper.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is LockStorageException or OrleansException or TimeoutException)
        {
            _keeper.ReportReleaseFailure(ex);
        }
    }

    /// <summary>The checks of an upgrade, made by the call itself: the kind of this hold, then the timeout.</summary>
    private TimeSpan CheckUpgrade(TimeSpan? timeout)
    {
        if (Kind != LockKind.UpgradeableRead)
        {
            throw new InvalidOperationException(
                $"Only an upgradeable read hold can be upgraded to write, and this handle of lock '{Id}' is a {Kind} hold. Acquire it with AcquireUpgradeableReadAsync or TryAcquireUpgradeableReadAsync.");
        }

        return LockProvider.ValidateTimeout(timeout);
    }

    private async ValueTask UpgradedOrTimeoutAsync(Task<bool> upgrade, TimeSpan wait)
    {
        if (!await upgrade.ConfigureAwait(false))
        {
            throw new TimeoutException($"Could not upgrade the upgradeable read of lock '{Id}' to write within {wait}: other readers still hold it. The handle still holds the upgradeable read.");
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"LockHandle {{ Id = {Id}, Kind = {Kind}, FencingToken = {FencingToken} }}";
}
