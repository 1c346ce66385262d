namespace OrleansLocks.Grains.Locking;

/// <summary>
/// The rules of one lock, as plain code over its stored state and the silo clock in milliseconds:
/// who may be granted, the next fencing token, renewal, release and expiry. One book drafts one
/// change: it works on a copy of the state it was opened on and reports what it changed; the grain
/// writes <see cref="Seal"/>'s result and logs.
/// </summary>
/// <remarks>
/// A holder holds while <c>now &lt; expiresAt</c>. Readers share the lock (at most
/// <see cref="IReadWriteLockGrain.MaxReaders"/>), a writer (a plain lock's holder) holds it alone.
/// </remarks>
internal sealed partial class LeaseBook
{
    private readonly LockState _before;
    private readonly long _leaseMs;
    private readonly bool _recordExists;

    /// <summary>Opens a draft on a copy of <paramref name="current"/>.</summary>
    /// <param name="current">The state as stored (it is not changed).</param>
    /// <param name="leaseMs">How long a grant or renewal lasts.</param>
    /// <param name="recordExists">Whether storage holds a state for this lock (decides the fencing floor).</param>
    public LeaseBook(LockState current, long leaseMs, bool recordExists)
    {
        _before = current;
        _leaseMs = leaseMs;
        _recordExists = recordExists;
        Next = current.Clone();
    }

    /// <summary>The drafted state.</summary>
    public LockState Next { get; }

    /// <summary>Whether the draft's holders differ from the state the book was opened on.</summary>
    public bool HoldersChanged => !Next.Holders.SequenceEqual(_before.Holders);

    /// <summary>
    /// Whether a new <paramref name="kind"/> hold fits beside the live holders of <paramref name="state"/>:
    /// no live writer, and for a reader fewer than the most readers, for a semaphore's holder fewer
    /// than its count (and the most holders), for a writer no reader; and no lock-delay of a forced
    /// release running.
    /// </summary>
    public static bool Fits(LockState state, LockKind kind, long now)
    {
        if (now < state.NoGrantsBefore)
        {
            return false;
        }

        if (state.Writer is { } writer && writer.IsLiveAt(now))
        {
            return false;
        }

        if (kind == LockKind.UpgradeableRead && FindUpgradeable(state, now) is not null)
        {
            return false;
        }

        var readers = state.Readers?.Count(r => r.IsLiveAt(now)) ?? 0;
        return kind switch
        {
            LockKind.Read or LockKind.UpgradeableRead => readers < IReadWriteLockGrain.MaxReaders,
            LockKind.Semaphore => readers < Math.Min(state.MaxCount ?? 0, ISemaphoreGrain.MaxHolders),
            _ => readers == 0,
        };
    }

    /// <summary>
    /// Whether a caller from outside the line may be granted <paramref name="kind"/> at once: it must
    /// fit, and nobody may wait. Nobody jumps the queue, so a waiting writer keeps new readers out
    /// (writer preference) even while the lock is only read.
    /// </summary>
    public static bool CanGrantNow(LockState state, LockKind kind, long now, bool anyoneWaiting) =>
        !anyoneWaiting && Fits(state, kind, now);

    /// <summary>The holder of <paramref name="token"/>, live or not.</summary>
    public static LockHolder? FindByToken(LockState state, string token) =>
        state.Holders.FirstOrDefault(h => LockToken.Matches(h.Token, token));

    /// <summary>The live holder granted by the acquire attempt or wait <paramref name="acquireId"/>, if any.</summary>
    public static LockHolder? FindLiveByAcquireId(LockState state, string acquireId, long now) =>
        state.Holders.FirstOrDefault(h => h.AcquireId == acquireId && h.IsLiveAt(now));

    /// <summary>
    /// The fencing token of the next grant. With a stored state, the last one plus 1. Without one
    /// (never used, or cleared after <see cref="LockStorageOptions.FreeRowRetention"/>), at least the
    /// clock in microseconds, which is past every token a cleared state could have issued.
    /// </summary>
    public static long NextFencingToken(LockState state, long now, bool recordExists) =>
        recordExists ? state.FencingToken + 1 : Math.Max(state.FencingToken + 1, now * 1000);

    /// <summary>The lease a caller is shown for <paramref name="holder"/>.</summary>
    public static LockLease ToLease(LockHolder holder) =>
        new(holder.Token, holder.FencingToken, holder.Owner, FromMs(holder.AcquiredAt), FromMs(holder.LastRenewedAt), FromMs(holder.ExpiresAt));

