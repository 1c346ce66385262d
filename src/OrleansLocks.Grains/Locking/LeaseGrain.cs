using Microsoft.Extensions.Logging;
using OrleansLocks.Grains.Diagnostics;
using OrleansLocks.Grains.Storage;
using OrleansLocks.Grains.Sweep;

namespace OrleansLocks.Grains.Locking;

/// <summary>
/// What plain lock, read/write lock and semaphore grains share: one activation of one lock, which orchestrates its
/// rules (<see cref="LeaseBook"/>), its line of waiters (<see cref="WaiterLine"/>) and its versioned
/// store (<see cref="ILockStore"/>), and tells the silo's <see cref="ExpirySchedule"/> when it is next
/// due (a lease's expiry, a deadline of the line), so that expiry needs no caller.
/// </summary>
/// <remarks>
/// <para>Every change (grant, renewal, release, expiry, hand-off to waiters) is one versioned write
/// that completes before anyone is answered, so a stale duplicate activation can never grant a
/// second holder: its write fails instead, and the activation is dropped. A release or expiry hands
/// the lock to the first waiters in the same write that frees it.</para>
/// <para>Time is the silo's <see cref="TimeProvider"/>. <see cref="ILeaseGrain.Wait"/> interleaves
/// with other calls (it stays open for up to the poll interval), so every read-modify-write runs
/// inside <see cref="InGateAsync"/>.</para>
/// <para>Memory per held lock counts (a silo may hold hundreds of thousands): an activation keeps only
/// its ledger, its id, its gate and its due time; the settings are the silo's one object, and the
/// line of waiters and the gate's queue are created on first use. No timer keeps the activation
/// alive: idle collection may deactivate a held lock, and the schedule's call reactivates it when due
/// (its waiters, held in memory, join the next activation's line as they call again).</para>
/// </remarks>
internal abstract partial class LeaseGrain : Grain, ILeaseGrain, ILockSweepTarget, ILockDue, ILockLedgerOwner
{
    // _dueAt before the activation told the schedule anything (so its first word is always said).
    private const long DueUnknown = long.MinValue;

    // _dueAt when nothing is due.
    private const long NothingDue = long.MaxValue;

    private readonly LockLedger _ledger;

    // default (Name null) when the grain key breaks the rules: refused on every call.
    private readonly LockId _id;

    // Mutable struct: never copy it, always use the field.
    private ActivationGate _gate;

    // Set when this activation has asked to be deactivated. Orleans deactivates it only once no call
    // is running, so from then on a Wait answers at once instead of opening a call that would keep
    // the activation (and every call queued behind its deactivation) waiting.
    private bool _goingAway;

    // What this activation last told the schedule: the due time, NothingDue, or DueUnknown.
    private long _dueAt = DueUnknown;

    // The activation's context comes from Grain's own constructor, not from ours: a constructor
    // parameter of type IGrainContext is resolved from the activation's service scope, which then
    // keeps a cache of resolved services and disposables (about 280 B per activation, measured).
    protected LeaseGrain(LockGrainSettings settings, ILogger logger, string stateName)
    {
        var context = GrainContext;
        _ledger = new LockLedger(settings.OpenStore(context, stateName, logger), settings, logger, this);
        if (LockId.TryParse(context.GrainId.Key.ToString()!, out var id))
        {
            _id = id.Value;
        }
    }

    /// <summary>The state this activation answers from.</summary>
    protected LockState State => _ledger.Current;

    private LockGrainSettings Settings => _ledger.Settings;

    private ILogger Logger => _ledger.Logger;

    /// <summary>How many wait in line (for the derived grains' info).</summary>
    protected int CountWaiting() => _ledger.Line?.Count ?? 0;

    /// <summary>How many wait in line for <paramref name="kind"/> (for the derived grains' info).</summary>
    protected int CountWaiting(LockKind kind) => _ledger.Line?.CountWaiting(kind) ?? 0;

    /// <summary>Whether this lock type takes <paramref name="kind"/> (plain locks: Plain; read/write locks: Read and Write).</summary>
    protected abstract bool Accepts(LockKind kind);

