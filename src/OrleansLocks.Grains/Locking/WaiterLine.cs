namespace OrleansLocks.Grains.Locking;

/// <summary>
/// The line of waiters of one lock, in memory: who waits in which order, who was granted but has not
/// confirmed yet, who left, and who stopped calling. Times are the silo clock in milliseconds.
/// </summary>
/// <remarks>
/// A waiter is in the line until it is granted; a granted waiter stays known by its id until it
/// confirms (<see cref="ForgetUnconfirmed"/>) or its grant is taken back
/// (<see cref="TakeBackUnconfirmed"/>). The line decides nothing about the lock itself: the grant
/// rules are <see cref="LeaseBook"/>'s.
/// </remarks>
/// <param name="maxWaiters">The most waiters in line (<see cref="LockWaitOptions.MaxWaiters"/>).</param>
/// <param name="waiterTimeoutMs">How long a waiter that is not calling, or a grant that is not confirmed, is kept (<see cref="LockWaitOptions.WaiterTimeout"/>).</param>
internal sealed partial class WaiterLine(int maxWaiters, long waiterTimeoutMs)
{
    // How long a waiter that left (StopWaiting) is remembered, so that a Wait call of it still in
    // flight (delayed behind a frozen gateway, say) cannot bring it back into the line. Orleans drops
    // requests older than the caller's response timeout (30 s by default), so two minutes is ample.
    internal static readonly long DepartedMemoryMs = (long)TimeSpan.FromMinutes(2).TotalMilliseconds;

    private readonly LinkedList<Waiter> _line = new();

    // Waiters by id: those in line and those granted but not yet confirmed.
    private readonly Dictionary<string, Waiter> _waiters = new(StringComparer.Ordinal);

    // Created on first use: most locks never see a waiter leave, and memory per held lock counts.
    private DepartedWaiters? _departed;

    /// <summary>How many wait in line (granted waiters are no longer in line).</summary>
    public int Count => _line.Count;

    /// <summary>Whether nobody waits and no grant waits for its confirmation.</summary>
    public bool IsIdle => _waiters.Count == 0;

    /// <summary>Those in line, first first.</summary>
    public IEnumerable<Waiter> InOrder => _line;

    /// <summary>The first in line, if any.</summary>
    public Waiter? First => _line.First?.Value;

    /// <summary>How many wait in line for <paramref name="kind"/>.</summary>
    public int CountWaiting(LockKind kind) => _line.Count(w => w.Kind == kind && w.UpgradeToken is null);

    /// <summary>Whether <paramref name="waiterId"/> left the line (by <see cref="Leave"/>) recently enough to be remembered.</summary>
    public bool HasLeft(string waiterId, long now) => _departed?.Contains(waiterId, now) == true;

    /// <summary>The waiter of <paramref name="waiterId"/>, in line or granted and unconfirmed.</summary>
    public bool TryGet(string waiterId, out Waiter waiter) => _waiters.TryGetValue(waiterId, out waiter!);

    /// <summary>
    /// Puts a new waiter at the end of the line; null when the line already holds
    /// <c>maxWaiters</c> (nothing is queued then).
    /// </summary>
    public Waiter? TryJoin(string waiterId, LockKind kind, string owner)
    {
        if (_line.Count >= maxWaiters)
        {
            return null;
        }

        var waiter = new Waiter(waiterId, kind, owner);
        waiter.Node = _line.AddLast(waiter);
        _waiters.Add(waiterId, waiter);
        return waiter;
    }

    /// <summary>Opens a call for <paramref name="waiter"/>; its result is the grant, or null for "not yet".</summary>
    public TaskCompletionSource<LockLease?> OpenCall(Waiter waiter, long now)
    {
        waiter.Call = new TaskCompletionSource<LockLease?>(TaskCreationOptions.RunContinuationsAsynchronously);
        waiter.LastSeenAt = now;
        return waiter.Call;
    }

    /// <summary>
    /// Ends <paramref name="call"/> unanswered ("not yet"): the waiter keeps its place, and is presumed
    /// gone if it does not call again in time. False when the call was already replaced or answered.
    /// </summary>
    public bool EndCall(string waiterId, TaskCompletionSource<LockLease?> call, long now)
    {
        if (!_waiters.TryGetValue(waiterId, out var waiter) || !ReferenceEquals(waiter.Call, call))
        {
            return false;
        }

        waiter.Call = null;
        waiter.LastSeenAt = now;
        return true;
    }

