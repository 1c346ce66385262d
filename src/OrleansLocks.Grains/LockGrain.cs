using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.Storage;
using OrleansLocks.Grains.Sweep;

namespace OrleansLocks.Grains;

/// <summary>
/// One lock. Its state mirrors Synapse's <c>worker_locks</c> row plus a fencing counter; every
/// grant, renewal and release is a versioned (ETag) write that completes before the answer, so a
/// stale duplicate activation can never grant a second holder: its write fails instead.
/// </summary>
/// <remarks>
/// Time is the silo's <see cref="TimeProvider"/>. A lock is HELD while it has a token and
/// <c>now &lt; expiresAt</c>. A grain timer frees the lock at its expiry instant; the reminder-driven
/// sweep (<see cref="LockSweeperGrain"/>) frees rows that expired while no activation existed.
/// </remarks>
[GrainType(GrainTypeName)]
internal sealed class LockGrain : Grain, ILockGrain, ILockSweepTarget
{
    /// <summary>Pinned grain type: grain ids, reminders and logs carry it, so it never changes.</summary>
    public const string GrainTypeName = "orleanslocks.lock";

    /// <summary>
    /// Pinned state name. Stored rows are keyed by service id, state name and grain key (not the grain
    /// type), so the name is distinctive and never changes.
    /// </summary>
    public const string StateName = "orleanslocks.lock";

    private const int MaxAcquireIdLength = 64;

    private readonly IGrainStorage _storage;

    // The storage envelope (last state read or written, with its ETag) and the state this
    // activation answers from: they differ only while a write is in flight.
    private readonly GrainState<LockState> _state = new(new LockState());
    private readonly TimeProvider _time;
    private readonly long _leaseMs;
    private readonly long _retentionMs;
    private readonly ILogger _logger;
    private readonly LockId? _id;
    private readonly string? _idError;
    private LockState _current = new();
    private bool _loaded;
    private IGrainTimer? _expiryTimer;

