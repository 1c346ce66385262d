using OrleansLocks.Client;

namespace OrleansLocks.InMemory;

/// <summary>
/// One in-memory lease behind a <see cref="LockHandle"/>: renewed on the table's
/// <see cref="TimeProvider"/> like a real handle's, lost when it runs out or a test expires it.
/// It never references its handle, so a handle dropped without release can be collected.
/// </summary>
internal sealed partial class InMemoryLease : IHeldLease
{
    private const int Active = 0;
    private const int Released = 1;
    private const int Lost = 2;
    private const int Abandoned = 3;

    private readonly InMemoryLockTable _table;
    private readonly CancellationTokenSource _lost = new();
    private readonly object _timersGate = new();
    private ITimer? _renewalTimer;
    private ITimer? _expiryTimer;
    private LockLease _lease;
    private int _state;
    private volatile bool _renewing = true;

    // A LockKind: an upgradeable read becomes a write when upgraded.
    private int _kind;

    public InMemoryLease(InMemoryLockTable table, InMemoryLockTable.LockEntry entry, LockKind kind, LockLease lease)
    {
        _table = table;
        Entry = entry;
        _kind = (int)kind;
        _lease = lease;
    }

    public InMemoryLockTable.LockEntry Entry { get; }

    public LockId Id => Entry.Id;

    public LockKind Kind => (LockKind)Volatile.Read(ref _kind);

    public LockLease Lease => Volatile.Read(ref _lease);

    public CancellationToken LostToken => _lost.Token;

    /// <summary>Whether this lease is still renewed (false once a test stopped it, or the handle was dropped or ended).</summary>
    public bool IsRenewing => _renewing && Volatile.Read(ref _state) == Active;

    public Task<bool> IsStillValidAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(_table.IsHeld(this));
    }

    public Task ReleaseAsync(CancellationToken cancellationToken)
    {
        EndByRelease();
        return Task.CompletedTask;
    }

    // An in-memory release cannot fail.
    public void ReportReleaseFailure(Exception exception)
    {
    }

    public void Abandon()
    {
        if (Interlocked.CompareExchange(ref _state, Abandoned, Active) == Active)
        {
            // As a real handle: it stops renewing, says the lease is gone, and the lock runs out by time.
            _renewing = false;
            lock (_timersGate)
            {
                _renewalTimer?.Dispose();
            }

            Cancel();
        }
    }

    /// <summary>
    /// Starts the renewal and expiry timers of a lease just granted. Called outside the table's gate:
    /// a fake clock may run due timer callbacks on the thread that creates or changes a timer, and
    /// those callbacks enter the table.
    /// </summary>
    public void Start()
    {
        // As the real handle does: at least three renewals per lease.
        var interval = TimeSpan.FromTicks(Math.Min(_table.RenewalInterval.Ticks, _table.LeaseTimeout.Ticks / 3));
        lock (_timersGate)
        {
            if (Volatile.Read(ref _state) is Released or Lost)
            {
                return;
            }

            _expiryTimer = _table.Time.CreateTimer(static s => ((InMemoryLease)s!).OnExpiryDue(), this, _table.LeaseTimeout, Timeout.InfiniteTimeSpan);
            if (_renewing && Volatile.Read(ref _state) == Active)
            {
                _renewalTimer = _table.Time.CreateTimer(static s => ((InMemoryLease)s!).OnRenewalDue(), this, interval, interval);
            }
        }
    }

    /// <summary>Called under the table's gate by a renewal: the lease now runs a full timeout from <paramref name="now"/>.</summary>
    public void Extend(DateTimeOffset now) =>
        Volatile.Write(ref _lease, Lease with { LastRenewedAt = now, ExpiresAt = now + _table.LeaseTimeout });

    /// <summary>After <see cref="Extend"/>, outside the table's gate: the expiry timer counts from the renewal.</summary>
    public void RearmExpiry()
    {
        lock (_timersGate)
        {
            _expiryTimer?.Change(_table.LeaseTimeout, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Stops renewing, as a crashed or frozen holder would: the lease runs out at <see cref="LockLease.ExpiresAt"/>.</summary>
    public void StopRenewing()
    {
        _renewing = false;
        lock (_timersGate)
        {
            _renewalTimer?.Dispose();
        }
    }

    /// <summary>Releases the lock once; later calls do nothing.</summary>
    public void EndByRelease()
    {
        var before = Interlocked.Exchange(ref _state, Released);
        if (before is Released or Abandoned)
        {
            return;
        }

        StopTimers();
        _table.Release(this);
    }

    /// <summary>The table took the lock from this lease (it ran out, or a test expired it): signal it lost.</summary>
    public void EndByLoss()
    {
        StopTimers();
        if (Interlocked.CompareExchange(ref _state, Lost, Active) == Active)
        {
            Cancel();
        }
    }

    private void OnRenewalDue() => _table.Renew(this);

    private void OnExpiryDue() => _table.ExpireDue(this);

    private void StopTimers()
    {
        lock (_timersGate)
        {
            _renewalTimer?.Dispose();
            _expiryTimer?.Dispose();
        }
    }

    private void Cancel()
    {
        try
        {
            _lost.Cancel();
        }
        catch (AggregateException)
        {
            // A HandleLostToken callback threw: that is the callback's business, as with a real handle.
        }
    }
}
