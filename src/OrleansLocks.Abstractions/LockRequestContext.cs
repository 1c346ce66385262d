namespace OrleansLocks;

/// <summary>
/// Keys that the client library places in Orleans' <c>RequestContext</c> for the lock grain.
/// </summary>
public static class LockRequestContext
{
    /// <summary>The caller's owner name, used by <see cref="ILockGrain.TryAcquire"/> when no owner is passed.</summary>
    public const string OwnerKey = "orleanslocks.owner";
}
