using Orleans.Concurrency;
using OrleansLocks.Admin;

namespace OrleansLocks.Grains.Admin;

/// <summary>The lock grains' face for <see cref="LockAdminGrain"/> (not part of the public lock API).</summary>
[Alias("OrleansLocks.ILockAdminTarget")]
internal interface ILockAdminTarget : IGrainWithStringKey
{
    /// <summary>The live holders (never their tokens), the line of waiters and any running lock-delay.</summary>
    [Alias("Describe")]
    [ReadOnly]
    Task<LockAdminView> Describe();

    /// <summary>
    /// Removes the live holders that match (every filter given must hold), then keeps the lock from
    /// granting anyone for <paramref name="noGrantsFor"/>; written durably before the answer. Nothing
    /// matches: nothing is removed and no delay starts.
    /// </summary>
    /// <param name="kind">Only holders of this kind; null for any.</param>
    /// <param name="fencingToken">Only the holder with this fencing token; null for any.</param>
    /// <param name="owner">Only holders of this owner; null for any.</param>
    /// <param name="noGrantsFor">The lock-delay.</param>
    [Alias("ForceOut")]
    Task<ForcedOut> ForceOut(LockKind? kind, long? fencingToken, string? owner, TimeSpan noGrantsFor);
}

/// <summary>What <see cref="ILockAdminTarget.Describe"/> answers.</summary>
/// <param name="Holders">The live holders.</param>
/// <param name="Waiters">The line, first first.</param>
/// <param name="NoGrantsBefore">The end of a running lock-delay, or null.</param>
[GenerateSerializer, Immutable, Alias("OrleansLocks.Grains.Admin.LockAdminView")]
internal sealed record LockAdminView(
    [property: Id(0)] IReadOnlyList<HeldLock> Holders,
    [property: Id(1)] IReadOnlyList<LockWaiter> Waiters,
    [property: Id(2)] DateTimeOffset? NoGrantsBefore);

/// <summary>What <see cref="ILockAdminTarget.ForceOut"/> did.</summary>
/// <param name="Freed">The holds removed.</param>
/// <param name="WasHeld">Whether a live holder matched the kind and owner filters (so an empty <paramref name="Freed"/> means the fencing token moved on).</param>
/// <param name="NoGrantsBefore">The end of the lock-delay, when something was freed.</param>
[GenerateSerializer, Immutable, Alias("OrleansLocks.Grains.Admin.ForcedOut")]
internal sealed record ForcedOut(
    [property: Id(0)] IReadOnlyList<HeldLock> Freed,
    [property: Id(1)] bool WasHeld,
    [property: Id(2)] DateTimeOffset? NoGrantsBefore);
