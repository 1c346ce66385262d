namespace OrleansLocks.Tests.Infrastructure;

/// <summary>
/// One two-silo cluster per storage kind, shared by the tests of its collection; each silo also hosts
/// a lock provider (owner "co-hosted") for tests that act through a particular silo.
/// </summary>
public abstract class ClusterFixture(LockStorageKind storage) : IAsyncLifetime
{
    /// <summary>
    /// Longer than the 30-second clock steps the scenarios take, so a step can never outrun a live
    /// waiter's next call or its confirmation (real waiters answer in milliseconds).
    /// </summary>
    public static readonly TimeSpan WaiterTimeout = TimeSpan.FromSeconds(90);

    private LockCluster? _cluster;

    public LockCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster has not started.");

    public async Task InitializeAsync() => _cluster = await LockCluster.StartAsync(storage, coHostedProvider: true, wait: o => o.WaiterTimeout = WaiterTimeout);

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

public sealed class MemoryClusterFixture() : ClusterFixture(LockStorageKind.Memory);

public sealed class PostgresClusterFixture() : ClusterFixture(LockStorageKind.Postgres);

public sealed class PostgresAdoNetProviderClusterFixture() : ClusterFixture(LockStorageKind.PostgresAdoNetProvider);

[CollectionDefinition(Name)]
public sealed class MemoryClusterCollection : ICollectionFixture<MemoryClusterFixture>
{
    public const string Name = "memory cluster";
}

[CollectionDefinition(Name)]
public sealed class PostgresClusterCollection : ICollectionFixture<PostgresClusterFixture>
{
    public const string Name = "postgres cluster";
}

[CollectionDefinition(Name)]
public sealed class PostgresAdoNetProviderClusterCollection : ICollectionFixture<PostgresAdoNetProviderClusterFixture>
{
    public const string Name = "postgres cluster, ADO.NET provider";
}
