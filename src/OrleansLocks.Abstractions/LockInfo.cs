namespace OrleansLocks;

/// <summary>What anyone may know about a held lock: everything but its token.</summary>
/// <param name="Owner">Who holds the lock.</param>
/// <param name="FencingToken">The fencing token of the current grant.</param>
/// <param name="AcquiredAt">When the current grant was made (silo clock).</param>
/// <param name="LastRenewedAt">When the lease was last renewed (silo clock).</param>
/// <param name="ExpiresAt">When the lease ends unless renewed (silo clock).</param>
/// <param name="Waiting">How many callers wait in line for the lock (on a read/write lock: for any kind of hold).</param>
[GenerateSerializer, Immutable, Alias("OrleansLocks.LockInfo")]
public sealed record LockInfo(
    [property: Id(0)] string Owner,
    [property: Id(1)] long FencingToken,
    [property: Id(2)] DateTimeOffset AcquiredAt,
    [property: Id(3)] DateTimeOffset LastRenewedAt,
    [property: Id(4)] DateTimeOffset ExpiresAt,
    [property: Id(5)] int Waiting = 0);
