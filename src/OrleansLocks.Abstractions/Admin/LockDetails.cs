namespace OrleansLocks.Admin;

/// <summary>One lock, as <see cref="ILockAdminGrain.Inspect"/> shows it. Never a token.</summary>
/// <param name="Name">The lock name.</param>
/// <param name="Key">The lock key.</param>
/// <param name="IsReadWrite">Whether this is the read/write lock of that name and key (else the plain lock).</param>
/// <param name="Holders">The live holders (writer first, then readers by grant); empty when free.</param>
/// <param name="Waiters">Who waits, first in line first (known only to the lock's live activation).</param>
/// <param name="StoredVersion">The version (ETag) of its stored state, or <see langword="null"/> when nothing is stored.</param>
/// <param name="NoGrantsBefore">
/// After a forced release, until when the lock grants nobody (so the old holder learns it lost first);
/// <see langword="null"/> when no such delay runs.
/// </param>
[GenerateSerializer, Immutable, Alias("OrleansLocks.Admin.LockDetails")]
public sealed record LockDetails(
    [property: Id(0)] string Name,
    [property: Id(1)] string Key,
    [property: Id(2)] bool IsReadWrite,
    [property: Id(3)] IReadOnlyList<HeldLock> Holders,
    [property: Id(4)] IReadOnlyList<LockWaiter> Waiters,
    [property: Id(5)] string? StoredVersion,
    [property: Id(6)] DateTimeOffset? NoGrantsBefore)
{
    /// <summary>Whether this is the semaphore of that name and key (then <see cref="IsReadWrite"/> is false).</summary>
    [Id(7)]
    public bool IsSemaphore { get; init; }
}

/// <summary>One caller waiting in a lock's line.</summary>
/// <param name="Owner">Who waits.</param>
/// <param name="Kind">For which hold.</param>
/// <param name="Since">When it joined the line of the lock's current activation (silo clock).</param>
[GenerateSerializer, Immutable, Alias("OrleansLocks.Admin.LockWaiter")]
public sealed record LockWaiter(
    [property: Id(0)] string Owner,
    [property: Id(1)] LockKind Kind,
    [property: Id(2)] DateTimeOffset Since);
