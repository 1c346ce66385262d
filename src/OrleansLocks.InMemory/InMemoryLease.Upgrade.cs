namespace OrleansLocks.InMemory;

/// <summary>The upgrade of an in-memory upgradeable read lease to the write hold (see <see cref="InMemoryLockTable.JoinUpgrade"/>).</summary>
internal sealed partial class InMemoryLease
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

    /// <summary>Under the table's gate: the hold becomes the write hold with <paramref name="fencingToken"/>.</summary>
    public void BecomeWriter(long fencingToken)
    {
        Volatile.Write(ref _lease, Lease with { FencingToken = fencingToken });
        Volatile.Write(ref _kind, (int)LockKind.Write);
    }

    /// <summary>Under the table's gate: an upgrade given back; the hold is the upgradeable read of <paramref name="fencingToken"/> again.</summary>
    public void BecomeUpgradeableRead(long fencingToken)
    {
        Volatile.Write(ref _lease, Lease with { FencingToken = fencingToken });
        Volatile.Write(ref _kind, (int)LockKind.UpgradeableRead);
    }

    private async Task<bool> UpgradeCoreAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (wait == TimeSpan.Zero)
            {
                return _table.TryUpgrade(this);
            }

            var waiter = _table.JoinUpgrade(this);
            using var deadline = wait == Timeout.InfiniteTimeSpan ? new CancellationTokenSource() : new CancellationTokenSource(wait, _table.Time);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token, _lost.Token);
            try
            {
                await waiter.Granted.Task.WaitAsync(stop.Token).ConfigureAwait(false);
                return true;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Given up: out of line, or, if served meanwhile, back to the upgradeable read.
                _table.Leave(waiter);
                if (cancellationToken.IsCancellationRequested)
                {
                    throw;
                }

                return _lost.IsCancellationRequested
                    ? throw new InvalidOperationException($"The lease of lock '{Id}' was lost while its upgrade to write waited; nothing is held.")
                    : false;
            }
        }
        finally
        {
            Volatile.Write(ref _upgrading, 0);
        }
    }
}