    public Task<LockLease?> Renew(string token)
    {
        LockToken.Validate(token);
        return InGateAsync(async (id, now) =>
        {
            if (LeaseBook.FindByToken(State, token) is not { } holder || !holder.IsLiveAt(now))
            {
                return null;
            }

            _ledger.Line?.ForgetUnconfirmed(token);
            var book = _ledger.Open(id, now);
            var renewed = book.Renew(token, now)!;
            await _ledger.CommitAsync(book, "renew", id, now);
            return (LockLease?)LeaseBook.ToLease(renewed);
        });
    }

    public Task<bool> Release(string token)
    {
        LockToken.Validate(token);
        return InGateAsync(async (id, now) =>
        {
            if (LeaseBook.FindByToken(State, token) is not { } holder)
            {
                return false;
            }

            _ledger.Line?.ForgetUnconfirmed(token);
            var book = _ledger.Open(id, now);
            book.Remove(token);
            await _ledger.CommitAsync(book, "release", id, now);
            Log.Released(Logger, id, holder.FencingToken);
            return true;
        });
    }

    public async Task<bool> IsStillValid(string token)
    {
        LockToken.Validate(token);
        var state = await ReadCurrentAsync();
        return LeaseBook.FindByToken(state, token) is { } holder && holder.IsLiveAt(NowMs());
    }

    public Task<LockLease?> Wait(string waiterId, LockKind kind, string? owner = null)
    {
        if (kind == LockKind.Semaphore)
        {
            throw new ArgumentException("A semaphore permit is waited for with ISemaphoreGrain.WaitForPermit, which carries the semaphore's count; Wait has no count.", nameof(kind));
        }

        return WaitAsync(waiterId, kind, owner, maxCount: null);
    }

    /// <summary>
    /// A <see cref="ILeaseGrain.Wait"/> call; a semaphore's carries its count (<paramref name="maxCount"/>),
    /// which is agreed (<see cref="SemaphoreCount.Agree"/>) before the waiter joins the line.
    /// </summary>
    protected async Task<LockLease?> WaitAsync(string waiterId, LockKind kind, string? owner, int? maxCount)
    {
        CallerInput.ValidateWaiterId(waiterId);
        owner = CallerInput.ResolveOwner(owner);
        if (!Accepts(kind))
        {
            throw new ArgumentException($"This lock does not take {kind} holds: plain locks (ILockGrain) take LockKind.Plain, read/write locks (IReadWriteLockGrain) take LockKind.Read, LockKind.Write and LockKind.UpgradeableRead, semaphores (ISemaphoreGrain) take permits through WaitForPermit.", nameof(kind));
        }

        if (Settings.OpenWaits.IsStopping)
        {
            throw new SiloUnavailableException($"This silo is stopping; wait for lock '{_id}' again (the call is retried on the lock's next activation).");
        }

        // Going away: "not yet" at once; the caller calls again and reaches the lock's next activation.
        var (answer, call) = await InGateAsync<(LockLease?, TaskCompletionSource<LockLease?>?)>(async (id, now) =>
        {
            if (maxCount is { } count)
            {
                SemaphoreCount.Agree(State, count, now, CountWaiting() > 0, id);
            }

            var (granted, waiter) = await _ledger.JoinAsync(id, now, waiterId, kind, owner);
            if (waiter is null)
            {
                return (granted, null);
            }

            Settings.OpenWaits.Add(this, TaskScheduler.Current);
            return (null, _ledger.OpenLine().OpenCall(waiter, now));
        }, skipIf: () => _goingAway);
        return call is null ? answer : await AwaitCallAsync(waiterId, call);
    }

    public Task<bool> ConfirmGrant(string token)
    {
        LockToken.Validate(token);
        return InGateAsync((_, now) =>
        {
            _ledger.Line?.ForgetUnconfirmed(token);
            return Task.FromResult(LeaseBook.FindByToken(State, token) is { } holder && holder.IsLiveAt(now));
        });
    }

    public Task StopWaiting(string waiterId)
    {
        CallerInput.ValidateWaiterId(waiterId);
        return InGateAsync(async (id, now) =>
        {
            _ledger.OpenLine().Leave(waiterId, now);
            var book = _ledger.Open(id, now);
            if (LeaseBook.FindLiveByAcquireId(book.Next, waiterId, now) is { } holder)
            {
                book.Remove(holder.Token);
                Log.GrantReturned(Logger, id, holder.FencingToken);
            }
            else if (book.GiveBackUpgrade(waiterId, now) is { } reader)
            {
                // An upgrade given up after it was granted: the caller holds what it held before.
                Log.UpgradeGivenBack(Logger, id, reader.FencingToken);
            }

            await _ledger.CommitIfChangedAsync(book, "release", id, now);
            return true;
        });
    }

