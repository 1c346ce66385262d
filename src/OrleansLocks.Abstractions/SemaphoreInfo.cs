namespace OrleansLocks;

/// <summary>What anyone may know about a semaphore: its count, its holders (never their tokens) and its line.</summary>
/// <param name="MaxCount">The count agreed by those that hold or wait; <see langword="null"/> when nobody holds or waits (the next caller sets it).</param>
/// <param name="Holders">The holders, oldest grant first (empty when none).</param>
/// <param name="Waiting">How many callers wait for a permit.</param>
[GenerateSerializer, Immutable, Alias("OrleansLocks.SemaphoreInfo")]
public sealed record SemaphoreInfo(
    [property: Id(0)] int? MaxCount,
    [property: Id(1)] IReadOnlyList<LockInfo> Holders,
    [property: Id(2)] int Waiting)
{
    /// <summary>Whether nobody holds a permit.</summary>
    public bool IsFree => Holders.Count == 0;
}
