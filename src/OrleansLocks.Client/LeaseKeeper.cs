using Microsoft.Extensions.Logging;
using OrleansLocks.Client.Diagnostics;

namespace OrleansLocks.Client;

/// <summary>
/// Keeps one lease alive for a <see cref="LockHandle"/>: renews it on a <see cref="TimeProvider"/>
/// timer, cancels the lost token when the lease is gone, and releases it. It never references its
/// handle, so a handle dropped without release can be collected; its finalizer then abandons this.
/// </summary>
internal sealed partial class LeaseKeeper : IHeldLease
{
    private const int Active = 0;
    private const int Released = 1;
    private const int Abandoned = 2;
    private const int Lost = 3;

    private readonly ILeaseGrain _grain;
    private readonly TimeProvider _time;
    private readonly TransientFaultPolicy _retry;
    private readonly LockClientInstruments _instruments;
    private readonly ILogger _logger;
    private readonly Action<LeaseKeeper> _onEnded;
    private readonly TimeSpan _renewalInterval;

    // Taken off every lease: a silo clock ahead by less than this cannot end the lease before this
    // handle does (LockClientOptions.ClockSkewAllowance, cut to a third of a shorter granted lease).
    private readonly TimeSpan _skewAllowance;
    private readonly CancellationTokenSource _lost = new();
    private readonly ITimer _renewalTimer;
    private readonly ITimer _deadlineTimer;
    private readonly Lock _gate = new();

    // When the acquire was sent (a TimeProvider timestamp): the hold's duration counts from there.
    private readonly long _heldSince;
    private LockLease _lease;
    // A TimeProvider timestamp (monotonic): a wall-clock jump on this machine cannot move it.
    private long _deadline;
    private int _state;
    private int _renewing;

    // A LockKind: an upgradeable read becomes a write when upgraded.
    private int _kind;

    public LeaseKeeper(
        LockId id,
        LockKind kind,
        ILeaseGrain grain,
        LockLease lease,
        long sentAt,
        TimeSpan renewalInterval,
        TimeSpan clockSkewAllowance,
        TimeProvider time,
        TransientFaultPolicy retry,
        LockClientInstruments instruments,
        ILogger logger,
        Action<LeaseKeeper> onEnded)
    {
        Id = id;
        _kind = (int)kind;
        _grain = grain;
        _lease = lease;
        _heldSince = sentAt;
        _time = time;
        _retry = retry;
        _instruments = instruments;
        _logger = logger;
        _onEnded = onEnded;

        // Renew at least three times per lease as this handle counts it (the allowance taken off),
        // whatever the configured interval says, so one slow renewal never costs the lease.
        _skewAllowance = clockSkewAllowance;
        _renewalInterval = TimeSpan.FromTicks(Math.Min(renewalInterval.Ticks, LocalLease(lease.Duration).Ticks / 3));
        _deadline = After(sentAt, LocalLease(lease.Duration));

        // Created stopped: Start runs them once the keeper is registered, so that a deadline already
        // past on arrival (a grant answered late in a long wait call) finds everything in place.
        _renewalTimer = time.CreateTimer(static s => ((LeaseKeeper)s!).OnRenewalDue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _deadlineTimer = time.CreateTimer(static s => ((LeaseKeeper)s!).OnDeadline(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// Starts renewing and watching the deadline. With little of the lease left on arrival, the
    /// first renewal comes early rather than after a full interval; with none left, the lease is
    /// lost at once.
    /// </summary>
    public void Start()
    {
        // Not under the gate: a timer that is due at once may run its callback inside Change.
        var firstRenewal = TimeSpan.FromTicks(Math.Min(_renewalInterval.Ticks, Due(_deadline).Ticks / 3));
        _renewalTimer.Change(firstRenewal, _renewalInterval);
        _deadlineTimer.Change(Due(_deadline), Timeout.InfiniteTimeSpan);
    }

    public LockId Id { get; }

    public LockKind Kind => (LockKind)Volatile.Read(ref _kind);

    public LockLease Lease => Volatile.Read(ref _lease);

    public CancellationToken LostToken => _lost.Token;

    /// <summary>Whether the lease ended lost (refused or past its deadline), as <see cref="HeldLocks"/> learns when it ends.</summary>
    public bool EndedLost => Volatile.Read(ref _state) == Lost;

    /// <summary>
    /// Asks the lock, unless this handle already counts its lease as lost or past its own deadline:
    /// then the answer is false without a call, whatever a silo with a slower clock would say.
    /// </summary>
    public Task<bool> IsStillValidAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _state) == Lost || _time.GetTimestamp() >= Volatile.Read(ref _deadline))
        {
            return Task.FromResult(false);
        }

        return _retry.RunAsync("check", Id, () => _grain.IsStillValid(Lease.Token), cancellationToken);
    }

    /// <summary>Stops renewing and releases the lock. Idempotent: only the first call talks to the grain.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        var before = Interlocked.Exchange(ref _state, Released);
        if (before is Released or Abandoned)
        {
            return;
        }

        Stop();
        if (before == Active)
        {
            _instruments.HoldEnded(Id, Kind, _heldSince, HoldEnd.Released);
        }

        var span = LockClientInstruments.StartLeaseCall("orleanslocks.release", Id, Kind, Lease.FencingToken);
        try
        {
            var released = await _retry.RunAsync("release", Id, () => _grain.Release(Lease.Token), cancellationToken).ConfigureAwait(false);
            LockClientInstruments.EndLeaseCall(span, released ? "released" : "not_held");
        }
        catch (Exception ex)
        {
            LockClientInstruments.EndLeaseCall(span, "error", ex);
            throw;
        }

        Log.Released(_logger, Id, Lease.FencingToken);
    }

