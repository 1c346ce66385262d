using OrleansLocks.Grains.Diagnostics;

namespace OrleansLocks.Grains.Locking;

/// <summary>
/// The upgrade of a read/write lock's upgradeable reader to the write hold, tried once or waited for
/// with the protocol of <see cref="ILeaseGrain.Wait"/>; the rules are <see cref="LeaseBook"/>'s, the
/// line's part is <see cref="WaiterLine.JoinUpgrade"/>. Kept apart from the lock protocol in LeaseGrain.cs.
/// </summary>
internal abstract partial class LeaseGrain
{
    /// <summary>Whether an upgrade waits in line (for the read/write lock's info).</summary>
    protected bool IsUpgradeWaiting() => _ledger.Line?.IsUpgradeWaiting == true;

    /// <summary>Upgrades the upgradeable read of <paramref name="token"/> if no other reader holds; else null.</summary>
    protected Task<LockLease?> TryUpgradeAsync(string token)
    {
        LockToken.Validate(token);
        return InGateAsync(async (id, now) =>
        {
            if (LeaseBook.FindUpgraded(State, token, now) is { } done)
            {
                return LeaseBook.ToLease(done);
            }

            LockLedger.EnsureUpgradeable(State, token, now, id);
            if (!LeaseBook.CanUpgrade(State, token, now))
            {
                return null;
            }

            var book = _ledger.Open(id, now);
            var writer = book.Upgrade(token, upgradeId: null, now)!;
            await _ledger.CommitAsync(book, "upgrade", id, now);
            Log.Upgraded(Logger, id, writer.FencingToken);
            Settings.Instruments.Granted(id, LockKind.Write, GrantPath.Try);
            return (LockLease?)LeaseBook.ToLease(writer);
        });
    }

    /// <summary>Waits (at most the poll interval per call) to upgrade the upgradeable read of <paramref name="token"/>.</summary>
    protected async Task<LockLease?> WaitForUpgradeAsync(string token, string waiterId)
    {
        LockToken.Validate(token);
        CallerInput.ValidateWaiterId(waiterId);
        if (Settings.OpenWaits.IsStopping)
        {
            throw new SiloUnavailableException($"This silo is stopping; wait for the upgrade of lock '{_id}' again (the call is retried on the lock's next activation).");
        }

        var (answer, call) = await InGateAsync<(LockLease?, TaskCompletionSource<LockLease?>?)>(async (id, now) =>
        {
            var (granted, waiter) = await _ledger.JoinUpgradeAsync(id, now, waiterId, token);
            if (waiter is null)
            {
                return (granted, null);
            }

            Settings.OpenWaits.Add(this, TaskScheduler.Current);
            return (null, _ledger.OpenLine().OpenCall(waiter, now));
        }, skipIf: () => _goingAway);
        return call is null ? answer : await AwaitCallAsync(waiterId, call);
    }

    /// <summary>
    /// Waits for the open call of <paramref name="waiterId"/> to be answered, for at most the poll
    /// interval; then "not yet" (null), and the waiter keeps its place.
    /// </summary>
    private async Task<LockLease?> AwaitCallAsync(string waiterId, TaskCompletionSource<LockLease?> call)
    {
        try
        {
            // The call ends by its own timer, not by a grain message: a message could sit behind the
            // activation's deactivation, which itself waits for this call to end.
            return await call.Task.WaitAsync(Settings.PollInterval, Settings.Time);
        }
        catch (TimeoutException)
        {
            if (call.Task.IsCompleted)
            {
                return await call.Task;
            }

            // "Not yet": the waiter keeps its place; a grant made before its next call waits for it.
            if (_ledger.Line?.EndCall(waiterId, call, NowMs()) == true)
            {
                Reschedule();
            }

            return null;
        }
    }
}
