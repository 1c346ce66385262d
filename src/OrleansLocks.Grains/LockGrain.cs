using Microsoft.Extensions.Logging;
using OrleansLocks.Grains.Locking;

namespace OrleansLocks.Grains;

/// <summary>
/// One plain lock. Its state mirrors Synapse's <c>worker_locks</c> row plus a fencing counter; the
/// leases, the line of waiters and the versioned writes are <see cref="LeaseGrain"/>'s.
/// </summary>
[GrainType(GrainTypeName)]
internal sealed class LockGrain(LockGrainSettings settings, ILogger<LockGrain> logger)
    : LeaseGrain(settings, logger, StateName), ILockGrain
{
    /// <summary>Pinned grain type: grain ids, reminders and logs carry it, so it never changes.</summary>
    public const string GrainTypeName = "orleanslocks.lock";

    /// <summary>
    /// Pinned state name. Stored rows are keyed by service id, state name and grain key (not the grain
    /// type), so the name is distinctive and never changes.
    /// </summary>
    public const string StateName = "orleanslocks.lock";

    public Task<LockLease?> TryAcquire(string? owner = null, string? attemptId = null) => TryAcquireAsync(LockKind.Plain, owner, attemptId);

    public async Task<LockInfo?> GetInfo()
    {
        var state = await ReadCurrentAsync();
        return state.Writer is { } holder && holder.IsLiveAt(NowMs()) ? LeaseBook.ToInfo(holder, CountWaiting()) : null;
    }

    protected override bool Accepts(LockKind kind) => kind == LockKind.Plain;
}
