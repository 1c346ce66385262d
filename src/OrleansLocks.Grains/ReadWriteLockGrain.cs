using Microsoft.Extensions.Logging;
using OrleansLocks.Grains.Locking;

namespace OrleansLocks.Grains;

/// <summary>
/// One read/write lock: many readers or one writer, writers preferred (see
/// <see cref="IReadWriteLockGrain"/>). Stored beside plain locks but under its own grain type and
/// state name, so a read/write lock and a plain lock of the same name and key are independent.
/// </summary>
[GrainType(GrainTypeName)]
internal sealed class ReadWriteLockGrain(LockGrainSettings settings, ILogger<ReadWriteLockGrain> logger)
    : LeaseGrain(settings, logger, StateName), IReadWriteLockGrain
{
    /// <summary>Pinned grain type.</summary>
    public const string GrainTypeName = "orleanslocks.rwlock";

    /// <summary>Pinned state name (distinct from the plain lock's, so their rows never meet).</summary>
    public const string StateName = "orleanslocks.rwlock";

    public Task<LockLease?> TryAcquireRead(string? owner = null, string? attemptId = null) => TryAcquireAsync(LockKind.Read, owner, attemptId);

    public Task<LockLease?> TryAcquireWrite(string? owner = null, string? attemptId = null) => TryAcquireAsync(LockKind.Write, owner, attemptId);

    public Task<LockLease?> TryAcquireUpgradeableRead(string? owner = null, string? attemptId = null) => TryAcquireAsync(LockKind.UpgradeableRead, owner, attemptId);

    public Task<LockLease?> TryUpgrade(string token) => TryUpgradeAsync(token);

    public Task<LockLease?> WaitForUpgrade(string token, string waiterId) => WaitForUpgradeAsync(token, waiterId);

    public async Task<ReadWriteLockInfo> GetInfo()
    {
        var state = await ReadCurrentAsync();
        var now = NowMs();
        var writer = state.Writer is { } w && w.IsLiveAt(now) ? LeaseBook.ToInfo(w, 0) : null;
        var readers = (state.Readers ?? []).Where(r => r.IsLiveAt(now)).Select(r => LeaseBook.ToInfo(r, 0)).ToList();
        var upgradeable = LeaseBook.FindUpgradeable(state, now) is { } u ? LeaseBook.ToInfo(u, 0) : null;
        return new ReadWriteLockInfo(writer, readers, CountWaiting(LockKind.Write), CountWaiting(LockKind.Read))
        {
            UpgradeableReader = upgradeable,
            UpgradeWaiting = IsUpgradeWaiting(),
            WaitingUpgradeableReaders = CountWaiting(LockKind.UpgradeableRead),
        };
    }

    protected override bool Accepts(LockKind kind) => kind is LockKind.Read or LockKind.Write or LockKind.UpgradeableRead;
}
