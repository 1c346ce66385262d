using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.Storage;
using OrleansLocks.Grains.Hosting;
using OrleansLocks.Grains.Sweep;

namespace OrleansLocks.Grains;

/// <summary>
/// What plain and read/write lock grains share: the stored state and its versioned writes, the
/// holders' leases, the line of waiters and the one timer that expires leases and serves the line.
/// </summary>
/// <remarks>
/// <para>Every change (grant, renewal, release, expiry, hand-off to waiters) is one versioned (ETag)
/// write that completes before anyone is answered, so a stale duplicate activation can never grant a
/// second holder: its write fails instead. A release or expiry hands the lock to the first waiters in
/// the same write that frees it.</para>
/// <para>Time is the silo's <see cref="TimeProvider"/>. A holder holds while <c>now &lt; expiresAt</c>.
/// <see cref="ILeaseGrain.Wait"/> interleaves with other calls (it stays open for up to the poll
/// interval), so every read-modify-write runs under <see cref="_gate"/>.</para>
/// </remarks>
internal abstract class LeaseGrain : Grain, ILeaseGrain, ILockSweepTarget
{
    private const int MaxAcquireIdLength = 64;

    // How long a waiter that left (StopWaiting) is remembered, so that a Wait call of it still in
    // flight (delayed behind a frozen gateway, say) cannot bring it back into the line. Orleans drops
    // requests older than the caller's response timeout (30 s by default), so two minutes is ample.
    private static readonly long DepartedMemoryMs = (long)TimeSpan.FromMinutes(2).TotalMilliseconds;

    private readonly string _stateName;
    private readonly IGrainStorage _storage;

    // The storage envelope (last state read or written, with its ETag) and the state this
    // activation answers from: they differ only while a write is in flight.
    private readonly GrainState<LockState> _state = new(new LockState());
    private readonly TimeProvider _time;
    private readonly long _leaseMs;
    private readonly long _retentionMs;
    private readonly long _pollMs;
    private readonly long _waiterTimeoutMs;
    private readonly int _maxWaiters;
    private readonly LockId? _id;
    private readonly string? _idError;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly LinkedList<Waiter> _line = new();
    private readonly OpenWaitRegistry _openWaits;

    // Waiters by id: those in line and those granted but not yet confirmed.
    private readonly Dictionary<string, Waiter> _waiters = new(StringComparer.Ordinal);

    // Waiters that left the line by StopWaiting, with when they left (created on first use: most
    // locks never see one, and memory per held lock counts).
    private DepartedWaiters? _departed;
    private LockState _current = new();
    private Task? _loading;
    private bool _loaded;

    // Set when this activation has asked to be deactivated. Orleans deactivates it only once no call
    // is running, so from then on a Wait answers at once instead of opening a call that would keep
    // the activation (and every call queued behind its deactivation) waiting.
    private bool _goingAway;

    private IGrainTimer? _timer;

