namespace OrleansLocks.Client;

/// <summary>
/// What a <see cref="LockHandle"/> stands on: one held lease and the means to keep, check and end
/// it. <see cref="LeaseKeeper"/> is the one over lock grains; other providers (the in-memory one
/// for tests) bring their own, so that their handles are the same <see cref="LockHandle"/> type.
/// </summary>
internal interface IHeldLease
{
    /// <summary>Which lock this is.</summary>
    LockId Id { get; }

    /// <summary>Which kind of hold this is (an upgradeable read becomes a write when upgraded).</summary>
    LockKind Kind { get; }

    /// <summary>The lease as of its latest grant or renewal. Its token is a secret: never log it.</summary>
    LockLease Lease { get; }

    /// <summary>Cancelled as soon as the lease is known or must be assumed gone; never by a release.</summary>
    CancellationToken LostToken { get; }

    /// <summary>Whether the lease is still held, right now.</summary>
    Task<bool> IsStillValidAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Upgrades an upgradeable read hold to the write hold, waiting up to <paramref name="wait"/>
    /// (zero: try once; <see cref="Timeout.InfiniteTimeSpan"/>: for ever). On success <see cref="Kind"/>
    /// becomes <see cref="LockKind.Write"/> and <see cref="Lease"/> carries the new fencing token; on
    /// timeout or cancellation the hold stays the upgradeable read. Checks its state synchronously:
    /// the caller's handle has checked the kind and the timeout.
    /// </summary>
    /// <returns><see langword="true"/> when upgraded; <see langword="false"/> when the wait passed first.</returns>
    /// <exception cref="InvalidOperationException">The lease was released or lost, or an upgrade of it is already under way (thrown by the call itself).</exception>
    Task<bool> UpgradeAsync(TimeSpan wait, CancellationToken cancellationToken);

    /// <summary>Stops keeping the lease and releases it. Idempotent: only the first call releases.</summary>
    Task ReleaseAsync(CancellationToken cancellationToken);

    /// <summary>Says that a release failed (disposal must not throw); the lease then expires by itself.</summary>
    void ReportReleaseFailure(Exception exception);

    /// <summary>The handle was garbage-collected while holding the lease: stop keeping it and signal it lost.</summary>
    void Abandon();
}
