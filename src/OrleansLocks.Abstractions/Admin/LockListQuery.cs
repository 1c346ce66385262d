namespace OrleansLocks.Admin;

/// <summary>What <see cref="ILockAdminGrain.List"/> lists.</summary>
/// <param name="NamePrefix">Only locks whose name starts with this (ordinal); <see langword="null"/> or empty for every name.</param>
/// <param name="Owner">Only holds of this owner (exact); <see langword="null"/> for every owner.</param>
/// <param name="PageSize">How many rows at most: 1 to <see cref="MaxPageSize"/>. The default is 100.</param>
/// <param name="Continuation">The <see cref="LockListPage.Continuation"/> of the previous page, or <see langword="null"/> for the first page.</param>
/// <param name="IncludeWaiting">
/// Whether to ask each listed lock's activation how many wait for it (one call per row, which
/// activates a lock whose activation is gone: it then reports 0 until its waiters call again).
/// When false, <see cref="HeldLock.Waiting"/> is <see langword="null"/> (unknown).
/// </param>
[GenerateSerializer, Immutable, Alias("OrleansLocks.Admin.LockListQuery")]
public sealed record LockListQuery(
    [property: Id(0)] string? NamePrefix = null,
    [property: Id(1)] string? Owner = null,
    [property: Id(2)] int PageSize = 100,
    [property: Id(3)] string? Continuation = null,
    [property: Id(4)] bool IncludeWaiting = false)
{
    /// <summary>The largest page: 1,000 rows.</summary>
    public const int MaxPageSize = 1000;
}

/// <summary>One page of <see cref="ILockAdminGrain.List"/>.</summary>
/// <param name="Locks">The rows, one per holder, newest grant first.</param>
/// <param name="Continuation">Pass it in the next query to read on; <see langword="null"/> when this is the last page.</param>
[GenerateSerializer, Immutable, Alias("OrleansLocks.Admin.LockListPage")]
public sealed record LockListPage(
    [property: Id(0)] IReadOnlyList<HeldLock> Locks,
    [property: Id(1)] string? Continuation);
