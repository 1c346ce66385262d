namespace OrleansLocks.Admin;

/// <summary>What a forced release did.</summary>
[GenerateSerializer, Alias("OrleansLocks.Admin.ForceReleaseOutcome")]
public enum ForceReleaseOutcome
{
    /// <summary>At least one hold was freed (see <see cref="ForceReleaseResult.Released"/>).</summary>
    Released = 0,

    /// <summary>Nothing was freed: nobody held the lock (or the owner held nothing).</summary>
    NotHeld = 1,

    /// <summary>Nothing was freed: the lock is held, but no longer by the grant with the expected fencing token.</summary>
    FencingTokenMoved = 2,
}

/// <summary>The answer of <see cref="ILockAdminGrain.ForceRelease"/> and <see cref="ILockAdminGrain.ReleaseOwner"/>.</summary>
/// <param name="Outcome">Whether anything was freed, and if not, why.</param>
/// <param name="Released">Every hold that was freed.</param>
[GenerateSerializer, Immutable, Alias("OrleansLocks.Admin.ForceReleaseResult")]
public sealed record ForceReleaseResult(
    [property: Id(0)] ForceReleaseOutcome Outcome,
    [property: Id(1)] IReadOnlyList<ReleasedHold> Released);

/// <summary>One hold a forced release freed.</summary>
/// <param name="Name">The lock name.</param>
/// <param name="Key">The lock key.</param>
/// <param name="Kind">Which hold it was.</param>
/// <param name="Owner">Who held it.</param>
/// <param name="FencingToken">The fencing token of the freed grant: guarded resources should refuse it from now on.</param>
/// <param name="NoGrantsBefore">Until when the lock grants nobody else (the lock-delay).</param>
[GenerateSerializer, Immutable, Alias("OrleansLocks.Admin.ReleasedHold")]
public sealed record ReleasedHold(
    [property: Id(0)] string Name,
    [property: Id(1)] string Key,
    [property: Id(2)] LockKind Kind,
    [property: Id(3)] string Owner,
    [property: Id(4)] long FencingToken,
    [property: Id(5)] DateTimeOffset NoGrantsBefore);
