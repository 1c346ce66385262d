using Microsoft.Extensions.Logging;
using OrleansLocks.Grains.Storage;
using OrleansLocks.Grains.Sweep;

namespace OrleansLocks.Grains.Locking;

/// <summary>
/// What plain and read/write lock grains share: one activation of one lock, which orchestrates its
/// rules (<see cref="LeaseBook"/>), its line of waiters (<see cref="WaiterLine"/>) and its versioned
/// store (<see cref="ILockStore"/>), and owns the one timer that expires leases and serves the line.
/// </summary>
/// <remarks>
/// <para>Every change (grant, renewal, release, expiry, hand-off to waiters) is one versioned write
/// that completes before anyone is answered, so a stale duplicate activation can never grant a
/// second holder: its write fails instead, and the activation is dropped. A release or expiry hands
/// the lock to the first waiters in the same write that frees it.</para>
/// <para>Time is the silo's <see cref="TimeProvider"/>. <see cref="ILeaseGrain.Wait"/> interleaves
/// with other calls (it stays open for up to the poll interval), so every read-modify-write runs
/// inside <see cref="InGateAsync"/>.</para>
/// </remarks>
internal abstract class LeaseGrain : Grain, ILeaseGrain, ILockSweepTarget
{
    private readonly LockGrainSettings _settings;
    private readonly LockLedger _ledger;
    private readonly WaiterLine _line;
    private readonly LockId? _id;
    private readonly string? _idError;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);

    // Set when this activation has asked to be deactivated. Orleans deactivates it only once no call
    // is running, so from then on a Wait answers at once instead of opening a call that would keep
    // the activation (and every call queued behind its deactivation) waiting.
    private bool _goingAway;

    private IGrainTimer? _timer;

    protected LeaseGrain(IGrainContext context, LockGrainSettings settings, ILogger logger, string stateName)
    {
        _settings = settings;
        _logger = logger;
        _line = new WaiterLine(settings.MaxWaiters, settings.WaiterTimeoutMs);
        _ledger = new LockLedger(settings.OpenStore(context, stateName, logger), _line, settings.LeaseMs, logger, Reschedule, DropActivation);
        try
        {
            _id = LockId.Parse(context.GrainId.Key.ToString()!);
        }
        catch (ArgumentException ex)
        {
            // Refused again on every call (the client library refuses it before any network call).
            _idError = ex.Message;
        }
    }

    /// <summary>The state this activation answers from.</summary>
    protected LockState State => _ledger.Current;

    /// <summary>The line of waiters (read only by the derived grains' info).</summary>
    protected WaiterLine Line => _line;

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

            _line.ForgetUnconfirmed(token);
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

            _line.ForgetUnconfirmed(token);
            var book = _ledger.Open(id, now);
            book.Remove(token);
            await _ledger.CommitAsync(book, "release", id, now);
            Log.Released(_logger, id, holder.FencingToken);
            return true;
        });
    }

    public async Task<bool> IsStillValid(string token)
    {
        LockToken.Validate(token);
        var state = await ReadCurrentAsync();
        return LeaseBook.FindByToken(state, token) is { } holder && holder.IsLiveAt(NowMs());
    }

    public async Task<LockLease?> Wait(string waiterId, LockKind kind, string? owner = null)
    {
        CallerInput.ValidateWaiterId(waiterId);
        owner = CallerInput.ResolveOwner(owner);
        if (!Accepts(kind))
        {
            throw new ArgumentException($"This lock does not take {kind} holds: plain locks (ILockGrain) take LockKind.Plain, read/write locks (IReadWriteLockGrain) take LockKind.Read and LockKind.Write.", nameof(kind));
        }

        if (_settings.OpenWaits.IsStopping)
        {
            throw new SiloUnavailableException($"This silo is stopping; wait for lock '{_id}' again (the call is retried on the lock's next activation).");
        }

        // Going away: "not yet" at once; the caller calls again and reaches the lock's next activation.
        var (answer, call) = await InGateAsync<(LockLease?, TaskCompletionSource<LockLease?>?)>(async (id, now) =>
        {
            var (granted, waiter) = await _ledger.JoinAsync(id, now, waiterId, kind, owner);
            if (waiter is null)
            {
                return (granted, null);
            }

            _settings.OpenWaits.Add(this, TaskScheduler.Current);
            var opened = _line.OpenCall(waiter, now);
            Reschedule();
            return (null, opened);
        }, skipIf: () => _goingAway);
        if (call is null)
        {
            return answer;
        }

        try
        {
            // The call ends by its own timer, not by a grain message: a message could sit behind the
            // activation's deactivation, which itself waits for this call to end.
            return await call.Task.WaitAsync(_settings.PollInterval, _settings.Time);
        }
        catch (TimeoutException)
        {
            if (call.Task.IsCompleted)
            {
                return await call.Task;
            }

            // "Not yet": the waiter keeps its place; a grant made before its next call waits for it.
            if (_line.EndCall(waiterId, call, NowMs()))
            {
                Reschedule();
            }

            return null;
        }
    }

    public Task<bool> ConfirmGrant(string token)
    {
        LockToken.Validate(token);
        return InGateAsync((_, now) =>
        {
            _line.ForgetUnconfirmed(token);
            Reschedule();
            return Task.FromResult(LeaseBook.FindByToken(State, token) is { } holder && holder.IsLiveAt(now));
        });
    }

    public Task StopWaiting(string waiterId)
    {
        CallerInput.ValidateWaiterId(waiterId);
        return InGateAsync(async (id, now) =>
        {
            _line.Leave(waiterId, now);
            var book = _ledger.Open(id, now);
            if (LeaseBook.FindLiveByAcquireId(book.Next, waiterId, now) is { } holder)
            {
                book.Remove(holder.Token);
                Log.GrantReturned(_logger, id, holder.FencingToken);
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

        if (State.Holders.Any() || !_line.IsIdle || !_ledger.RecordExists || !(State.FreedAt + _settings.RetentionMs <= now))
        {
            return false;
        }

        // Free for longer than the retention: clear the state (the record and its version stay, so
        // no stale activation's version can ever match again). The next grant's fencing token starts
        // from the clock floor, which is beyond every token this record ever issued.
        await _ledger.ClearAsync();
        _goingAway = true;
        DeactivateOnIdle();
        return true;
    });

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _line.AnswerAll();
        _settings.OpenWaits.Remove(this);
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
        _line.AnswerAll();
    }

    /// <summary>Grants <paramref name="kind"/> now if the lock allows it and nobody waits; else null.</summary>
    protected Task<LockLease?> TryAcquireAsync(LockKind kind, string? owner, string? acquireId)
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

            if (!LeaseBook.CanGrantNow(State, kind, now, anyoneWaiting: _line.Count > 0))
            {
                return null;
            }

            var book = _ledger.Open(id, now);
            var holder = book.Grant(kind, resolvedOwner, acquireId, now);
            await _ledger.CommitAsync(book, "acquire", id, now);
            Log.Granted(_logger, id, resolvedOwner, holder.FencingToken);
            return (LockLease?)LeaseBook.ToLease(holder);
        });
    }

    /// <summary>The state to answer a read from (read from storage on first use; reads interleave and take no gate).</summary>
    protected async Task<LockState> ReadCurrentAsync()
    {
        await _ledger.LoadAsync(EnsureValidId());
        return State;
    }

    protected long NowMs() => _settings.Time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>The lock this activation is, or the rule its key breaks (checked first by every operation).</summary>
    private LockId EnsureValidId() => _id ?? throw new ArgumentException(_idError);

    /// <summary>
    /// Runs <paramref name="work"/> alone among this activation's changes, on the loaded state, with
    /// the lock id and the time; skipped (the result is then default) when <paramref name="skipIf"/> holds on entry.
    /// </summary>
    private async Task<T> InGateAsync<T>(Func<LockId, long, Task<T>> work, Func<bool>? skipIf = null)
    {
        var id = EnsureValidId();
        await _gate.WaitAsync(CancellationToken.None);
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
            _gate.Release();
        }
    }

    /// <summary>
    /// Stops answering from memory: the activation is dropped and the next call re-reads. Its waiters
    /// are told "not yet"; their next call joins the line of the next activation.
    /// </summary>
    private void DropActivation()
    {
        _line.ForgetAll();
        _goingAway = true;
        DeactivateOnIdle();
    }

    private Task OnTimerAsync(CancellationToken cancellationToken) => InGateAsync(async (id, now) =>
    {
        try
        {
            foreach (var _ in _line.ReapSilent(now))
            {
                Log.WaiterGone(_logger, id);
            }

            var book = _ledger.Open(id, now);
            foreach (var grant in _line.TakeBackUnconfirmed(now))
            {
                // Granted but never confirmed: the waiter's process is presumed dead, so the grant is
                // taken back (nobody would renew it) and the lock goes to the next in line.
                book.Remove(grant.Token);
                Log.GrantTakenBack(_logger, id, grant.FencingToken);
            }

            await _ledger.CommitIfChangedAsync(book, "expire", id, now);
        }
        catch (LockStorageException)
        {
            // Already logged; leases are over by time regardless, and the sweep retries the write.
        }

        return true;
    }, skipIf: () => !_ledger.IsLoaded);

    /// <summary>Sets the one timer to the next holder's expiry or the line's next deadline; none when nothing is due.</summary>
    private void Reschedule()
    {
        var due = State.Holders.Select(h => (long?)h.ExpiresAt).Append(_line.NextDue()).Min();
        if (due is null || !_ledger.IsLoaded)
        {
            _timer?.Dispose();
            _timer = null;
            return;
        }

        var dueIn = TimeSpan.FromMilliseconds(Math.Max(0, due.Value - NowMs()));
        if (_timer is null)
        {
            _timer = this.RegisterGrainTimer(OnTimerAsync, new GrainTimerCreationOptions(dueIn, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        }
        else
        {
            _timer.Change(dueIn, Timeout.InfiniteTimeSpan);
        }
    }
}
