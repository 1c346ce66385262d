using Npgsql;
using OrleansLocks.Grains.Storage;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Admin;

/// <summary>
/// The SQL views are read by operators and tools with no more than SELECT rights: they show a short
/// fingerprint of each token, never the token (the capability to renew and release) nor the acquire id
/// (a retried acquire with it gets the lease, token included, back).
/// </summary>
public sealed class TokenFreeViewsTests
{
    [Fact]
    public async Task Views_ShowAFingerprint_NeverTheTokenOrTheAcquireId()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("tokenfree");
        await using var cluster = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1, connectionString: database);
        var id = LockId.Create("rooms", "!abc:example.org");
        var plain = (await cluster.Grains.GetGrain<ILockGrain>(id.ToGrainKey()).TryAcquire("plain", attemptId: "attempt-plain-1"))!;
        var reader = (await cluster.Grains.GetGrain<IReadWriteLockGrain>(id.ToGrainKey()).TryAcquireRead("reader", attemptId: "attempt-read-1"))!;

        var everything = string.Join("\n", await ReadAllAsync(database, "orleans_locks"), await ReadAllAsync(database, "worker_locks"), await ReadAllAsync(database, "worker_read_write_locks"));

        foreach (var secret in new[] { plain.Token, reader.Token, "attempt-plain-1", "attempt-read-1" })
        {
            Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
        }

        Assert.Contains(WorkerLocksView.Fingerprint(plain.Token), everything, StringComparison.Ordinal);
        Assert.Contains(WorkerLocksView.Fingerprint(reader.Token), everything, StringComparison.Ordinal);
        Assert.Equal(WorkerLocksView.Fingerprint(reader.Token), Assert.Single(await WorkerLocksView.ReadWriteRowsAsync(database, id)).TokenFingerprint);
    }

    [Fact]
    public async Task Schema_AppliedOverViewsThatShowedTheToken_ReplacesThem_AndAppliesAgainHarmlessly()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("oldviews", applySchema: false);
        await PostgresSchema.ApplyAsync(database);
        await ExecuteAsync(database, """
            DROP VIEW worker_semaphores; DROP VIEW worker_read_write_locks; DROP VIEW worker_locks; DROP VIEW orleans_locks;
            CREATE VIEW orleans_locks AS SELECT 'x'::text AS lock_name, 'secret'::text AS token;
            CREATE VIEW worker_locks AS SELECT lock_name, token FROM orleans_locks;
            CREATE VIEW worker_read_write_locks AS SELECT lock_name, token FROM orleans_locks;
            UPDATE orleanslocks_schema SET version = 1;
            """);

        await PostgresSchema.ApplyAsync(database);
        await PostgresSchema.ApplyAsync(database);

        Assert.Equal(PostgresSchema.ExpectedVersion, await PostgresSchema.ReadVersionAsync(database));
        foreach (var view in new[] { "orleans_locks", "worker_locks", "worker_read_write_locks", "worker_semaphores" })
        {
            var columns = await ColumnsAsync(database, view);
            Assert.Contains("token_fingerprint", columns);
            Assert.DoesNotContain("token", columns);
            Assert.DoesNotContain("acquire_id", columns);
        }
    }

    [Fact]
    public async Task Views_CanBeReadByAParallelPlan_AsALargeTableGets()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("parallel");
        await using var cluster = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1, connectionString: database);
        Assert.NotNull(await cluster.Grains.GetGrain<ILockGrain>(LockId.Create("rooms", "a").ToGrainKey()).TryAcquire("w"));

        // Planner settings that make even a tiny table scan in parallel, as a table of many locks does.
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
            SET min_parallel_table_scan_size = 0; SET parallel_leader_participation = off;
            SELECT count(*) FROM orleans_locks WHERE expires_ts IS NOT NULL;
            """, connection);

        Assert.Equal(1L, await command.ExecuteScalarAsync());
    }

    private static async Task<string> ReadAllAsync(string database, string view)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT to_jsonb(v)::text FROM {view} AS v", connection);
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        Assert.NotEmpty(rows);
        return string.Join("\n", rows);
    }

    private static async Task<List<string>> ColumnsAsync(string database, string view)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT column_name::text FROM information_schema.columns WHERE table_name = @view", connection);
        command.Parameters.AddWithValue("view", view);
        var columns = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            columns.Add(reader.GetString(0));
        }

        return columns;
    }

    private static async Task ExecuteAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
