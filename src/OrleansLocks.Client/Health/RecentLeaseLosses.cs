namespace OrleansLocks.Client.Health;

/// <summary>
/// The leases this client lost lately (lock name and when), kept in this process whatever the silos
/// say, for the client health check. Bounded: only the latest <see cref="Capacity"/> are kept.
/// </summary>
internal sealed class RecentLeaseLosses(TimeProvider time)
{
    /// <summary>How many losses are remembered; older ones are forgotten first.</summary>
    public const int Capacity = 64;

    private readonly Queue<(DateTimeOffset At, string LockName)> _losses = new();
    private readonly Lock _gate = new();

    /// <summary>A lease of lock <paramref name="lockName"/> was lost now.</summary>
    public void Record(string lockName)
    {
        var at = time.GetUtcNow();
        lock (_gate)
        {
            if (_losses.Count == Capacity)
            {
                _losses.Dequeue();
            }

            _losses.Enqueue((at, lockName));
        }
    }

    /// <summary>The losses within <paramref name="window"/> before now, oldest first.</summary>
    public IReadOnlyList<(DateTimeOffset At, string LockName)> Within(TimeSpan window)
    {
        var since = time.GetUtcNow() - window;
        lock (_gate)
        {
            return _losses.Where(l => l.At >= since).ToArray();
        }
    }
}
