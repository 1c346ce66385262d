using OrleansLocks.Fencing.Postgres;
using OrleansLocks.Tests.Client;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Fencing;

/// <summary>
/// Fencing at the database for upgradeable reads, with real handles from a PostgreSQL-backed cluster
/// and a real database: the upgradeable read is shared and cannot fence, the upgraded hold fences as
/// a write with its new token, so an earlier writer's late write is refused.
/// </summary>
[Collection(PostgresClusterCollection.Name)]
public sealed class UpgradedHoldFencingTests(PostgresClusterFixture fixture) : ClusterScenarioTests(fixture.Cluster)
{
    [Fact]
    public async Task AnUpgradeableRead_CannotFence_ButOnceUpgradedItFencesAsAWrite()
    {
        var key = NewKey();
        await using var database = await FenceDatabase.CreateAsync("upgraded_fence");
        var earlier = await Locks.TryAcquireWriteAsync("doc", key);
        Assert.NotNull(earlier);
        var earlierToken = earlier.FencingToken;
        await earlier.ReleaseAsync();

        await using var handle = await Locks.TryAcquireUpgradeableReadAsync("doc", key);
        Assert.NotNull(handle);
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => database.WriteAsync("doc", "read", (c, t) => handle.FenceAsync(c, t)));
        Assert.Contains("UpgradeableRead", refused.Message);

        Assert.True(await handle.TryUpgradeToWriteAsync());
        await database.WriteAsync("doc", "upgraded", (c, t) => handle.FenceAsync(c, t));

        await Assert.ThrowsAsync<StaleFencingTokenException>(() => database.WriteAsync("doc", "late", LockId.Create("doc", key), earlierToken, LockKind.Write));
        Assert.Equal("upgraded", await database.ValueAsync("doc"));
        Assert.Equal(handle.FencingToken, await database.NewestTokenAsync(LockId.Create("doc", key), "write"));
    }
}
