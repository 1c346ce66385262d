namespace OrleansLocks;

/// <summary>
/// Keys that the client library places in Orleans' <c>RequestContext</c> for the lock grain.
/// </summary>
public static class LockRequestContext
{
    /// <summary>The caller's owner name, used by <see cref="ILockGrain.TryAcquire"/> when no owner is passed.</summary>
    public const string OwnerKey = "orleanslocks.owner";

    /// <summary>
    /// A per-attempt id the client sends with an acquire. When a retry of the same attempt reaches
    /// the grain after the first call was granted but its answer lost, the grain answers with the
    /// same lease instead of "held", so a transient fault never becomes a wrong answer.
    /// </summary>
    public const string AcquireIdKey = "orleanslocks.acquire-id";
}
