using Microsoft.Extensions.Logging;

namespace OrleansLocks.Client;

/// <summary>
/// Keeps one lease alive for a <see cref="LockHandle"/>: renews it on a <see cref="TimeProvider"/>
/// timer, cancels the lost token when the lease is gone, and releases it. It never references its
/// handle, so a handle dropped without release can be collected; its finalizer then abandons this.
/// </summary>
internal sealed class LeaseKeeper : IHeldLease
{
    private const int Active = 0;
    private const int Released = 1;
    private const int Abandoned = 2;
    private const int Lost = 3;

    private readonly ILeaseGrain _grain;
    private readonly TimeProvider _time;
    private readonly TransientFaultPolicy _retry;
    private readonly ILogger _logger;
    private readonly Action<LeaseKeeper> _onEnded;
    private readonly TimeSpan _renewalInterval;
    private readonly CancellationTokenSource _lost = new();
    private readonly ITimer _renewalTimer;
    private readonly ITimer _deadlineTimer;
    private readonly Lock _gate = new();
    private LockLease _lease;
    // A TimeProvider timestamp (monotonic): a wall-clock jump on this machine cannot move it.
    private long _deadline;
    private int _state;
    private int _renewing;

    public LeaseKeeper(
        LockId id,
        LockKind kind,
        ILeaseGrain grain,
        LockLease lease,
        long sentAt,
        TimeSpan renewalInterval,
        TimeProvider time,
        TransientFaultPolicy retry,
        ILogger logger,
        Action<LeaseKeeper> onEnded)
    {
        Id = id;
        Kind = kind;
        _grain = grain;
        _lease = lease;
        _time = time;
        _retry = retry;
        _logger = logger;
        _onEnded = onEnded;

        // Renew at least three times per lease, whatever the configured interval says, so one
        // slow renewal never costs the lease.
        _renewalInterval = TimeSpan.FromTicks(Math.Min(renewalInterval.Ticks, lease.Duration.Ticks / 3));
        _deadline = After(sentAt, lease.Duration);
        _deadlineTimer = time.CreateTimer(static s => ((LeaseKeeper)s!).OnDeadline(), this, Due(_deadline), Timeout.InfiniteTimeSpan);
        _renewalTimer = time.CreateTimer(static s => ((LeaseKeeper)s!).OnRenewalDue(), this, _renewalInterval, _renewalInterval);
    }

    public LockId Id { get; }

    public LockKind Kind { get; }

    public LockLease Lease => Volatile.Read(ref _lease);

    public CancellationToken LostToken => _lost.Token;

    /// <summary>Whether the lease ended lost (refused or past its deadline), as <see cref="HeldLocks"/> learns when it ends.</summary>
    public bool EndedLost => Volatile.Read(ref _state) == Lost;

    public Task<bool> IsStillValidAsync(CancellationToken cancellationToken) =>
        _retry.RunAsync("check", Id, () => _grain.IsStillValid(Lease.Token), cancellationToken);

    /// <summary>Stops renewing and releases the lock. Idempotent: only the first call talks to the grain.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        var before = Interlocked.Exchange(ref _state, Released);
        if (before is Released or Abandoned)
        {
            return;
        }

        Stop();
        await _retry.RunAsync("release", Id, () => _grain.Release(Lease.Token), cancellationToken).ConfigureAwait(false);
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
        try
        {
            var sentAt = _time.GetTimestamp();
            var renewed = await _retry.RunAsync("renew", Id, () => _grain.Renew(Lease.Token), CancellationToken.None).ConfigureAwait(false);
            if (renewed is null)
            {
                MarkLost("the lock answered that this lease is no longer held");
                return;
            }

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
                Volatile.Write(ref _lease, renewed);
                _deadline = After(sentAt, renewed.Duration);
                _deadlineTimer.Change(Due(_deadline), Timeout.InfiniteTimeSpan);
            }
        }
        catch (Exception ex)
        {
            // Keep trying on the next tick; the deadline timer decides when the lease must be presumed lost.
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
            MarkLost("no renewal succeeded before the lease's deadline");
        }
    }

    private void MarkLost(string reason)
    {
        if (Interlocked.CompareExchange(ref _state, Lost, Active) != Active)
        {
            return;
        }

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

    private long After(long timestamp, TimeSpan duration) =>
        timestamp + (long)(duration.TotalSeconds * _time.TimestampFrequency);

    private TimeSpan Due(long deadline)
    {
        var now = _time.GetTimestamp();
        return deadline > now ? _time.GetElapsedTime(now, deadline) : TimeSpan.Zero;
    }
}