    public Task<bool> Sweep() => InGateAsync(async (id, now) =>
    {
        if (State.Holders.Any(h => !h.IsLiveAt(now)))
        {
            await _ledger.CommitAsync(_ledger.Open(id, now), "expire", id, now);
            return true;
        }

        if (State.Holders.Any() || _ledger.Line?.IsIdle == false || !_ledger.RecordExists || !(State.FreedAt + Settings.RetentionMs <= now) || now < State.NoGrantsBefore)
        {
            return false;
        }

        // Free for longer than the retention: clear the state (the record and its version stay, so
        // no stale activation's version can ever match again). The next grant's fencing token starts
        // from the clock floor, which is beyond every token this record ever issued.
        await _ledger.ClearAsync(id);
        _goingAway = true;
        DeactivateOnIdle();
        return true;
    });

    public Task OnDue() => InGateAsync(async (id, now) =>
    {
        // The schedule took the entry that made this call: whatever is due next must be told anew.
        _dueAt = DueUnknown;
        if (_ledger.Line is { } line)
        {
            foreach (var _ in line.ReapSilent(now))
            {
                Log.WaiterGone(Logger, id);
                Settings.Instruments.WaiterTimedOut(id, WaiterTimeoutReason.Silent);
            }
        }

        var book = _ledger.Open(id, now);
        foreach (var grant in _ledger.Line?.TakeBackUnconfirmed(now) ?? [])
        {
            // Granted but never confirmed: the waiter's process is presumed dead, so the grant is
            // taken back (nobody would renew it) and the lock goes to the next in line.
            book.Remove(grant.Token);
            Log.GrantTakenBack(Logger, id, grant.FencingToken);
            Settings.Instruments.WaiterTimedOut(id, WaiterTimeoutReason.UnconfirmedGrant);
        }

        // A failed write reaches the schedule, which calls again later (leases are over by time
        // regardless, and the sweep is the backstop).
        await _ledger.CommitIfChangedAsync(book, "expire", id, now);
        return true;
    });

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // The line goes with the activation: its waiters no longer wait in this silo.
        Settings.Instruments.WaitingChanged(-(_ledger.Line?.Count ?? 0));
        _ledger.Line?.AnswerAll();
        Settings.OpenWaits.Remove(this);