    protected LeaseGrain(
        IGrainContext context,
        TimeProvider time,
        IOptions<LockLeaseOptions> lease,
        IOptions<LockStorageOptions> storage,
        IOptions<LockWaitOptions> wait,
        ILogger logger,
        string stateName)
    {
        // The storage is called directly, not through IPersistentState, so that reading the state is
        // part of the first call (whose failure we can report as LockStorageException) rather than of
        // activation (whose failure would reach the caller as the driver's unserializable exception).
        _storage = context.ActivationServices.GetRequiredKeyedService<IGrainStorage>(storage.Value.StorageProviderName);
        _stateName = stateName;
        _time = time;
        _leaseMs = (long)lease.Value.LeaseTimeout.TotalMilliseconds;
        _retentionMs = (long)storage.Value.FreeRowRetention.TotalMilliseconds;
        _pollMs = (long)wait.Value.PollInterval.TotalMilliseconds;
        _waiterTimeoutMs = (long)wait.Value.WaiterTimeout.TotalMilliseconds;
        _maxWaiters = wait.Value.MaxWaiters;
        _openWaits = context.ActivationServices.GetRequiredService<OpenWaitRegistry>();
        Logger = logger;
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

    protected ILogger Logger { get; }

    /// <summary>The state this activation answers from.</summary>
    protected LockState Current => _current;

    /// <summary>How many wait in line.</summary>
    protected int WaitingCount => _line.Count;

    /// <summary>How many wait in line for <paramref name="kind"/>.</summary>
    protected int CountWaiting(LockKind kind) => _line.Count(w => w.Kind == kind);

    /// <summary>Whether this lock type takes <paramref name="kind"/> (plain locks: Plain; read/write locks: Read and Write).</summary>
    protected abstract bool Accepts(LockKind kind);

    public async Task<LockLease?> Renew(string token)
    {
        LockToken.Validate(token);
        await _gate.WaitAsync();
        try
        {
            var id = await LoadAsync();
            var now = NowMs();
            if (FindHolder(_current, token) is not { } holder || !holder.IsLiveAt(now))
            {
                return null;
            }

            ForgetUnconfirmed(token);
            var next = WithoutExpired(_current, now, id);
            var renewed = holder with { LastRenewedAt = now, ExpiresAt = now + _leaseMs };
            Replace(next, token, renewed);
            await CommitAsync(next, "renew", id, now);
            return ToLease(renewed);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<bool> Release(string token)
    {
        LockToken.Validate(token);
        await _gate.WaitAsync();
        try
        {
            var id = await LoadAsync();
            if (FindHolder(_current, token) is not { } holder)
            {
                return false;
            }

            var now = NowMs();
            ForgetUnconfirmed(token);
            var next = WithoutExpired(_current, now, id);
            Replace(next, token, null);
            await CommitAsync(next, "release", id, now);

            Log.Released(Logger, id, holder.FencingToken);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<bool> IsStillValid(string token)
    {
        LockToken.Validate(token);
        await LoadAsync();
        return FindHolder(_current, token) is { } holder && holder.IsLiveAt(NowMs());
    }

    public async Task<LockLease?> Wait(string waiterId, LockKind kind, string? owner = null)
    {
        ValidateWaiterId(waiterId);
        owner = ResolveOwner(owner);
        if (!Accepts(kind))
        {
            throw new ArgumentException($"This lock does not take {kind} holds: plain locks (ILockGrain) take LockKind.Plain, read/write locks (IReadWriteLockGrain) take LockKind.Read and LockKind.Write.", nameof(kind));
        }

        if (_openWaits.IsStopping)
        {
            throw new SiloUnavailableException($"This silo is stopping; wait for lock '{_id}' again (the call is retried on the lock's next activation).");
        }

        TaskCompletionSource<LockLease?> call;
        await _gate.WaitAsync();
        try
        {
            if (_goingAway)
            {
                // The caller calls again and reaches the lock's next activation.
                return null;
            }

            var id = await LoadAsync();
            var now = NowMs();
            if (_departed?.Contains(waiterId, now) == true)
            {
                // A call that was overtaken by its own StopWaiting: the waiter gave up, so it must
                // not join the line again (it would be handed a lock nobody confirms).
                throw new InvalidOperationException(
                    $"Waiter id '{waiterId}' left the line of lock '{id}' (StopWaiting); a waiter that left cannot come back. Wait again with a new waiter id.");
            }

            if (_waiters.TryGetValue(waiterId, out var waiter))
            {
                if (waiter.Kind != kind)
                {
                    throw new ArgumentException($"Waiter id '{waiterId}' already waits for a {waiter.Kind} hold on lock '{id}'; use a new id per wait.", nameof(waiterId));
                }

                if (waiter.Grant is { } granted)
                {
                    return granted;
                }

                // A newer call of the same waiter (e.g. after a response timeout) replaces the old one.
                waiter.Answer(null);
            }
            else
            {
                if (FindByAcquireId(_current, waiterId, now) is { } holder)
                {
                    // Granted earlier (by a previous activation, or its answer was lost): same lease.
                    return ToLease(holder);
                }

                if (_line.Count >= _maxWaiters)
                {
                    throw new InvalidOperationException(
                        $"Lock '{id}' already has {_line.Count} waiters, the most LockWaitOptions.MaxWaiters allows; nothing was queued. Try again later.");
                }

                waiter = new Waiter(waiterId, kind, owner);
                waiter.Node = _line.AddLast(waiter);
                _waiters.Add(waiterId, waiter);
                if (ReferenceEquals(_line.First, waiter.Node) && CanGrant(_current, kind, now, fromLine: true))
                {
                    try
                    {
                        await CommitAsync(WithoutExpired(_current, now, id), "acquire", id, now);
                    }
                    catch (LockStorageException)
                    {
                        // Nothing was granted and nothing stays queued for a call that failed.
                        Forget(waiter);
                        throw;
                    }

                    if (waiter.Grant is { } grant)
                    {
                        return grant;
                    }
                }
            }

            _openWaits.Add(this, TaskScheduler.Current);
            waiter.Call = call = new TaskCompletionSource<LockLease?>(TaskCreationOptions.RunContinuationsAsynchronously);
            waiter.LastSeenAt = now;
            Reschedule();
        }
        finally
        {
            _gate.Release();
        }

        try
        {
            // The call ends by its own timer, not by a grain message: a message could sit behind the
            // activation's deactivation, which itself waits for this call to end.
            return await call.Task.WaitAsync(TimeSpan.FromMilliseconds(_pollMs), _time);
        }
        catch (TimeoutException)
        {
            if (call.Task.IsCompleted)
            {
                return await call.Task;
            }

            // "Not yet": the waiter keeps its place; a grant made before its next call waits for it.
            if (_waiters.TryGetValue(waiterId, out var waiter) && ReferenceEquals(waiter.Call, call))
            {
                waiter.Call = null;
                waiter.LastSeenAt = NowMs();
                Reschedule();
            }

            return null;
        }
    }

    public async Task<bool> ConfirmGrant(string token)
    {
        LockToken.Validate(token);
        await _gate.WaitAsync();
        try
        {
            await LoadAsync();
            ForgetUnconfirmed(token);
            Reschedule();
            return FindHolder(_current, token) is { } holder && holder.IsLiveAt(NowMs());
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task StopWaiting(string waiterId)
    {
        ValidateWaiterId(waiterId);
        await _gate.WaitAsync();
        try
        {
            var id = await LoadAsync();
            var now = NowMs();
            if (_waiters.TryGetValue(waiterId, out var waiter))
            {
                Forget(waiter);
            }

            (_departed ??= new DepartedWaiters(DepartedMemoryMs, _maxWaiters)).Add(waiterId, now);

            var next = WithoutExpired(_current, now, id);
            if (FindByAcquireId(next, waiterId, now) is { } holder)
            {
                Replace(next, holder.Token, null);
                Log.GrantReturned(Logger, id, holder.FencingToken);
            }

            await CommitIfChangedAsync(next, "release", id, now);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<bool> Sweep()
    {
        await _gate.WaitAsync();
        try
        {
            var id = await LoadAsync();
            var now = NowMs();
            var current = _current;
            if (current.Holders.Any(h => !h.IsLiveAt(now)))
            {
                await CommitAsync(WithoutExpired(current, now, id), "expire", id, now);
                return true;
            }

            if (!current.Holders.Any() && _waiters.Count == 0 && _state.RecordExists && current.FreedAt + _retentionMs <= now)
            {
                // Free for longer than the retention: clear the state (the row and its version stay, so
                // no stale activation's ETag can ever match again). The next grant's fencing token
                // starts from the clock floor, which is beyond every token this row ever issued.
                await ClearAsync(id);
                _goingAway = true;
                DeactivateOnIdle();
                return true;
            }

            return false;
        }
        finally
        {
            _gate.Release();
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        AnswerOpenCalls();
        _openWaits.Remove(this);
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
        AnswerOpenCalls();
    }

    private void AnswerOpenCalls()
    {
        foreach (var waiter in _waiters.Values)
        {
            waiter.Answer(null);
        }
    }

    /// <summary>Grants <paramref name="kind"/> now if the lock allows it and nobody waits; else null.</summary>
    protected async Task<LockLease?> TryAcquireAsync(LockKind kind, string? owner, string? acquireId)
    {
        if (acquireId is not null)
        {
            ValidateCallerId(acquireId, "An attempt id", nameof(acquireId));
        }

        owner = ResolveOwner(owner);
        await _gate.WaitAsync();
        try
        {
            var id = await LoadAsync();
            var now = NowMs();
            if (acquireId is not null && FindByAcquireId(_current, acquireId, now) is { } mine)
            {
                // A retry of an acquire that was granted but whose answer was lost gets its lease back.
                return ToLease(mine);
            }

            if (!CanGrant(_current, kind, now, fromLine: false))
            {
                return null;
            }

            var next = WithoutExpired(_current, now, id);
            var holder = AddHolder(next, kind, owner, acquireId, now);
            await CommitAsync(next, "acquire", id, now);
            Log.Granted(Logger, id, owner, holder.FencingToken);
            return ToLease(holder);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Loads the state if this activation has not yet (or must re-read it after a failed write).</summary>
    protected async Task<LockId> LoadAsync()
    {
        if (_id is not { } id)
        {
            throw new ArgumentException(_idError);
        }

        if (!_loaded)
        {
            // Concurrent first calls (reads interleave) share one read.
            var loading = _loading ??= ReadAsync(id);
            try
            {
                await loading;
            }
            finally
            {
                if (ReferenceEquals(_loading, loading))
                {
                    _loading = null;
                }
            }
        }

        return id;
    }

    protected long NowMs() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    protected static LockInfo ToInfo(LockHolder h, int waiting) =>
        new(h.Owner, h.FencingToken, FromMs(h.AcquiredAt), FromMs(h.LastRenewedAt), FromMs(h.ExpiresAt), waiting);

    private async Task ReadAsync(LockId id)
    {
        try
        {
            await _storage.ReadStateAsync(_stateName, GrainContext.GrainId, _state);
        }
        catch (Exception ex)
        {
            Log.StorageFailed(Logger, ex, "read", id);
            throw new LockStorageException(
                $"Could not read lock '{id}' from storage ({ex.GetType().Name}: {ex.Message}); nothing was changed.");
        }

        _current = _state.State ?? new LockState();
        _current.Name = id.Name;
        _current.Key = id.Key;
        _loaded = true;
        Reschedule();
    }

    /// <summary>
    /// Whether a new <paramref name="kind"/> hold fits beside the live holders of <paramref name="s"/>.
    /// Callers from outside the line also need the line to be empty: nobody jumps the queue, and a
    /// waiting writer keeps new readers out (writer preference).
    /// </summary>
    private bool CanGrant(LockState s, LockKind kind, long now, bool fromLine)
    {
        if (!fromLine && _line.Count > 0)
        {
            return false;
        }

        if (s.Writer is { } writer && writer.IsLiveAt(now))
        {
            return false;
        }

        var readers = s.Readers?.Count(r => r.IsLiveAt(now)) ?? 0;
        return kind == LockKind.Read ? readers < IReadWriteLockGrain.MaxReaders : readers == 0;
    }

    /// <summary>A copy of <paramref name="s"/> without the holders whose lease ran out.</summary>
    private LockState WithoutExpired(LockState s, long now, LockId id)
    {
        var next = s.Clone();
        if (next.Writer is { } writer && !writer.IsLiveAt(now))
        {
            Log.Expired(Logger, id, writer.FencingToken);
            ForgetUnconfirmed(writer.Token);
            next.Writer = null;
        }

        if (next.Readers is { } readers)
        {
            foreach (var reader in readers.Where(r => !r.IsLiveAt(now)))
            {
                Log.Expired(Logger, id, reader.FencingToken);
                ForgetUnconfirmed(reader.Token);
            }

            readers.RemoveAll(r => !r.IsLiveAt(now));
        }

        return next;
    }

    private LockHolder AddHolder(LockState next, LockKind kind, string owner, string? acquireId, long now)
    {
        var holder = new LockHolder(LockToken.New(), owner, now, now, now + _leaseMs, NextFencingToken(next, now), acquireId);
        next.FencingToken = holder.FencingToken;
        if (kind == LockKind.Read)
        {
            (next.Readers ??= []).Add(holder);
        }
        else
        {
            next.Writer = holder;
        }

        return holder;
    }

    /// <summary>Writes <paramref name="next"/> if it differs from the current state, else just serves the line.</summary>
    private Task CommitIfChangedAsync(LockState next, string operation, LockId id, long now)
    {
        var changed = !next.Holders.SequenceEqual(_current.Holders);
        if (changed || (_line.First is { } first && CanGrant(next, first.Value.Kind, now, fromLine: true)))
        {
            return CommitAsync(next, operation, id, now);
        }

        Reschedule();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Serves the line (the first waiters that fit get their grant in <paramref name="next"/>), writes
    /// it, and only then answers those waiters. A failed write changes nothing and answers nobody.
    /// </summary>
    private async Task CommitAsync(LockState next, string operation, LockId id, long now)
    {
        var grants = new List<(Waiter Waiter, LockHolder Holder)>();
        for (var node = _line.First; node is not null && CanGrant(next, node.Value.Kind, now, fromLine: true); node = node.Next)
        {
            var waiter = node.Value;
            grants.Add((waiter, AddHolder(next, waiter.Kind, waiter.Owner, waiter.Id, now)));
        }

        StampFreedAt(next, now);
        try
        {
            await WriteAsync(next, operation, id);
        }
        finally
        {
            Reschedule();
        }

        foreach (var (waiter, holder) in grants)
        {
            _line.Remove(waiter.Node!);
            waiter.Node = null;
            waiter.Grant = ToLease(holder);
            waiter.ConfirmBy = now + _waiterTimeoutMs;
            waiter.Answer(waiter.Grant);
            Log.Granted(Logger, id, holder.Owner, holder.FencingToken);
        }

        Reschedule();
    }

    /// <summary>When a lock becomes free, it records since when; a held lock has no such time.</summary>
    private void StampFreedAt(LockState next, long now)
    {
        if (next.Holders.Any())
        {
            next.FreedAt = null;
        }
        else if (_current.Holders.Any() || next.FreedAt is null)
        {
            next.FreedAt = now;
        }
    }

    private async Task WriteAsync(LockState next, string operation, LockId id)
    {
        _state.State = next;
        try
        {
            await _storage.WriteStateAsync(_stateName, GrainContext.GrainId, _state);
        }
        catch (Exception ex)
        {
            throw StorageFailure(ex, operation, id);
        }

        _current = next;
    }

    private async Task ClearAsync(LockId id)
    {
        try
        {
            await _storage.ClearStateAsync(_stateName, GrainContext.GrainId, _state);
        }
        catch (Exception ex)
        {
            throw StorageFailure(ex, "clear", id);
        }
    }

    private LockStorageException StorageFailure(Exception ex, string operation, LockId id)
    {
        // What storage now holds is unknown (the write may have committed before the error), so
        // this activation stops answering from memory: it is dropped and the next call re-reads.
        // Its waiters are told "not yet"; their next call joins the line of the next activation.
        _state.State = _current;
        _loaded = false;
        foreach (var waiter in _waiters.Values.ToList())
        {
            Forget(waiter);
        }

        _goingAway = true;
        DeactivateOnIdle();
        if (ex is InconsistentStateException)
        {
            Log.VersionConflict(Logger, operation, id);
            return new LockStorageException(
                $"The {operation} of lock '{id}' was refused: its stored version changed under this activation (another activation wrote it). Nothing was changed; retrying reaches a fresh activation.",
                isVersionConflict: true);
        }

        Log.StorageFailed(Logger, ex, operation, id);
        return new LockStorageException(
            $"The {operation} of lock '{id}' failed in storage ({ex.GetType().Name}: {ex.Message}) and was not acknowledged: treat it as not done. Retrying is safe.");
    }

    private async Task OnTimerAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            if (!_loaded || _id is not { } id)
            {
                return;
            }

            var now = NowMs();
            foreach (var waiter in _waiters.Values.ToList())
            {
                if (waiter.Call is null && waiter.Grant is null && waiter.LastSeenAt + _waiterTimeoutMs <= now)
                {
                    Log.WaiterGone(Logger, id);
                    Forget(waiter);
                }
            }

            var next = WithoutExpired(_current, now, id);
            foreach (var waiter in _waiters.Values.Where(w => w.Grant is not null && w.ConfirmBy <= now).ToList())
            {
                // Granted but never confirmed: the waiter's process is presumed dead, so the grant is
                // taken back (nobody would renew it) and the lock goes to the next in line.
                Replace(next, waiter.Grant!.Token, null);
                Log.GrantTakenBack(Logger, id, waiter.Grant.FencingToken);
                Forget(waiter);
            }

            await CommitIfChangedAsync(next, "expire", id, now);
        }
        catch (LockStorageException)
        {
            // Already logged; leases are over by time regardless, and the sweep retries the write.
        }
        finally
        {
            _gate.Release();
        }
    }

    private void Reschedule()
    {
        long? due = null;
        void Consider(long at) => due = due is { } d ? Math.Min(d, at) : at;

        foreach (var holder in _current.Holders)
        {
            Consider(holder.ExpiresAt);
        }

        foreach (var waiter in _waiters.Values)
        {
            if (waiter.Grant is not null)
            {
                Consider(waiter.ConfirmBy);
            }
            else if (waiter.Call is null)
            {
                Consider(waiter.LastSeenAt + _waiterTimeoutMs);
            }
        }

        if (due is null || !_loaded)
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

    /// <summary>Removes a waiter from the line and the books, answering its open call "not yet".</summary>
    private void Forget(Waiter waiter)
    {
        if (waiter.Node is not null)
        {
            _line.Remove(waiter.Node);
            waiter.Node = null;
        }

        waiter.Answer(null);
        _waiters.Remove(waiter.Id);
    }

    private void ForgetUnconfirmed(string token)
    {
        foreach (var waiter in _waiters.Values)
        {
            if (waiter.Grant is { } grant && grant.Token == token)
            {
                _waiters.Remove(waiter.Id);
                return;
            }
        }
    }

    private static LockHolder? FindHolder(LockState s, string token) =>
        s.Holders.FirstOrDefault(h => LockToken.Matches(h.Token, token));

    private static LockHolder? FindByAcquireId(LockState s, string acquireId, long now) =>
        s.Holders.FirstOrDefault(h => h.AcquireId == acquireId && h.IsLiveAt(now));

    /// <summary>Replaces (or with null removes) the holder of <paramref name="token"/> in <paramref name="next"/>.</summary>
    private static void Replace(LockState next, string token, LockHolder? replacement)
    {
        if (next.Writer is { } writer && writer.Token == token)
        {
            next.Writer = replacement;
            return;
        }

        if (next.Readers is { } readers)
        {
            var index = readers.FindIndex(r => r.Token == token);
            if (index >= 0)
            {
                if (replacement is null)
                {
                    readers.RemoveAt(index);
                }
                else
                {
                    readers[index] = replacement;
                }
            }
        }
    }

    private long NextFencingToken(LockState next, long now)
    {
        // With a stored state, +1. Without one (never used, or cleared after FreeRowRetention),
        // start from the clock in microseconds: past every token the cleared state could have issued.
        var floor = now * 1000;
        return _state.RecordExists ? next.FencingToken + 1 : Math.Max(next.FencingToken + 1, floor);
    }

    private static string ResolveOwner(string? owner)
    {
        owner ??= RequestContext.Get(LockRequestContext.OwnerKey) as string ?? LockOwner.Unknown;
        LockOwner.Validate(owner);
        return owner;
    }

    private static void ValidateWaiterId(string waiterId) => ValidateCallerId(waiterId, "A waiter id", nameof(waiterId));

    // Waiter ids and attempt ids follow one rule: they are stored in the state and compared as given.
    private static void ValidateCallerId(string value, string what, string parameter)
    {
        ArgumentNullException.ThrowIfNull(value, parameter);
        if (value.Length is 0 or > MaxAcquireIdLength || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            throw new ArgumentException($"{what} must be 1 to {MaxAcquireIdLength} characters from [A-Za-z0-9_-].", parameter);
        }
    }

    private static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static LockLease ToLease(LockHolder h) =>
        new(h.Token, h.FencingToken, h.Owner, FromMs(h.AcquiredAt), FromMs(h.LastRenewedAt), FromMs(h.ExpiresAt));
}
