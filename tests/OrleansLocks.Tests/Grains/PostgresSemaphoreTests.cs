using Npgsql;
using OrleansLocks.Grains.Sweep;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Grains;

/// <summary>Semaphore rows in PostgreSQL: the worker_semaphores view and the sweep. Each test has its own cluster.</summary>
public sealed class PostgresSemaphoreTests
{
    private static readonly TimeSpan T = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan R = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task SemaphoreView_ShowsOneRowPerHolder_WithTheCount_AndNeverTheToken()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("semview");
        await using var cluster = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1, connectionString: database);
        var id = LockId.Create("upload_slots", $"!{Guid.NewGuid():N}:example.org");
        var grain = cluster.Grains.GetGrain<ISemaphoreGrain>(id.ToGrainKey());
        var a = await grain.TryAcquire(3, "worker-a");
        var b = await grain.TryAcquire(3, "worker-b");

        var rows = await RowsAsync(database, id);

        Assert.Equal(
            [
                (3, "worker-a", WorkerLocksView.Fingerprint(a!.Token), a.FencingToken, a.ExpiresAt.ToUnixTimeMilliseconds()),
                (3, "worker-b", WorkerLocksView.Fingerprint(b!.Token), b.FencingToken, b.ExpiresAt.ToUnixTimeMilliseconds()),
            ],
            rows.OrderBy(r => r.Owner));
        Assert.False(await AnyColumnHoldsAsync(database, id, a.Token));
        Assert.False(await AnyColumnHoldsAsync(database, id, b.Token));

        // A plain lock of the same name and key is another row, never in this view.
        Assert.NotNull(await cluster.Grains.GetGrain<ILockGrain>(id.ToGrainKey()).TryAcquire("plain-holder"));
        Assert.Equal(2, (await RowsAsync(database, id)).Count);

        await grain.Release(a.Token);
        Assert.Equal("worker-b", Assert.Single(await RowsAsync(database, id)).Owner);
    }

    [Fact]
    public async Task Sweep_FreesExpiredHoldersOfASemaphore_ThatNoActivationWatched()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("semsweep");
        var serviceId = "semsweep-" + Guid.NewGuid().ToString("N");
        var id = LockId.Create("upload_slots", "swept");
        await using (var before = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1, connectionString: database, serviceId: serviceId))
        {
            var grain = before.Grains.GetGrain<ISemaphoreGrain>(id.ToGrainKey());
            Assert.NotNull(await grain.TryAcquire(2, "gone-a"));
            Assert.NotNull(await grain.TryAcquire(2, "gone-b"));
        }

        await using var after = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1, connectionString: database, serviceId: serviceId);
        after.Advance(T + R);
        Assert.Equal(2, (await RowsAsync(database, id)).Count);

        Assert.Equal(1, await after.Grains.GetGrain<ILockSweeperGrain>(0).SweepNow());

        Assert.Empty(await RowsAsync(database, id));
        var info = await after.Grains.GetGrain<ISemaphoreGrain>(id.ToGrainKey()).GetInfo();
        Assert.True(info.IsFree);
        Assert.Null(info.MaxCount);
    }

    private static async Task<List<(int MaxCount, string Owner, string TokenFingerprint, long FencingToken, long ExpiresTs)>> RowsAsync(string database, LockId id)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT max_count, instance_name, token_fingerprint, fencing_token, expires_ts FROM worker_semaphores WHERE lock_name = @n AND lock_key = @k",
            connection);
        command.Parameters.AddWithValue("n", id.Name);
        command.Parameters.AddWithValue("k", id.Key);
        var rows = new List<(int, string, string, long, long)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt32(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetInt64(4)));
        }

        return rows;
    }

    // Every column of the semaphore's rows in both views, as text: none may carry the token.
    private static async Task<bool> AnyColumnHoldsAsync(string database, LockId id, string token)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT EXISTS (SELECT 1 FROM worker_semaphores AS w WHERE w.lock_name = @n AND w.lock_key = @k AND strpos(row_to_json(w)::text, @t) > 0)
                OR EXISTS (SELECT 1 FROM orleans_locks AS l WHERE l.lock_name = @n AND l.lock_key = @k AND strpos(row_to_json(l)::text, @t) > 0)
            """,
            connection);
        command.Parameters.AddWithValue("n", id.Name);
        command.Parameters.AddWithValue("k", id.Key);
        command.Parameters.AddWithValue("t", token);
        return (bool)(await command.ExecuteScalarAsync())!;
    }
}
