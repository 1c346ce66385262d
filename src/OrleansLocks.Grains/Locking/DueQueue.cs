namespace OrleansLocks.Grains.Locking;

/// <summary>
/// When each of many keys is next due, as plain data: at most one due time per key, the earliest
/// first. Times are the silo clock in milliseconds. Not thread-safe (<see cref="ExpirySchedule"/>
/// guards it).
/// </summary>
/// <remarks>
/// A key's due time moves often (every renewal moves a lease's expiry), so moving it later touches
/// only the key's entry: its place in the heap stays where it was, and when that place comes up the
/// key is put back at its new time instead of being taken. Moving it earlier, or removing it, leaves
/// a stale place in the heap that is skipped when it comes up (its time no longer matches). So each
/// key has at most one place that is not stale, and the heap holds at most one stale place per
/// move earlier or removal since it last came up. Locks that are taken and released at a high rate
/// leave many stale places, so once they outnumber the keys the heap is rebuilt from the keys'
/// entries (linear in their number, and rare enough to cost a constant per change).
/// </remarks>
/// <typeparam name="TKey">What is due (a grain id in the silo).</typeparam>
internal sealed class DueQueue<TKey>
    where TKey : notnull
{
    private readonly PriorityQueue<TKey, long> _heap = new();

    // Per key: its due time, and the time of its live place in the heap (never later than the due time).
    private readonly Dictionary<TKey, (long DueAt, long PlacedAt)> _due = [];

    // An estimate of the heap's stale places (exact unless a key comes back at the time of a stale place).
    private int _stale;

    /// <summary>How many keys are due at some time.</summary>
    public int Count => _due.Count;

    /// <summary>How many places the heap holds, stale ones included (for tests of its bound).</summary>
    internal int Places => _heap.Count;

    /// <summary>The due time of <paramref name="key"/>, if it has one.</summary>
    public long? DueAt(TKey key) => _due.TryGetValue(key, out var entry) ? entry.DueAt : null;

    /// <summary>The earliest place in the heap: nothing is due before it (it may be stale); null when empty.</summary>
    public long? NextAt()
    {
        DropStaleHead();
        return _heap.TryPeek(out _, out var at) ? at : null;
    }

    /// <summary>Makes <paramref name="key"/> due at <paramref name="dueAt"/>, replacing its earlier due time.</summary>
    /// <returns>Whether this made the earliest place in the heap earlier (the timer must then move).</returns>
    public bool Set(TKey key, long dueAt)
    {
        if (_due.TryGetValue(key, out var entry) && entry.PlacedAt <= dueAt)
        {
            _due[key] = (dueAt, entry.PlacedAt);
            return false;
        }

        if (_due.ContainsKey(key))
        {
            _stale++;
        }

        var earliest = _heap.TryPeek(out _, out var head) ? head : long.MaxValue;
        _due[key] = (dueAt, dueAt);
        _heap.Enqueue(key, dueAt);
        CompactIfMostlyStale();
        return dueAt < earliest;
    }

    /// <summary>
    /// Makes <paramref name="key"/> due at <paramref name="dueAt"/> unless it is due already (then its
    /// own time stands: the key rescheduled itself).
    /// </summary>
    /// <returns>Whether this made the earliest place in the heap earlier.</returns>
    public bool SetIfAbsent(TKey key, long dueAt) => !_due.ContainsKey(key) && Set(key, dueAt);

    /// <summary>Removes <paramref name="key"/>'s due time (its place in the heap goes stale).</summary>
    public void Remove(TKey key)
    {
        if (_due.Remove(key))
        {
            _stale++;
            CompactIfMostlyStale();
        }
    }

    /// <summary>
    /// Takes a key that is due at <paramref name="now"/> (its due time is removed), the earliest first;
    /// false when none is. Places that come up for keys whose due time moved later are put back.
    /// </summary>
    public bool TryTakeDue(long now, out TKey key)
    {
        while (_heap.TryPeek(out key!, out var at) && at <= now)
        {
            _heap.Dequeue();
            if (!_due.TryGetValue(key, out var entry) || entry.PlacedAt != at)
            {
                _stale = Math.Max(0, _stale - 1);
                continue;
            }

            if (entry.DueAt > now)
            {
                _due[key] = (entry.DueAt, entry.DueAt);
                _heap.Enqueue(key, entry.DueAt);
                continue;
            }

            _due.Remove(key);
            return true;
        }

        key = default!;
        return false;
    }

    /// <summary>Forgets every key.</summary>
    public void Clear()
    {
        _heap.Clear();
        _due.Clear();
        _stale = 0;
    }

    private void DropStaleHead()
    {
        while (_heap.TryPeek(out var key, out var at) && (!_due.TryGetValue(key, out var entry) || entry.PlacedAt != at))
        {
            _heap.Dequeue();
            _stale = Math.Max(0, _stale - 1);
        }
    }

    private void CompactIfMostlyStale()
    {
        if (_stale < 1024 || _stale < _due.Count)
        {
            return;
        }

        _heap.Clear();
        _heap.EnqueueRange(_due.Select(pair => (pair.Key, pair.Value.PlacedAt)));
        _stale = 0;
    }
}
