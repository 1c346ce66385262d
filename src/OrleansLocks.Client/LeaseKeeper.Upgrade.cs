namespace OrleansLocks.Client;

/// <summary>
/// The upgrade of an upgradeable read hold to the write hold: tried once, or waited for in the lock's
/// line (the grain's <see cref="IReadWriteLockGrain.WaitForUpgrade"/> protocol) and given back with
/// <see cref="ILeaseGrain.StopWaiting"/> when the caller gives up, so the hold is then what it was.
/// </summary>
internal sealed partial class LeaseKeeper
{
    // 1 while an upgrade runs: a hold is upgraded by one call at a time.
    private int _upgrading;

    public Task<bool> UpgradeAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _state) != Active)
        {
            throw new InvalidOperationException(
                $"Only a held upgradeable read can be upgraded to write, and the handle of lock '{Id}' was released or lost its lease.");
        }

        if (Interlocked.Exchange(ref _upgrading, 1) == 1)
        {
            throw new InvalidOperationException($"An upgrade of the handle of lock '{Id}' is already under way; one upgrade runs at a time.");
        }

        return UpgradeCoreAsync(wait, cancellationToken);
    }

    private async Task<bool> UpgradeCoreAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            var grain = (IReadWriteLockGrain)_grain;
            var token = Lease.Token;
            var upgraded = wait == TimeSpan.Zero
                ? await _retry.RunAsync("upgrade", Id, () => grain.TryUpgrade(token), cancellationToken).ConfigureAwait(false)
                : await WaitForUpgradeAsync(grain, token, wait, cancellationToken).ConfigureAwait(false);
            if (upgraded is null)
            {
                return false;
            }

            lock (_gate)
            {
                Volatile.Write(ref _lease, upgraded);
                Volatile.Write(ref _kind, (int)LockKind.Write);
            }

            Log.Upgraded(_logger, Id, upgraded.FencingToken);
            return true;
        }
        finally
        {
            Volatile.Write(ref _upgrading, 0);
        }
    }

    /// <summary>The write lease once upgraded, or null when <paramref name="wait"/> passed first (the upgrade is then given back).</summary>
    private async Task<LockLease?> WaitForUpgradeAsync(IReadWriteLockGrain grain, string token, TimeSpan wait, CancellationToken cancellationToken)
    {
        using var deadline = wait == Timeout.InfiniteTimeSpan ? new CancellationTokenSource() : new CancellationTokenSource(wait, _time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token, _lost.Token);
        var waiterId = Guid.NewGuid().ToString("N");
        try
        {
            while (true)
            {
                stop.Token.ThrowIfCancellationRequested();
                var answer = await _retry.RunUntilStoppedAsync(
                    "upgrade", Id, () => grain.WaitForUpgrade(token, waiterId).WaitAsync(stop.Token), static _ => { }, stop.Token).ConfigureAwait(false);
                if (answer is not null)
                {
                    return answer;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Given up: the lock takes the upgrade out of line, or gives back one granted meanwhile.
            var leaving = GiveUpUpgradeAsync(grain, waiterId);
            await Task.WhenAny(leaving, Task.Delay(LockProvider.LeaveBudget, CancellationToken.None)).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            if (_lost.IsCancellationRequested)
            {
                throw new InvalidOperationException($"The lease of lock '{Id}' was lost while its upgrade to write waited; nothing is held.");
            }

            return null;
        }
    }

    private async Task GiveUpUpgradeAsync(IReadWriteLockGrain grain, string waiterId)
    {
        try
        {
            await _retry.RunAsync("stop waiting", Id, async () =>
            {
                await grain.StopWaiting(waiterId).ConfigureAwait(false);
                return true;
            }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.UpgradeGiveUpFailed(_logger, ex, Id);
        }
    }
}