    /// <summary>What anyone may see of <paramref name="holder"/> (no token).</summary>
    public static LockInfo ToInfo(LockHolder holder, int waiting) =>
        new(holder.Owner, holder.FencingToken, FromMs(holder.AcquiredAt), FromMs(holder.LastRenewedAt), FromMs(holder.ExpiresAt), waiting);

    /// <summary>Whether a new <paramref name="kind"/> hold fits beside the draft's live holders.</summary>
    public bool Fits(LockKind kind, long now) => Fits(Next, kind, now);

    /// <summary>Removes the holders whose lease ran out at <paramref name="now"/>, and returns them.</summary>
    public IReadOnlyList<LockHolder> Expire(long now)
    {
        var expired = new List<LockHolder>();
        if (Next.Writer is { } writer && !writer.IsLiveAt(now))
        {
            expired.Add(writer);
            Next.Writer = null;
        }

        if (Next.Readers is { } readers)
        {
            expired.AddRange(readers.Where(r => !r.IsLiveAt(now)));
            readers.RemoveAll(r => !r.IsLiveAt(now));
        }

        return expired;
    }

    /// <summary>Adds a new holder of <paramref name="kind"/> with a new token and the next fencing token, and returns it.</summary>
    /// <remarks>The caller decides that it fits (<see cref="Fits(LockKind, long)"/>, <see cref="CanGrantNow"/>).</remarks>
    public LockHolder Grant(LockKind kind, string owner, string? acquireId, long now)
    {
        var holder = new LockHolder(LockToken.New(), owner, now, now, now + _leaseMs, NextFencingToken(Next, now, _recordExists), acquireId, Upgradeable: kind == LockKind.UpgradeableRead);
        Next.FencingToken = holder.FencingToken;
        if (kind is LockKind.Read or LockKind.UpgradeableRead or LockKind.Semaphore)
        {
            // A semaphore's holders share it as readers do, and are stored the same way.
            (Next.Readers ??= []).Add(holder);
        }
        else
        {
            Next.Writer = holder;
        }

        return holder;
    }

    /// <summary>Extends the live holder of <paramref name="token"/> by a lease from <paramref name="now"/>; null when it holds no more.</summary>
    public LockHolder? Renew(string token, long now)
    {
        if (FindByToken(Next, token) is not { } holder || !holder.IsLiveAt(now))
        {
            return null;
        }

        var renewed = holder with { LastRenewedAt = now, ExpiresAt = now + _leaseMs };
        Replace(holder.Token, renewed);
        return renewed;
    }

    /// <summary>Removes the holder of <paramref name="token"/>, and returns it (null when none).</summary>
    public LockHolder? Remove(string token)
    {
        if (FindByToken(Next, token) is not { } holder)
        {
            return null;
        }

        Replace(holder.Token, null);
        return holder;
    }

    /// <summary>
    /// A forced release: removes the holders that <paramref name="matches"/> selects and that hold
    /// <paramref name="fencingToken"/> (any, when null), then keeps the lock from granting anyone
    /// before <paramref name="until"/> (the lock-delay), so the old holder hears first. Nothing
    /// changes when no holder is chosen.
    /// </summary>
    /// <returns>How many holders matched before the fencing token was checked, and those removed.</returns>
    public (int Matched, List<LockHolder> Removed) ForceOut(Func<LockHolder, bool> matches, long? fencingToken, long until)
    {
        var matched = Next.Holders.Where(matches).ToList();
        var removed = matched.Where(h => fencingToken is null || h.FencingToken == fencingToken).ToList();
        foreach (var holder in removed)
        {
            Remove(holder.Token);
        }

        if (removed.Count > 0)
        {
            Next.NoGrantsBefore = Math.Max(Next.NoGrantsBefore ?? until, until);
        }

        return (matched.Count, removed);
    }

    /// <summary>
    /// Finishes the draft: a lock that becomes free records since when (the sweep clears it after the
    /// retention); a held lock has no such time. Returns the state to write.
    /// </summary>
    public LockState Seal(long now)
    {
        if (Next.Holders.Any())
        {
            Next.FreedAt = null;
        }
        else if (_before.Holders.Any() || Next.FreedAt is null)
        {
            Next.FreedAt = now;
        }

        if (Next.NoGrantsBefore <= now)
        {
            Next.NoGrantsBefore = null;
        }

        return Next;
    }

    private static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private void Replace(string token, LockHolder? replacement)
    {
        if (Next.Writer is { } writer && writer.Token == token)
        {
            Next.Writer = replacement;
            return;
        }

        if (Next.Readers is { } readers)
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
}
