using Microsoft.Extensions.Logging;
using OrleansLocks.Client.Diagnostics;

namespace OrleansLocks.Client;

/// <summary>
/// The protocol with one lock grain: try once (with an attempt id that makes retries safe), wait in
/// the lock's line (wait, confirm, and stop waiting when given up), and release a grant whose caller
/// has gone. Every lease it gets becomes a <see cref="LockHandle"/> kept alive by a <see cref="LeaseKeeper"/>.
/// </summary>
internal sealed class LockAcquirer(
    IGrainFactory grains,
    TimeProvider time,
    LockClientOptions options,
    LockLeaseOptions lease,
    TransientFaultPolicy retry,
    HeldLocks held,
    LockClientInstruments instruments,
    ILogger logger)
{
    /// <summary>Tries once to acquire the lock; <see langword="null"/> when it is held.</summary>
    public async Task<LockHandle?> TryAsync(LockRequest request, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var target = LockTarget.For(grains, request);
        var sentAt = time.GetTimestamp();

        // One attempt id for all retries of this acquire: a retry after a lost answer gets the same lease.
        var attemptId = NewId();
        var acquire = retry.RunAsync("acquire", request.Id, () => target.TryAcquire(options.Owner, attemptId), CancellationToken.None);
        LockLease? granted;
        try
        {
            granted = await acquire.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _ = ReleaseIfGrantedAsync(request.Id, target.Grain, acquire);
            throw;
        }

        return granted is null ? null : NewHandle(request, target.Grain, granted, sentAt);
    }

    /// <summary>
    /// Waits in the lock's line until granted, or until <paramref name="stop"/> fires: then the
    /// waiter leaves the line (and any grant made to it is released) before this throws.
    /// <paramref name="onFault"/> sees each transient fault the wait rode out.
    /// </summary>
    public async Task<LockHandle> WaitAsync(LockRequest request, CancellationToken stop, Action<Exception> onFault)
    {
        var id = request.Id;
        var target = LockTarget.For(grains, request);
        var grain = target.Grain;
        var waiterId = NewId();
        long? firstSent = null;
        long? lastNotYet = null;
        try
        {
            while (true)
            {
                stop.ThrowIfCancellationRequested();
                var (granted, confirmed, grantedNoEarlierThan) = await retry.RunUntilStoppedAsync("wait", id, async () =>
                {
                    var sentAt = time.GetTimestamp();

                    // A grant delivered now was made after the last call that answered "not yet" was sent
                    // (else that call would have carried it), so the local deadline counts from there:
                    // never later than the truth. A call that failed proves nothing, so it moves nothing.
                    var noEarlierThan = lastNotYet ?? firstSent ?? sentAt;
                    firstSent ??= sentAt;
                    var answer = await (target.WaitFor?.Invoke(waiterId, options.Owner) ?? grain.Wait(waiterId, request.Kind, options.Owner)).WaitAsync(stop).ConfigureAwait(false);
                    if (answer is null)
                    {
                        lastNotYet = sentAt;
                        return (answer, false, noEarlierThan);
                    }

                    // Keep the place in line on a fault: the next call with the same waiter id finds the grant.
                    var ok = await grain.ConfirmGrant(answer.Token).WaitAsync(stop).ConfigureAwait(false);
                    return (answer, ok, noEarlierThan);
                }, onFault, stop).ConfigureAwait(false);

                if (granted is not null && confirmed)
                {
                    return NewHandle(request, grain, granted, grantedNoEarlierThan);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            var leaving = StopWaitingAsync(id, grain, waiterId);
            held.Track(leaving);
            await Task.WhenAny(leaving, Task.Delay(LockProvider.LeaveBudget, CancellationToken.None)).ConfigureAwait(false);
            throw;
        }
    }

    private LockHandle NewHandle(LockRequest request, ILeaseGrain grain, LockLease granted, long grantedNoEarlierThan)
    {
        var keeper = new LeaseKeeper(request.Id, request.Kind, grain, granted, grantedNoEarlierThan, lease.RenewalInterval, options.ClockSkewAllowance, time, retry, instruments, logger, held.Remove);
        held.Add(keeper);
        keeper.Start();
        Log.Acquired(logger, request.Id, granted.FencingToken);
        return new LockHandle(keeper);
    }

    private async Task ReleaseIfGrantedAsync(LockId id, ILeaseGrain grain, Task<LockLease?> acquire)
    {
        try
        {
            if (await acquire.ConfigureAwait(false) is { } granted)
            {
                Log.CancelledGrantReleased(logger, id);
                await retry.RunAsync("release", id, () => grain.Release(granted.Token), CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // Nothing more to do: an unreleased grant expires with its lease.
            Log.CancelledGrantNotReleased(logger, ex, id);
        }
    }

    private async Task StopWaitingAsync(LockId id, ILeaseGrain grain, string waiterId)
    {
        try
        {
            await retry.RunAsync("stop waiting", id, async () =>
            {
                await grain.StopWaiting(waiterId).ConfigureAwait(false);
                return true;
            }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The lock drops the waiter by itself (it stops calling), and takes back an unconfirmed grant.
            Log.StopWaitingFailed(logger, ex, id);
        }
    }

    private static string NewId() => Guid.NewGuid().ToString("N");

    /// <summary>
    /// The grain a request goes to, resolved once per request: the lease operations every lock grain
    /// has, and the acquire that fits the kind of hold, as <c>(owner, attemptId)</c>; for a semaphore
    /// also its wait, as <c>(waiterId, owner)</c> (the others wait with <see cref="ILeaseGrain.Wait"/>).
    /// </summary>
    private sealed record LockTarget(ILeaseGrain Grain, Func<string?, string, Task<LockLease?>> TryAcquire, Func<string, string?, Task<LockLease?>>? WaitFor = null)
    {
        public static LockTarget For(IGrainFactory grains, LockRequest request)
        {
            var key = request.Id.ToGrainKey();
            switch (request.Kind)
            {
                case LockKind.Plain:
                    var plain = grains.GetGrain<ILockGrain>(key);
                    return new(plain, plain.TryAcquire);
                case LockKind.Read:
                    var forRead = grains.GetGrain<IReadWriteLockGrain>(key);
                    return new(forRead, forRead.TryAcquireRead);
                case LockKind.Write:
                    var forWrite = grains.GetGrain<IReadWriteLockGrain>(key);
                    return new(forWrite, forWrite.TryAcquireWrite);
                case LockKind.UpgradeableRead:
                    var forUpgradeableRead = grains.GetGrain<IReadWriteLockGrain>(key);
                    return new(forUpgradeableRead, forUpgradeableRead.TryAcquireUpgradeableRead);
                case LockKind.Semaphore:
                    var semaphore = grains.GetGrain<ISemaphoreGrain>(key);
                    var maxCount = request.MaxCount!.Value;
                    return new(
                        semaphore,
                        (owner, attemptId) => semaphore.TryAcquire(maxCount, owner, attemptId),
                        (waiterId, owner) => semaphore.WaitForPermit(waiterId, maxCount, owner));
                default:
                    throw new ArgumentOutOfRangeException(nameof(request), request.Kind, "The kind must be LockKind.Plain, Read, Write, UpgradeableRead or Semaphore.");
            }
        }
    }
}