    public LockGrain(
        IGrainContext context,
        TimeProvider time,
        IOptions<LockLeaseOptions> lease,
        IOptions<LockStorageOptions> storage,
        ILogger<LockGrain> logger)
    {
        // The storage is called directly, not through IPersistentState, so that reading the state is
        // part of the first call (whose failure we can report as LockStorageException) rather than of
        // activation (whose failure would reach the caller as the driver's unserializable exception).
        _storage = context.ActivationServices.GetRequiredKeyedService<IGrainStorage>(storage.Value.StorageProviderName);
        _time = time;
        _leaseMs = (long)lease.Value.LeaseTimeout.TotalMilliseconds;
        _retentionMs = (long)storage.Value.FreeRowRetention.TotalMilliseconds;
        _logger = logger;
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

    public async Task<LockLease?> TryAcquire(string? owner = null)
    {
        owner ??= RequestContext.Get(LockRequestContext.OwnerKey) as string ?? LockOwner.Unknown;
        LockOwner.Validate(owner);
        var id = await LoadAsync();
        var acquireId = RequestContext.Get(LockRequestContext.AcquireIdKey) is string { Length: > 0 and <= MaxAcquireIdLength } a ? a : null;
        var now = NowMs();
        var current = _current;
        if (IsHeld(current, now))
        {
            // A retry of an acquire that was granted but whose answer was lost gets its lease back.
            return acquireId is not null && acquireId == current.AcquireId ? ToLease(current) : null;
        }

        var next = current.Clone();
        next.Token = LockToken.New();
        next.Owner = owner;
        next.AcquiredAt = now;
        next.LastRenewedAt = now;
        next.ExpiresAt = now + _leaseMs;
        next.FreedAt = null;
        next.AcquireId = acquireId;
        next.FencingToken = NextFencingToken(current, now);
        await WriteAsync(next, "acquire", id);
        ScheduleExpiry();
        Log.Granted(_logger, id, owner, next.FencingToken);
        return ToLease(next);
    }

    public async Task<LockLease?> Renew(string token)
    {
        LockToken.Validate(token);
        var id = await LoadAsync();
        var now = NowMs();
        var current = _current;
        if (!IsHeld(current, now) || !LockToken.Matches(current.Token, token))
        {
            return null;
        }

        var next = current.Clone();
        next.LastRenewedAt = now;
        next.ExpiresAt = now + _leaseMs;
        await WriteAsync(next, "renew", id);
        ScheduleExpiry();
        return ToLease(next);
    }

    public async Task<bool> Release(string token)
    {
        LockToken.Validate(token);
        var id = await LoadAsync();
        var current = _current;
        if (!LockToken.Matches(current.Token, token))
        {
            return false;
        }

        await WriteAsync(Freed(current, NowMs()), "release", id);
        ScheduleExpiry();
        Log.Released(_logger, id, current.FencingToken);
        return true;
    }

    public async Task<bool> IsStillValid(string token)
    {
        LockToken.Validate(token);
        await LoadAsync();
        var current = _current;
        return IsHeld(current, NowMs()) && LockToken.Matches(current.Token, token);
    }

    public async Task<LockInfo?> GetInfo()
    {
        await LoadAsync();
        var s = _current;
        if (!IsHeld(s, NowMs()))
        {
            return null;
        }

        return new LockInfo(s.Owner!, s.FencingToken, FromMs(s.AcquiredAt), FromMs(s.LastRenewedAt), FromMs(s.ExpiresAt));
    }

    public async Task<bool> Sweep()
    {
        var id = await LoadAsync();
        var now = NowMs();
        var current = _current;
        if (current.Token is not null && !IsHeld(current, now))
        {
            await WriteAsync(Freed(current, now), "expire", id);
            Log.Expired(_logger, id, current.FencingToken);
            return true;
        }

        if (current.Token is null && _state.RecordExists && current.FreedAt + _retentionMs <= now)
        {
            // Free for longer than the retention: clear the state (the row and its version stay, so
            // no stale activation's ETag can ever match again). The next grant's fencing token
            // starts from the clock floor, which is beyond every token this row ever issued.
            await ClearAsync(id);
            DeactivateOnIdle();
            return true;
        }

        return false;
    }

    private async Task OnExpiryDueAsync(CancellationToken cancellationToken)
    {
        var current = _current;
        if (current.Token is null || _id is not { } id)
        {
            return;
        }

        var now = NowMs();
        if (IsHeld(current, now))
        {
            ScheduleExpiry();
            return;
        }

        try
        {
            await WriteAsync(Freed(current, now), "expire", id);
            Log.Expired(_logger, id, current.FencingToken);
        }
        catch (LockStorageException)
        {
            // Already logged; the lock is free by time regardless, and the sweep retries the write.
        }
    }

    private async Task<LockId> LoadAsync()
    {
        if (_id is not { } id)
        {
            throw new ArgumentException(_idError);
        }

        if (!_loaded)
        {
            try
            {
                await _storage.ReadStateAsync(StateName, GrainContext.GrainId, _state);
            }
            catch (Exception ex)
            {
                Log.StorageFailed(_logger, ex, "read", id);
                throw new LockStorageException(
                    $"Could not read lock '{id}' from storage ({ex.GetType().Name}: {ex.Message}); nothing was changed.");
            }

            _loaded = true;
            _current = _state.State ?? new LockState();
            _current.Name = id.Name;
            _current.Key = id.Key;
            ScheduleExpiry();
        }

        return id;
    }

    private async Task WriteAsync(LockState next, string operation, LockId id)
    {
        _state.State = next;
        try
        {
            await _storage.WriteStateAsync(StateName, GrainContext.GrainId, _state);
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
            await _storage.ClearStateAsync(StateName, GrainContext.GrainId, _state);
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
        _state.State = _current;
        _loaded = false;
        DeactivateOnIdle();
        if (ex is InconsistentStateException)
        {
            Log.VersionConflict(_logger, operation, id);
            return new LockStorageException(
                $"The {operation} of lock '{id}' was refused: its stored version changed under this activation (another activation wrote it). Nothing was changed; retrying reaches a fresh activation.",
                isVersionConflict: true);
        }

        Log.StorageFailed(_logger, ex, operation, id);
        return new LockStorageException(
            $"The {operation} of lock '{id}' failed in storage ({ex.GetType().Name}: {ex.Message}) and was not acknowledged: treat it as not done. Retrying is safe.");
    }

    private void ScheduleExpiry()
    {
        var expiresAt = _current is { Token: not null, ExpiresAt: { } e } ? e : (long?)null;
        if (expiresAt is null)
        {
            _expiryTimer?.Dispose();
            _expiryTimer = null;
            return;
        }

        var due = TimeSpan.FromMilliseconds(Math.Max(0, expiresAt.Value - NowMs()));
        if (_expiryTimer is null)
        {
            _expiryTimer = this.RegisterGrainTimer(
                OnExpiryDueAsync,
                new GrainTimerCreationOptions(due, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        }
        else
        {
            _expiryTimer.Change(due, Timeout.InfiniteTimeSpan);
        }
    }

    private static LockState Freed(LockState current, long now)
    {
        var next = current.Clone();
        next.Token = null;
        next.Owner = null;
        next.AcquiredAt = null;
        next.LastRenewedAt = null;
        next.ExpiresAt = null;
        next.AcquireId = null;
        next.FreedAt = now;
        return next;
    }

    private long NextFencingToken(LockState current, long now)
    {
        // With a stored state, +1. Without one (never used, or cleared after FreeRowRetention),
        // start from the clock in microseconds: past every token the cleared state could have issued.
        var floor = now * 1000;
        return _state.RecordExists ? current.FencingToken + 1 : Math.Max(current.FencingToken + 1, floor);
    }

    private long NowMs() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static bool IsHeld(LockState s, long now) => s.Token is not null && now < s.ExpiresAt;

    private static DateTimeOffset FromMs(long? ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms ?? 0);

    private static LockLease ToLease(LockState s) =>
        new(s.Token!, s.FencingToken, s.Owner!, FromMs(s.AcquiredAt), FromMs(s.LastRenewedAt), FromMs(s.ExpiresAt));
}