    /// <summary>
    /// Walks the line from its head while <paramref name="grantIfFits"/> grants the waiter (it returns
    /// null once one does not fit: nobody behind it is served, so the line is served in order). The
    /// waiters stay in line until <see cref="Granted"/>, so a grant that is never written answers nobody.
    /// </summary>
    public List<(Waiter Waiter, LockHolder Holder)> Serve(Func<Waiter, LockHolder?> grantIfFits)
    {
        var grants = new List<(Waiter, LockHolder)>();
        for (var node = _line.First; node is not null && grantIfFits(node.Value) is { } holder; node = node.Next)
        {
            grants.Add((node.Value, holder));
        }

        return grants;
    }

    /// <summary>Takes a served waiter out of the line and answers it; it must confirm by <c>now + waiterTimeout</c>.</summary>
    public void Granted(Waiter waiter, LockLease lease, long now)
    {
        if (waiter.Node is not null)
        {
            _line.Remove(waiter.Node);
            waiter.Node = null;
        }

        waiter.Grant = lease;
        waiter.ConfirmBy = now + waiterTimeoutMs;
        waiter.Answer(lease);
        if (waiter.UpgradeToken is not null)
        {
            // An upgrade needs no confirmation: the hold is the one its holder already renews.
            _waiters.Remove(waiter.Id);
        }
    }

    /// <summary>A waiter gives up: it leaves the line (or its grant is forgotten) and is remembered as gone.</summary>
    public void Leave(string waiterId, long now)
    {
        if (_waiters.TryGetValue(waiterId, out var waiter))
        {
            Forget(waiter);
        }

        (_departed ??= new DepartedWaiters(DepartedMemoryMs, maxWaiters)).Add(waiterId, now);
    }

    /// <summary>Removes a waiter from the line and the books, answering its open call "not yet".</summary>
    public void Forget(Waiter waiter)
    {
        if (waiter.Node is not null)
        {
            _line.Remove(waiter.Node);
            waiter.Node = null;
        }

        waiter.Answer(null);
        _waiters.Remove(waiter.Id);
    }

    /// <summary>Forgets everyone (the activation stops answering from memory); open calls are answered "not yet".</summary>
    public void ForgetAll()
    {
        foreach (var waiter in _waiters.Values.ToList())
        {
            Forget(waiter);
        }
    }

    /// <summary>Answers every open call "not yet"; everyone keeps their place.</summary>
    public void AnswerAll()
    {
        foreach (var waiter in _waiters.Values)
        {
            waiter.Answer(null);
        }
    }

    /// <summary>The grant of <paramref name="token"/> is confirmed, renewed, released or over: its waiter is done.</summary>
    public void ForgetUnconfirmed(string token)
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

    /// <summary>Removes the waiters in line that have not called for the waiter timeout (presumed dead), and returns them.</summary>
    public IReadOnlyList<Waiter> ReapSilent(long now)
    {
        var silent = _waiters.Values.Where(w => w.Call is null && w.Grant is null && w.LastSeenAt + waiterTimeoutMs <= now).ToList();
        silent.ForEach(Forget);
        return silent;
    }

    /// <summary>
    /// Forgets the waiters that were granted but did not confirm in time, and returns their grants:
    /// their process is presumed dead, so the caller takes the grants back (nobody would renew them).
    /// </summary>
    public IReadOnlyList<LockLease> TakeBackUnconfirmed(long now)
    {
        var late = _waiters.Values.Where(w => w.Grant is not null && w.ConfirmBy <= now).ToList();
        late.ForEach(Forget);
        return late.Select(w => w.Grant!).ToList();
    }

    /// <summary>When the line next needs attention (a confirmation deadline, a silent waiter's timeout); null when never.</summary>
    public long? NextDue()
    {
        long? due = null;
        foreach (var waiter in _waiters.Values)
        {
            long? at = waiter.Grant is not null ? waiter.ConfirmBy
                : waiter.Call is null ? waiter.LastSeenAt + waiterTimeoutMs
                : null;
            if (at is { } a && (due is not { } d || a < d))
            {
                due = a;
            }
        }

        return due;
    }
}
