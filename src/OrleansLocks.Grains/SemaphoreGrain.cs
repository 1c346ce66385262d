using Microsoft.Extensions.Logging;
using OrleansLocks.Grains.Locking;

namespace OrleansLocks.Grains;

/// <summary>
/// One semaphore: up to its count of holders, each with its own lease (see <see cref="ISemaphoreGrain"/>).
/// Stored beside the locks under its own grain type and state name, so a semaphore and a lock of the
/// same name and key are independent. Its holders are stored as a read/write lock's readers are,
/// beside the count (<see cref="LockState.MaxCount"/>).
/// </summary>
[GrainType(GrainTypeName)]
internal sealed class SemaphoreGrain(LockGrainSettings settings, ILogger<SemaphoreGrain> logger)
    : LeaseGrain(settings, logger, StateName), ISemaphoreGrain
{
    /// <summary>Pinned grain type.</summary>
    public const string GrainTypeName = "orleanslocks.semaphore";

    /// <summary>Pinned state name (distinct from the locks', so their rows never meet).</summary>
    public const string StateName = "orleanslocks.semaphore";

    public Task<LockLease?> TryAcquire(int maxCount, string? owner = null, string? attemptId = null)
    {
        SemaphoreCount.Validate(maxCount);
        return TryAcquireAsync(LockKind.Semaphore, owner, attemptId, maxCount);
    }

    public Task<LockLease?> WaitForPermit(string waiterId, int maxCount, string? owner = null)
    {
        SemaphoreCount.Validate(maxCount);
        return WaitAsync(waiterId, LockKind.Semaphore, owner, maxCount);
    }

    public async Task<SemaphoreInfo> GetInfo()
    {
        var state = await ReadCurrentAsync();
        var now = NowMs();
        var waiting = CountWaiting();
        var holders = (state.Readers ?? []).Where(r => r.IsLiveAt(now)).Select(r => LeaseBook.ToInfo(r, waiting)).ToList();
        return new SemaphoreInfo(SemaphoreCount.InForce(state, now, waiting > 0), holders, waiting);
    }

    protected override bool Accepts(LockKind kind) => kind == LockKind.Semaphore;
}
