using OrleansLocks.Admin;

namespace OrleansLocks.Grains.Admin;

/// <summary>How stored holders are shown to operators: everything but the token (and the acquire id, which can fetch the lease again).</summary>
internal static class AdminViews
{
    /// <summary>The row of <paramref name="holder"/> of lock <paramref name="id"/>.</summary>
    public static HeldLock Held(LockId id, LockHolder holder, LockKind kind, int? waiting) => new(
        id.Name,
        id.Key,
        kind,
        holder.Owner,
        holder.FencingToken,
        DateTimeOffset.FromUnixTimeMilliseconds(holder.AcquiredAt),
        DateTimeOffset.FromUnixTimeMilliseconds(holder.LastRenewedAt),
        DateTimeOffset.FromUnixTimeMilliseconds(holder.ExpiresAt),
        waiting);
}
