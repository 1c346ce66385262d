using OrleansLocks.Admin;

namespace OrleansLocks.Grains.Admin;

/// <summary>Lists held locks from storage (plain and read/write), without activating them.</summary>
internal interface IStoredLockListing
{
    /// <summary>
    /// The live holders (expiry after <paramref name="now"/>) matching the filters, newest grant first,
    /// after <paramref name="after"/>; at most <paramref name="limit"/>, and where the next page starts
    /// when more may follow.
    /// </summary>
    Task<(IReadOnlyList<HeldLock> Rows, ListContinuation? Next)> ListHeldAsync(
        string? namePrefix, string? owner, DateTimeOffset now, int limit, ListContinuation? after, CancellationToken cancellationToken);
}