    public void ReportReleaseFailure(Exception exception) => Log.ReleaseFailed(_logger, exception, Id, Lease.ExpiresAt);

    /// <summary>
    /// The handle was garbage-collected while still holding the lock: stop renewing, say so, and
    /// cancel the lost token, which work started under the handle may still be watching.
    /// </summary>
    public void Abandon()
    {
        if (Interlocked.CompareExchange(ref _state, Abandoned, Active) == Active)
        {
            Stop();
            Log.HandleAbandoned(_logger, Id, Lease.ExpiresAt);
            _instruments.Abandoned(Id, Kind);
            _instruments.HoldEnded(Id, Kind, _heldSince, HoldEnd.Abandoned);
            SignalLost();
        }
    }

    /// <summary>
    /// The host is stopping: tell the work running under this handle that the lock is going (another
    /// process may take it as soon as it is released), then release it.
    /// </summary>
    public Task ReleaseOnShutdownAsync(CancellationToken cancellationToken)
    {
        SignalLost();
        return ReleaseAsync(cancellationToken);
    }

    private void OnRenewalDue()
    {
        if (Volatile.Read(ref _state) != Active || Interlocked.Exchange(ref _renewing, 1) == 1)
        {
            return;
        }

        _ = RenewAsync();
    }

    private async Task RenewAsync()
    {
        var done = false;

        // A renewal is its own trace: the timer carries the acquire's context, whose span has ended.
        System.Diagnostics.Activity.Current = null;
        var span = LockClientInstruments.StartLeaseCall("orleanslocks.renew", Id, Kind, Lease.FencingToken);
        try
        {
            var sentAt = _time.GetTimestamp();
            var renewed = await _retry.RunAsync("renew", Id, () => _grain.Renew(Lease.Token), CancellationToken.None).ConfigureAwait(false);
            if (renewed is null)
            {
                // Refused after this handle was released (the release reached the lock first, e.g.
                // while this renewal was being retried): that is the release, not a lost lease.
                if (Volatile.Read(ref _state) == Released)
                {
                    LockClientInstruments.EndLeaseCall(span, "released");
                    return;
                }

                LockClientInstruments.EndLeaseCall(span, "lost");
                MarkLost("the lock answered that this lease is no longer held", LostReason.Refused);
                return;
            }

            LockClientInstruments.EndLeaseCall(span, "renewed");

            lock (_gate)
            {
                if (_state != Active)
                {
                    return;
                }

                // Ready for the next tick before the renewal shows: a tick that comes as soon as the
                // new expiry is visible (a fake clock moved on at once) must not be skipped as a
                // renewal still in flight.
                Volatile.Write(ref _renewing, 0);
                done = true;

                // A renewal answered before an upgrade but heard after it carries the read's older
                // fencing token: the handle's fencing token never goes down.
                if (renewed.FencingToken < _lease.FencingToken)
                {
                    renewed = renewed with { FencingToken = _lease.FencingToken };
                }

                Volatile.Write(ref _lease, renewed);
                _deadline = After(sentAt, LocalLease(renewed.Duration));
                _deadlineTimer.Change(Due(_deadline), Timeout.InfiniteTimeSpan);
            }
        }
        catch (Exception ex)
        {
            // Keep trying on the next tick; the deadline timer decides when the lease must be presumed lost.
            LockClientInstruments.EndLeaseCall(span, "error", ex);
            Log.RenewalFailed(_logger, ex, Id);
        }
        finally
        {
            if (!done)
            {
                Volatile.Write(ref _renewing, 0);
            }
        }
    }

    private void OnDeadline()
    {
        bool expired;
        lock (_gate)
        {
            expired = _time.GetTimestamp() >= _deadline;
            if (!expired && _state == Active)
            {
                _deadlineTimer.Change(Due(_deadline), Timeout.InfiniteTimeSpan);
            }
        }

        if (expired)
        {
            MarkLost("no renewal succeeded before the lease's deadline", LostReason.NoRenewalInTime);
        }
    }

    private void MarkLost(string reason, string reasonTag)
    {
        if (Interlocked.CompareExchange(ref _state, Lost, Active) != Active)
        {
            return;
        }

        _instruments.LeaseLost(Id, Kind, _heldSince, reasonTag);
        Stop();
        Log.LeaseLost(_logger, Id, reason);
        SignalLost();
    }

    private void SignalLost()
    {
        try
        {
            _lost.Cancel();
        }
        catch (AggregateException ex)
        {
            Log.LostCallbackFailed(_logger, ex, Id);
        }
    }

    private void Stop()
    {
        lock (_gate)
        {
            _renewalTimer.Dispose();
            _deadlineTimer.Dispose();
        }

        _onEnded(this);
    }

    /// <summary>How long this handle counts a granted lease: the lease less the clock-skew allowance (at most a third of it).</summary>
    private TimeSpan LocalLease(TimeSpan duration) =>
        duration - TimeSpan.FromTicks(Math.Min(_skewAllowance.Ticks, duration.Ticks / 3));

    private long After(long timestamp, TimeSpan duration) =>
        timestamp + (long)(duration.TotalSeconds * _time.TimestampFrequency);

    private TimeSpan Due(long deadline)
    {
        var now = _time.GetTimestamp();
        return deadline > now ? _time.GetElapsedTime(now, deadline) : TimeSpan.Zero;
    }
}
