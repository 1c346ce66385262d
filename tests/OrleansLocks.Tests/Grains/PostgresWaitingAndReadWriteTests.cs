using Npgsql;
using OrleansLocks.Client;
using OrleansLocks.Grains.Sweep;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Grains;

/// <summary>
/// Waiting and read/write locks where only durable storage and real silo failures tell: waiters that
/// outlive the silo of their lock, read/write rows in PostgreSQL and their sweep. Each test has its own cluster.
/// </summary>
public sealed class PostgresWaitingAndReadWriteTests
{
    private static readonly TimeSpan T = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan R = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Arrival = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AWaiter_OutlivesTheSiloOfItsLock_AndGetsTheLockWhenItIsReleased(bool kill)
    {
        await using var cluster = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 2);
        var doomed = cluster.Cluster.Silos[1];
        var a = await HoldOnSiloAsync(cluster, doomed);
        var grain = cluster.Grains.GetGrain<ILockGrain>(a.Id.ToGrainKey());
        var b = cluster.Locks.AcquireAsync(a.Id.Name, a.Id.Key).AsTask();
        await Eventually.TrueAsync(async () => (await grain.GetInfo())?.Waiting == 1, "B waits");

        if (kill)
        {
            await cluster.Cluster.KillSiloAsync(doomed);
        }
        else
        {
            // The stopping silo answers B's open wait at once; it would otherwise hold up its own stop.
            var stopping = cluster.Cluster.StopSiloAsync(doomed);
            await stopping.WaitAsync(TimeSpan.FromSeconds(15));
        }

        // The lock's next activation reads A's grant back from PostgreSQL, and B joins its line.
        await Eventually.TrueAsync(async () => (await grain.GetInfo())?.Waiting == 1, "B waits in the new activation's line", Arrival);
        Assert.False(b.IsCompleted);
        Assert.True(await a.IsStillValidAsync());

        await a.ReleaseAsync();

        await using var held = await b.WaitAsync(Arrival);
        Assert.True(held.FencingToken > a.FencingToken);
        Assert.NotEqual(doomed, cluster.HostOf(grain));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AfterAFailedWrite_AWaiterJoiningTheDroppedActivation_DoesNotStallTheHoldersRetriedRelease(bool withWaiter)
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("failedwrite");