        // The line goes with the activation (its waiters join the next one as they call again), so
        // only the stored holders' expiry stays due; the schedule's call then reactivates the lock.
        if (_ledger.IsLoaded)
        {
            TellSchedule(State.Holders.Select(h => (long?)h.ExpiresAt).Min());
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// The activation is going away: answers every open <see cref="Wait"/> call "not yet", and every
    /// later one at once; each waiter's next call reaches the next activation and joins its line.
    /// Runs on the activation's scheduler.
    /// </summary>
    internal void GoAway()
    {
        _goingAway = true;
        _ledger.Line?.AnswerAll();
    }

    /// <summary>
    /// Grants <paramref name="kind"/> now if the lock allows it and nobody waits; else null. A
    /// semaphore's request carries its count (<paramref name="maxCount"/>), agreed first.
    /// </summary>
    protected Task<LockLease?> TryAcquireAsync(LockKind kind, string? owner, string? acquireId, int? maxCount = null)
    {
        CallerInput.ValidateAttemptId(acquireId);
        var resolvedOwner = CallerInput.ResolveOwner(owner);
        return InGateAsync(async (id, now) =>
        {
            if (acquireId is not null && LeaseBook.FindLiveByAcquireId(State, acquireId, now) is { } mine)
            {
                // A retry of an acquire that was granted but whose answer was lost gets its lease back.
                return LeaseBook.ToLease(mine);
            }

            if (maxCount is { } count)
            {
                SemaphoreCount.Agree(State, count, now, CountWaiting() > 0, id);
            }

            if (!LeaseBook.CanGrantNow(State, kind, now, anyoneWaiting: CountWaiting() > 0))
            {
                return null;
            }

            var book = _ledger.Open(id, now);
            var holder = book.Grant(kind, resolvedOwner, acquireId, now);
            await _ledger.CommitAsync(book, "acquire", id, now);
            Log.Granted(Logger, id, resolvedOwner, holder.FencingToken);
            Settings.Instruments.Granted(id, kind, GrantPath.Try);
            return (LockLease?)LeaseBook.ToLease(holder);
        });
    }

    /// <summary>The state to answer a read from (read from storage on first use; reads interleave and take no gate).</summary>
    protected async Task<LockState> ReadCurrentAsync()
    {
        await _ledger.LoadAsync(EnsureValidId());
        return State;
    }

    protected long NowMs() => Settings.Time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>The lock this activation is, or the rule its key breaks (checked first by every operation).</summary>
    private LockId EnsureValidId()
    {
        if (_id.Name is null)
        {
            // Rare (the client library refuses such keys before any network call): parse again for the rule it breaks.
            LockId.Parse(GrainContext.GrainId.Key.ToString()!);
        }

        return _id;
    }

    /// <summary>
    /// Runs <paramref name="work"/> alone among this activation's changes, on the loaded state, with
    /// the lock id and the time; skipped (the result is then default) when <paramref name="skipIf"/> holds on entry.
    /// </summary>
    private async Task<T> InGateAsync<T>(Func<LockId, long, Task<T>> work, Func<bool>? skipIf = null)
    {
        var id = EnsureValidId();
        await _gate.EnterAsync();

        // Every change to the line happens in here: the silo's count of waiters moves by the difference.
        var waitingBefore = _ledger.Line?.Count ?? 0;
        try
        {
            if (skipIf?.Invoke() == true)
            {
                return default!;
            }

            await _ledger.LoadAsync(id);
            return await work(id, NowMs());
        }
        finally
        {
            // Once per change, at its end: the state and the line are as this change left them.
            ScheduleNextDue();
            if ((_ledger.Line?.Count ?? 0) - waitingBefore is var moved and not 0)
            {
                Settings.Instruments.WaitingChanged(moved);
            }

            _gate.Exit();
        }
    }

    /// <summary>
    /// Stops answering from memory: the activation is dropped and the next call re-reads. Its waiters
    /// are told "not yet"; their next call joins the line of the next activation.
    /// </summary>
    private void DropActivation()
    {
        _ledger.Line?.ForgetAll();
        _goingAway = true;
        DeactivateOnIdle();
    }

    /// <summary>
    /// Tells the schedule when this lock is next due (the first holder's expiry or the line's next
    /// deadline), unless a change holds the gate: it tells it as it leaves.
    /// </summary>
    private void Reschedule()
    {
        if (!_gate.IsTaken)
        {
            ScheduleNextDue();
        }
    }

    private void ScheduleNextDue()
    {
        // After a failed write what storage holds is unknown: the entry stays (a holder may be stored).
        if (_ledger.IsLoaded)
        {
            TellSchedule(State.Holders.Select(h => (long?)h.ExpiresAt).Append(_ledger.Line?.NextDue()).Append(LineHeldOffUntil()).Min());
        }
    }

    // While a forced release's lock-delay runs and someone waits, its end is due: the line is served then.
    private long? LineHeldOffUntil() =>
        _ledger.Line is { Count: > 0 } && NowMs() < State.NoGrantsBefore ? State.NoGrantsBefore : null;

    private LockKind KindOf(LockState state, LockHolder holder) =>
        Accepts(LockKind.Plain) ? LockKind.Plain
        : Accepts(LockKind.Semaphore) ? LockKind.Semaphore
        : state.Readers?.Contains(holder) == true ? (holder.Upgradeable ? LockKind.UpgradeableRead : LockKind.Read)
        : LockKind.Write;

    private void TellSchedule(long? due)
    {
        var dueAt = due ?? NothingDue;
        if (dueAt == _dueAt)
        {
            return;
        }

        _dueAt = dueAt;
        if (due is { } at)
        {
            Settings.Expiry.Set(GrainContext.GrainId, at);
        }
        else
        {
            Settings.Expiry.Remove(GrainContext.GrainId);
        }
    }

    void ILockLedgerOwner.OnLedgerChanged() => Reschedule();

    void ILockLedgerOwner.OnLedgerWriteFailed() => DropActivation();

    LockKind ILockLedgerOwner.WriterKind => Accepts(LockKind.Plain) ? LockKind.Plain : LockKind.Write;

    LockKind ILockLedgerOwner.SharedKind => Accepts(LockKind.Semaphore) ? LockKind.Semaphore : LockKind.Read;
}
