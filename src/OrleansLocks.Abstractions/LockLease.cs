namespace OrleansLocks;

/// <summary>A granted lease on a lock, as returned by <see cref="ILockGrain.TryAcquire"/> and <see cref="ILeaseGrain.Renew"/>.</summary>
/// <param name="Token">The secret capability to renew and release: at least 128 random bits. Never log it.</param>
/// <param name="FencingToken">Strictly increases with every grant of the same lock; pass it to guarded resources so they can refuse stale writers.</param>
/// <param name="Owner">Who holds the lock.</param>
/// <param name="AcquiredAt">When the grant was made (silo clock).</param>
/// <param name="LastRenewedAt">When the lease was last granted or renewed (silo clock).</param>
/// <param name="ExpiresAt">When the lease ends unless renewed (silo clock).</param>
[GenerateSerializer, Immutable, Alias("OrleansLocks.LockLease")]
public sealed record LockLease(
    [property: Id(0)] string Token,
    [property: Id(1)] long FencingToken,
    [property: Id(2)] string Owner,
    [property: Id(3)] DateTimeOffset AcquiredAt,
    [property: Id(4)] DateTimeOffset LastRenewedAt,
    [property: Id(5)] DateTimeOffset ExpiresAt)
{
    /// <summary>How long this lease lasts without renewal (the silo's lease timeout).</summary>
    public TimeSpan Duration => ExpiresAt - LastRenewedAt;

    /// <summary>Describes the lease without its token, so that logging it never leaks the capability.</summary>
    public override string ToString() =>
        $"LockLease {{ FencingToken = {FencingToken}, Owner = {Owner}, AcquiredAt = {AcquiredAt:O}, ExpiresAt = {ExpiresAt:O} }}";
}
