namespace OrleansLocks.Admin;

/// <summary>One holder of one lock, as an operator sees it: everything but its token.</summary>
/// <param name="Name">The lock name.</param>
/// <param name="Key">The lock key.</param>
/// <param name="Kind"><see cref="LockKind.Plain"/> for a plain lock's holder; <see cref="LockKind.Read"/> or <see cref="LockKind.Write"/> for a read/write lock's; <see cref="LockKind.Semaphore"/> for a semaphore's.</param>
/// <param name="Owner">Who holds it.</param>
/// <param name="FencingToken">The fencing token of this grant (pass it to <see cref="ILockAdminGrain.ForceRelease"/> to free exactly this grant).</param>
/// <param name="AcquiredAt">When it was granted (silo clock).</param>
/// <param name="LastRenewedAt">When it was last renewed (silo clock).</param>
/// <param name="ExpiresAt">When it ends unless renewed (silo clock).</param>
/// <param name="Waiting">
/// How many wait for the lock (any kind), as its live activation knows; <see langword="null"/> when
/// not asked for (see <see cref="LockListQuery.IncludeWaiting"/>).
/// </param>
[GenerateSerializer, Immutable, Alias("OrleansLocks.Admin.HeldLock")]
public sealed record HeldLock(
    [property: Id(0)] string Name,
    [property: Id(1)] string Key,
    [property: Id(2)] LockKind Kind,
    [property: Id(3)] string Owner,
    [property: Id(4)] long FencingToken,
    [property: Id(5)] DateTimeOffset AcquiredAt,
    [property: Id(6)] DateTimeOffset LastRenewedAt,
    [property: Id(7)] DateTimeOffset ExpiresAt,
    [property: Id(8)] int? Waiting = null);