        // Releases are written before they are answered, so the release itself meets the conflict.
        await using var cluster = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1, connectionString: database);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var id = LockId.Create("failedwrite", Guid.NewGuid().ToString("N"));
            var grain = cluster.Grains.GetGrain<ILockGrain>(id.ToGrainKey());
            var a = await grain.TryAcquire("a");
            Assert.NotNull(a);

            // Another writer moves the stored version: A's release meets a version conflict, and the
            // activation drops itself while a waiter's call is already on its way in.
            await using (var connection = new NpgsqlConnection(database))
            {
                await connection.OpenAsync();
                await using var bump = new NpgsqlCommand(
                    "UPDATE OrleansStorage SET Version = Version + 1 WHERE GrainTypeString = 'orleanslocks.lock' AND GrainIdExtensionString = @k", connection);
                bump.Parameters.AddWithValue("k", id.ToGrainKey());
                Assert.Equal(1, await bump.ExecuteNonQueryAsync());
            }

            var release = grain.Release(a!.Token);
            var wait = withWaiter ? grain.Wait($"c{attempt}", LockKind.Plain, "c") : Task.FromResult<LockLease?>(null);
            Assert.True((await Assert.ThrowsAsync<LockStorageException>(() => release)).IsVersionConflict);

            // The holder retries (as the client library does), and it goes through on a fresh activation.
            Assert.True(await grain.Release(a.Token).WaitAsync(Arrival));
        }
    }

    [Fact]
    public async Task ReadWriteView_ShowsTheWriterOrEachReader_AsSynapsesTableDoes()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("rwview");
        await using var cluster = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1, connectionString: database);
        var id = LockId.Create("rooms", $"!{Guid.NewGuid():N}:example.org");
        var grain = cluster.Grains.GetGrain<IReadWriteLockGrain>(id.ToGrainKey());

        var r1 = await grain.TryAcquireRead("reader1");
        var r2 = await grain.TryAcquireRead("reader2");
        var rows = await WorkerLocksView.ReadWriteRowsAsync(database, id);
        Assert.Equal(
            [(false, "reader1", WorkerLocksView.Fingerprint(r1!.Token), r1.FencingToken), (false, "reader2", WorkerLocksView.Fingerprint(r2!.Token), r2.FencingToken)],
            rows.Select(r => (r.WriteLock, r.Owner, r.TokenFingerprint, r.FencingToken)).OrderBy(r => r.Owner));

        // A plain lock of the same name and key is a different row, and not in this view.
        Assert.NotNull(await cluster.Grains.GetGrain<ILockGrain>(id.ToGrainKey()).TryAcquire("plain-holder"));
        Assert.Equal(2, (await WorkerLocksView.ReadWriteRowsAsync(database, id)).Count);
        Assert.Equal("plain-holder", (await WorkerLocksView.FindAsync(database, id))!.InstanceName);

        await grain.Release(r1.Token);
        await grain.Release(r2.Token);
        var w = await grain.TryAcquireWrite("writer");
        var writerRow = Assert.Single(await WorkerLocksView.ReadWriteRowsAsync(database, id));
        Assert.Equal((true, "writer", WorkerLocksView.Fingerprint(w!.Token), w.FencingToken), (writerRow.WriteLock, writerRow.Owner, writerRow.TokenFingerprint, writerRow.FencingToken));
    }

    [Fact]
    public async Task Sweep_FreesExpiredReadersOfAReadWriteLock_ThatNoActivationWatched()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("rwsweep");
        var serviceId = "rwsweep-" + Guid.NewGuid().ToString("N");
        var id = LockId.Create("rooms", "!swept:example.org");
        await using (var before = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1, connectionString: database, serviceId: serviceId))
        {
            var grain = before.Grains.GetGrain<IReadWriteLockGrain>(id.ToGrainKey());
            Assert.NotNull(await grain.TryAcquireRead("gone-reader1"));
            Assert.NotNull(await grain.TryAcquireRead("gone-reader2"));
        }

        await using var after = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1, connectionString: database, serviceId: serviceId);
        after.Advance(T + R);
        Assert.Equal(2, (await WorkerLocksView.ReadWriteRowsAsync(database, id)).Count);

        Assert.Equal(1, await after.Grains.GetGrain<ILockSweeperGrain>(0).SweepNow());

        Assert.Empty(await WorkerLocksView.ReadWriteRowsAsync(database, id));
        Assert.NotNull(await after.Grains.GetGrain<IReadWriteLockGrain>(id.ToGrainKey()).TryAcquireWrite("writer"));
    }

    [Fact]
    public async Task ReadWriteHolders_SurviveASiloKill_WithTheirTokensAndFencingTokens()
    {
        await using var cluster = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 2);
        IReadWriteLockGrain grain;
        LockLease reader;
        do
        {
            grain = cluster.Grains.GetGrain<IReadWriteLockGrain>(LockId.Create("rwkill", Guid.NewGuid().ToString("N")).ToGrainKey());
            reader = (await grain.TryAcquireRead("reader"))!;
        }
        while (cluster.HostOf(grain) != cluster.Cluster.Silos[1]);

        await cluster.Cluster.KillSiloAsync(cluster.Cluster.Silos[1]);

        var info = await Noticed.RetryAsync(() => grain.GetInfo());
        Assert.Equal(reader.FencingToken, Assert.Single(info.Readers).FencingToken);
        Assert.True(await grain.IsStillValid(reader.Token));
        Assert.Null(await grain.TryAcquireWrite("writer"));
        Assert.NotNull(await grain.TryAcquireRead("another-reader"));
    }

    private static async Task<LockHandle> HoldOnSiloAsync(LockCluster cluster, Orleans.TestingHost.InProcessSiloHandle silo)
    {
        while (true)
        {
            var handle = await cluster.Locks.AcquireAsync("failover", Guid.NewGuid().ToString("N"));
            if (cluster.HostOf(cluster.Grains.GetGrain<ILockGrain>(handle.Id.ToGrainKey())) == silo)
            {
                return handle;
            }

            await handle.DisposeAsync();
        }
    }
}
