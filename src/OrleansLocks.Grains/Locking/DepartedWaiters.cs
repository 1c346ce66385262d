namespace OrleansLocks.Grains.Locking;

/// <summary>
/// The waiter ids that left a lock's line by <see cref="ILeaseGrain.StopWaiting"/>, remembered for a
/// while so that a late <see cref="ILeaseGrain.Wait"/> call of theirs is refused instead of queueing
/// a waiter that has gone. Bounded in time and in count (the oldest are forgotten first).
/// </summary>
internal sealed class DepartedWaiters(long memoryMs, int capacity)
{
    private readonly Dictionary<string, long> _leftAt = new(StringComparer.Ordinal);
    private readonly Queue<(string Id, long At)> _order = new();

    public void Add(string waiterId, long now)
    {
        Prune(now);
        while (_leftAt.Count >= capacity && _order.TryDequeue(out var oldest))
        {
            Forget(oldest);
        }

        _leftAt[waiterId] = now;
        _order.Enqueue((waiterId, now));
    }

    public bool Contains(string waiterId, long now)
    {
        Prune(now);
        return _leftAt.ContainsKey(waiterId);
    }

    private void Prune(long now)
    {
        while (_order.TryPeek(out var oldest) && oldest.At + memoryMs <= now)
        {
            _order.Dequeue();
            Forget(oldest);
        }
    }

    // An id can be queued twice (StopWaiting called twice); only its latest entry counts.
    private void Forget((string Id, long At) entry)
    {
        if (_leftAt.TryGetValue(entry.Id, out var at) && at == entry.At)
        {
            _leftAt.Remove(entry.Id);
        }
    }
}
