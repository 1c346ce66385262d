using Npgsql;
using OrleansLocks.Client;
using OrleansLocks.Grains.Sweep;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Grains;

/// <summary>
/// What only durable storage can promise: locks that outlive silos and whole clusters, writes that a
/// stale activation cannot win, and storage outages that fail loudly. Each test has its own cluster
/// (and, for the outage, its own PostgreSQL server).
/// </summary>
public sealed class PostgresDurabilityTests
{
    private static readonly TimeSpan T = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan R = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task WorkerLocksView_MirrorsSynapsesTable_ForHeldLocksOnly()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("view");
        await using var cluster = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1, connectionString: database);
        var id = LockId.Create("purge_room", $"!{Guid.NewGuid():N}:example.org");
        var grain = cluster.Grains.GetGrain<ILockGrain>(id.ToGrainKey());
        var lease = await grain.TryAcquire("worker1");
        cluster.Advance(R);
        lease = await grain.Renew(lease!.Token);

        var row = await WorkerLocksView.FindAsync(database, id);

        Assert.Equal(new WorkerLocksView.Row("purge_room", id.Key, "worker1", WorkerLocksView.Fingerprint(lease!.Token), lease.LastRenewedAt.ToUnixTimeMilliseconds(), lease.FencingToken), row);
        await grain.Release(lease.Token);

        // The release is written before it is answered.
        Assert.Null(await WorkerLocksView.FindAsync(database, id));
        Assert.True(await WorkerLocksView.HasStoredStateAsync(database, id));
    }

    [Fact]
    public async Task StoredState_IsPlainJsonWithoutDotNetTypeNames()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("json");
        await using var cluster = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1, connectionString: database);
        var id = LockId.Create("json", "k");
        await cluster.Grains.GetGrain<ILockGrain>(id.ToGrainKey()).TryAcquire("w");

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT convert_from(PayloadBinary, 'UTF8') FROM OrleansStorage WHERE GrainTypeString = 'orleanslocks.lock'", connection);
        var json = (string)(await command.ExecuteScalarAsync())!;

        Assert.StartsWith("{\"name\":\"json\",\"key\":\"k\",\"token\":", json, StringComparison.Ordinal);
        Assert.DoesNotContain("$type", json, StringComparison.Ordinal);
        Assert.DoesNotContain("OrleansLocks", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SiloKill_HeldLockStaysHeldWithSameTokenAndFencingToken_AndFencingGrowsAfterwards()
    {
        await using var cluster = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 2);

        // Find a lock whose activation lives on the second silo, the one we will kill.
        ILockGrain grain;
        LockLease lease;
        LockId id;
        do
        {
            id = LockId.Create("kill", Guid.NewGuid().ToString("N"));
            grain = cluster.Grains.GetGrain<ILockGrain>(id.ToGrainKey());
            lease = (await grain.TryAcquire("holder"))!;
        }
        while (cluster.HostOf(grain) != cluster.Cluster.Silos[1]);

        // And a lock held through the client library, on the same silo.
        LockHandle handle;
        while (true)
        {
            handle = (await cluster.Locks.TryAcquireAsync("kill", Guid.NewGuid().ToString("N")))!;
            if (cluster.HostOf(cluster.Grains.GetGrain<ILockGrain>(handle.Id.ToGrainKey())) == cluster.Cluster.Silos[1])
            {
                break;
            }

            await handle.DisposeAsync();
        }

        await cluster.Cluster.KillSiloAsync(cluster.Cluster.Silos[1]);

        // Through the client library, the transient fault of the dead silo is retried, not surfaced.
        Assert.True(await handle.IsStillValidAsync());
        Assert.Equal(handle.FencingToken, (await cluster.Grains.GetGrain<ILockGrain>(handle.Id.ToGrainKey()).GetInfo())!.FencingToken);
        var info = await Noticed.RetryAsync(() => grain.GetInfo());
        Assert.NotNull(info);
        Assert.Equal(lease.FencingToken, info.FencingToken);
        Assert.Equal("holder", info.Owner);
        Assert.True(await grain.IsStillValid(lease.Token));
        Assert.Null(await grain.TryAcquire("intruder"));
        Assert.NotNull(await grain.Renew(lease.Token));

        Assert.True(await grain.Release(lease.Token));
        var next = await grain.TryAcquire("next");
        Assert.Equal(lease.FencingToken + 1, next!.FencingToken);
    }

    [Fact]
    public async Task StaleActivation_ItsWriteIsRefused_AndNeverGrantsASecondHolder()
    {
        var (database, one, two) = await StartTwinClustersAsync();
        await using var _ = one;
        await using var __ = two;
        var id = LockId.Create("stale", Guid.NewGuid().ToString("N"));
        var first = one.Grains.GetGrain<ILockGrain>(id.ToGrainKey());
        var second = two.Grains.GetGrain<ILockGrain>(id.ToGrainKey());

        Assert.Null(await second.GetInfo()); // the second activation has read the lock as free
        var granted = await first.TryAcquire("one");
        Assert.NotNull(granted);

        // The second activation still believes the lock is free; its conditional write must fail.
        var refused = await Assert.ThrowsAsync<LockStorageException>(() => second.TryAcquire("two"));
        Assert.True(refused.IsVersionConflict);
        Assert.Contains("stored version changed", refused.Message, StringComparison.Ordinal);

        // The refused activation was dropped; the next call re-reads and sees the real holder.
        Assert.Null(await second.TryAcquire("two"));
        Assert.Equal("one", (await second.GetInfo())!.Owner);
        var row = await WorkerLocksView.FindAsync(database, id);
        Assert.Equal("one", row!.InstanceName);
        Assert.Equal(WorkerLocksView.Fingerprint(granted.Token), row.TokenFingerprint);
        Assert.Equal(granted.FencingToken, row.FencingToken);
    }

    [Fact]
    public async Task StaleActivation_ThroughTheClientLibrary_IsRetriedOnAFreshActivationAndAnswersHeld()
    {
        var (database, one, two) = await StartTwinClustersAsync();
        await using var _ = one;
        await using var __ = two;
        var id = LockId.Create("stale", Guid.NewGuid().ToString("N"));
        Assert.Null(await two.Grains.GetGrain<ILockGrain>(id.ToGrainKey()).GetInfo()); // a stale view: free
        await using var held = await one.Locks.TryAcquireAsync(id.Name, id.Key);
        Assert.NotNull(held);

        var second = await two.Locks.TryAcquireAsync(id.Name, id.Key);

        Assert.Null(second);
        Assert.Equal(held.FencingToken, (await WorkerLocksView.FindAsync(database, id))!.FencingToken);
        Assert.True(await held.IsStillValidAsync());
    }

    [Fact]
    public async Task StaleActivation_AfterTheFreeRowWasCleanedUp_IsStillRefused()
    {
        var (_, one, two) = await StartTwinClustersAsync();
        await using var _1 = one;
        await using var _2 = two;
        var id = LockId.Create("stale", Guid.NewGuid().ToString("N"));
        var current = one.Grains.GetGrain<ILockGrain>(id.ToGrainKey());
        var stale = two.Grains.GetGrain<ILockGrain>(id.ToGrainKey());
        var first = await current.TryAcquire("one");
        await current.Release(first!.Token);
        await Eventually.TrueAsync(async () => (await one.StoredStateAsync(id)).Token is null, "the release was written");
        Assert.Null(await stale.GetInfo()); // the stale activation has read the free row

        // The row is cleaned up after the retention, then the lock is granted and renewed again.
        one.Advance(TimeSpan.FromHours(1) + R);
        two.Advance(TimeSpan.FromHours(1) + R);
        Assert.True(await one.Grains.GetGrain<ILockSweepTarget>(GrainId.Create("orleanslocks.lock", id.ToGrainKey())).Sweep());
        var second = await Noticed.RetryAsync(() => current.TryAcquire("one"));
        Assert.NotNull(await current.Renew(second!.Token));

        var refused = await Assert.ThrowsAsync<LockStorageException>(() => stale.TryAcquire("two"));
        Assert.True(refused.IsVersionConflict);
        Assert.True(await current.IsStillValid(second.Token));
        Assert.Null(await stale.TryAcquire("two"));
    }

    [Fact]
    public async Task StorageOutage_AcquireFailsClearlyAndGrantsNothing_ThenWorksAgainWithoutRestartingTheSilo()
    {
        await using var server = await PostgresServer.StartAsync(durable: false, own: true);
        var database = await server.CreateDatabaseAsync("outage");
        await using var cluster = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1, connectionString: database);
        var id = LockId.Create("outage", Guid.NewGuid().ToString("N"));
        var grain = cluster.Grains.GetGrain<ILockGrain>(id.ToGrainKey());
        Assert.Null(await grain.GetInfo()); // activated and read while PostgreSQL was up

        await server.StopAsync();
        var direct = await Assert.ThrowsAsync<LockStorageException>(() => grain.TryAcquire("w"));
        Assert.False(direct.IsVersionConflict);
        Assert.Contains("failed in storage", direct.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<LockStorageException>(async () => await cluster.Locks.TryAcquireAsync(id.Name, id.Key));

        await server.RestartAsync();
        Assert.Null(await WorkerLocksView.FindAsync(database, id)); // nothing was granted during the outage
        await using var handle = await Noticed.RetryAsync(async () => await cluster.Locks.TryAcquireAsync(id.Name, id.Key));
        Assert.NotNull(handle);
        Assert.Equal(handle.Owner, (await WorkerLocksView.FindAsync(database, id))!.InstanceName);
    }

    [Fact]
    public async Task Sweep_FreesLocksThatExpiredWhileTheWholeClusterWasDown()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("sweep");
        var serviceId = "sweep-" + Guid.NewGuid().ToString("N");
        var id = LockId.Create("sweep", "!room:example.org");
        await using (var before = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1, connectionString: database, serviceId: serviceId))
        {
            Assert.NotNull(await before.Grains.GetGrain<ILockGrain>(id.ToGrainKey()).TryAcquire("gone-worker"));
        }

        // Every silo is gone; a new cluster starts later, and no activation of the lock exists.
        await using var after = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1, connectionString: database, serviceId: serviceId);
        after.Advance(T + R);
        Assert.NotNull(await WorkerLocksView.FindAsync(database, id)); // the expired holder is still in the row

        var swept = await after.Grains.GetGrain<ILockSweeperGrain>(0).SweepNow();

        Assert.Equal(1, swept);
        Assert.Null(await WorkerLocksView.FindAsync(database, id));
        Assert.True(await WorkerLocksView.HasStoredStateAsync(database, id)); // the free row keeps the fencing counter
        Assert.True(await SweepReminderExistsAsync(database, serviceId));
    }

    [Fact]
    public async Task Sweep_ClearsRowsFreeForLongerThanTheRetention_AndFencingStillGrows()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("retention");
        await using var cluster = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1, connectionString: database);
        var id = LockId.Create("retention", Guid.NewGuid().ToString("N"));
        var grain = cluster.Grains.GetGrain<ILockGrain>(id.ToGrainKey());
        var first = await grain.TryAcquire("w");
        await grain.Release(first!.Token);

        cluster.Advance(TimeSpan.FromHours(1) + R);
        Assert.Equal(1, await cluster.Grains.GetGrain<ILockSweeperGrain>(0).SweepNow());

        Assert.False(await WorkerLocksView.HasStoredStateAsync(database, id));
        var second = await Noticed.RetryAsync(() => grain.TryAcquire("w"));
        Assert.True(second!.FencingToken > first.FencingToken);
    }

    /// <summary>
    /// Two clusters on one database and service id: the same lock gets one activation in each,
    /// which is exactly a duplicate activation.
    /// </summary>
    private static async Task<(string Database, LockCluster One, LockCluster Two)> StartTwinClustersAsync()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("stale");
        var serviceId = "stale-" + Guid.NewGuid().ToString("N");
        var one = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1, connectionString: database, serviceId: serviceId);
        var two = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1, connectionString: database, serviceId: serviceId);
        return (database, one, two);
    }

    private static async Task<bool> SweepReminderExistsAsync(string database, string serviceId)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM OrleansRemindersTable WHERE ServiceId = @s AND GrainId LIKE 'orleanslocks.sweeper/%'", connection);
        command.Parameters.AddWithValue("s", serviceId);
        return (long)(await command.ExecuteScalarAsync())! == 1;
    }
}
