using OrleansLocks.Client;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Client;

/// <summary>
/// What the client scenario suites share: the cluster (two silos, a fake clock) with its client
/// library, the default lease and renewal interval, and a fresh key per test.
/// </summary>
public abstract class ClusterScenarioTests(LockCluster cluster)
{
    /// <summary>The default lease timeout.</summary>
    protected static readonly TimeSpan T = TimeSpan.FromMinutes(2);

    /// <summary>The default renewal interval.</summary>
    protected static readonly TimeSpan R = TimeSpan.FromSeconds(30);

    /// <summary>Real time allowed for a woken waiter's answer to arrive; nothing in the lock waits on it.</summary>
    protected static readonly TimeSpan Arrival = TimeSpan.FromSeconds(10);

    protected LockCluster Cluster { get; } = cluster;

    protected ILockProvider Locks => Cluster.Locks;

    protected static string NewKey() => $"key-{Guid.NewGuid():N}";
}
