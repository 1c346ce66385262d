using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Orleans.Hosting;
using OrleansLocks.Grains.Storage;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Grains.Storage;

/// <summary>
/// The group-commit writer against a real PostgreSQL: what a batch does with conflicts, first writes,
/// its size bound, another silo's batches, deadlocks, failures, cancellation and shutdown. To make a
/// batch hold still (so that writes queue behind it), a test takes a row lock in its own transaction
/// and waits until PostgreSQL reports the batch waiting for it: no timing is assumed.
/// </summary>
public sealed class GroupCommitLockWriterTests
{
    private const string StateName = "orleanslocks.lock";

    [Fact]
    public async Task AnIdleWriter_SendsAWriteAtOnce_InABatchOfItsOwn()
    {
        var (database, serviceId) = await NewDatabaseAsync();
        await using var writer = NewWriter(database, serviceId);

        Assert.Equal(1, await writer.WriteAsync(Row(serviceId, "idle:1"), null, Payload("a")));

        Assert.Equal(1, writer.Batches);
        Assert.Equal(1, writer.LargestBatch);
    }

    [Fact]
    public async Task WritesQueuedWhileABatchIsInFlight_AreCommittedTogether_AndAConflictFailsOnlyItsOwnWrite()
    {
        var (database, serviceId) = await NewDatabaseAsync();
        await using var writer = NewWriter(database, serviceId);
        var rows = Enumerable.Range(0, 10).Select(i => Row(serviceId, $"mixed:{i}")).ToArray();
        var blocker = Row(serviceId, "mixed:blocker");
        await SeedAsync(writer, [.. rows, blocker]);

        await using (var hold = await RowHold.TakeAsync(database, blocker))
        {
            var first = writer.WriteAsync(blocker, 1, Payload("first"));
            await WaitUntilBlockedAsync(database);
            var writes = rows.Select((row, i) => writer.WriteAsync(row, i == 3 ? 7 : 1, Payload($"w{i}"))).ToArray();
            await hold.ReleaseAsync();

            Assert.Equal(2, await first);
            var versions = await Task.WhenAll(writes);
            Assert.Null(versions[3]); // its stored version was 1, not 7: its own conflict
            Assert.All(versions.Where((_, i) => i != 3), v => Assert.Equal(2, v));
        }

        Assert.Equal(10, writer.LargestBatch); // the ten queued writes went out in one statement
        Assert.Equal((Text("w0"), 2), await ReadAsync(writer, rows[0]));
        Assert.Equal((Text("seed"), 1), await ReadAsync(writer, rows[3])); // untouched
    }

    [Fact]
    public async Task FirstWrites_AreInsertedInTheSameBatchAsUpdates_AndAFirstWriteOfAnExistingRowIsAConflict()
    {
        var (database, serviceId) = await NewDatabaseAsync();
        await using var writer = NewWriter(database, serviceId);
        var existing = Row(serviceId, "first:existing");
        var alsoExisting = Row(serviceId, "first:also-existing");
        var blocker = Row(serviceId, "first:blocker");
        await SeedAsync(writer, [existing, alsoExisting, blocker]);

        await using var hold = await RowHold.TakeAsync(database, blocker);
        var held = writer.WriteAsync(blocker, 1, Payload("b"));
        await WaitUntilBlockedAsync(database);
        var inserted = writer.WriteAsync(Row(serviceId, "first:new"), null, Payload("new"));
        var updated = writer.WriteAsync(existing, 1, Payload("updated"));
        var racedInsert = writer.WriteAsync(alsoExisting, null, Payload("lost")); // another activation created it first
        await hold.ReleaseAsync();

        Assert.Equal(2, await held);
        Assert.Equal(1, await inserted);
        Assert.Equal(2, await updated);
        Assert.Null(await racedInsert);
        Assert.Equal(3, writer.LargestBatch);
        Assert.Equal((Text("updated"), 2), await ReadAsync(writer, existing));
    }

    [Fact]
    public async Task WritesQueuedBeyondTheBatchBound_GoInLaterBatches()
    {
        var (database, serviceId) = await NewDatabaseAsync();
        await using var writer = NewWriter(database, serviceId, maxBatchSize: 4);
        var blocker = Row(serviceId, "bound:blocker");
        await SeedAsync(writer, [blocker]);
        var batchesBefore = writer.Batches;

        await using var hold = await RowHold.TakeAsync(database, blocker);
        var held = writer.WriteAsync(blocker, 1, Payload("b"));
        await WaitUntilBlockedAsync(database);
        var writes = Enumerable.Range(0, 10).Select(i => writer.WriteAsync(Row(serviceId, $"bound:{i}"), null, Payload("x"))).ToArray();
        await hold.ReleaseAsync();

        Assert.Equal(2, await held);
        Assert.All(await Task.WhenAll(writes), v => Assert.Equal(1, v));
        Assert.Equal(4, writer.LargestBatch);
        Assert.Equal(1 + 3, writer.Batches - batchesBefore); // 1 held + 4 + 4 + 2
    }

    [Fact]
    public async Task WithTwoBatchesInFlight_ABlockedBatchDoesNotHoldUpTheNext_AndWritesQueueOnlyWhenBothAreOut()
    {
        var (database, serviceId) = await NewDatabaseAsync();
        await using var writer = NewWriter(database, serviceId, maxConcurrentBatches: 2);
        var blocker = Row(serviceId, "two:blocker");
        await SeedAsync(writer, [blocker]);

        await using var hold = await RowHold.TakeAsync(database, blocker);
        var first = writer.WriteAsync(blocker, 1, Payload("first"));
        var firstPid = await WaitUntilBlockedAsync(database);
        Assert.Equal(1, await writer.WriteAsync(Row(serviceId, "two:free"), null, Payload("free"))); // the second slot
        Assert.False(first.IsCompleted);

        var second = writer.WriteAsync(blocker, 1, Payload("second")); // same version as the first: one of them loses
        await WaitUntilBlockedAsync(database, except: firstPid);
        var queued = Enumerable.Range(0, 5).Select(i => writer.WriteAsync(Row(serviceId, $"two:{i}"), null, Payload("q"))).ToArray();
        await hold.ReleaseAsync();

        Assert.Equal(2, await first);
        Assert.Null(await second); // it waited for the first's row lock, then found the version moved
        Assert.All(await Task.WhenAll(queued), v => Assert.Equal(1, v));
        Assert.Equal(5, writer.LargestBatch);
        Assert.Equal((Text("first"), 2), await ReadAsync(writer, blocker));
    }

    [Fact]
    public async Task TwoSilosWritingTheSameRowsAtOnce_EachRowTakesExactlyOneWrite_AndNeitherBatchFails()
    {
        var (database, serviceId) = await NewDatabaseAsync();
        await using var one = NewWriter(database, serviceId);
        await using var two = NewWriter(database, serviceId);
        var rows = Enumerable.Range(0, 40).Select(i => Row(serviceId, $"race:{i}")).ToArray();
        await SeedAsync(one, rows);

        for (var round = 1; round <= 5; round++)
        {
            // Both start from the version they last saw; they queue in opposite orders.
            var fromOne = rows.Select(row => one.WriteAsync(row, round, Payload($"one{round}"))).ToArray();
            var fromTwo = rows.Reverse().Select(row => two.WriteAsync(row, round, Payload($"two{round}"))).Reverse().ToArray();
            var a = await Task.WhenAll(fromOne);
            var b = await Task.WhenAll(fromTwo);
            for (var i = 0; i < rows.Length; i++)
            {
                Assert.True(a[i] is null != b[i] is null, $"row {i} in round {round}: exactly one writer wins ({a[i]}, {b[i]})");
                Assert.Equal(round + 1, a[i] ?? b[i]);
                var (payload, version) = await ReadAsync(one, rows[i]);
                Assert.Equal(round + 1, version);
                Assert.Equal(Text(a[i] is null ? $"two{round}" : $"one{round}"), payload);
            }
        }
    }

    [Fact]
    public async Task ABatchThatLosesADeadlock_IsRolledBackAndSentAgain_AndTakesEffect()
    {
        var (database, serviceId) = await NewDatabaseAsync();

        // PostgreSQL looks for a cycle once per wait, deadlock_timeout after the wait began, and the
        // first to look finds it and aborts itself. The batch waits first; with 5 s it looks after
        // the other transaction has closed the cycle however slow a loaded machine is between the
        // two, and the other transaction looks only after 60 s, so the batch is the one aborted.
        await using var writer = NewWriter(new NpgsqlConnectionStringBuilder(database) { Options = "-c deadlock_timeout=5s" }.ConnectionString, serviceId);
        var (early, late) = TwoRowsInWriteOrder(serviceId, "deadlock");
        var gate = Row(serviceId, "deadlock:gate");
        await SeedAsync(writer, [early, late, gate]);

        // The two writes must travel in one batch: while a write of a third row is held up (one
        // statement in flight at most), both are queued; freeing it sends them together.
        await using (var gateHold = await RowHold.TakeAsync(database, gate))
        {
            var gateWrite = writer.WriteAsync(gate, 1, Payload("g"));
            await WaitUntilBlockedAsync(database);
            await using var hold = await RowHold.TakeAsync(database, late, deadlockTimeout: "60s");
            var writes = new[] { writer.WriteAsync(late, 1, Payload("l")), writer.WriteAsync(early, 1, Payload("e")) };
            await gateHold.ReleaseAsync();
            Assert.Equal(2, await gateWrite);

            // Another transaction holds the row the batch locks second; the batch locks the first,
            // then waits. The other transaction then asks for the first row: a cycle, which
            // PostgreSQL breaks by aborting the batch (its deadlock check runs first, see above).
            await WaitUntilBlockedAsync(database);
            await hold.LockAlsoAsync(early);
            await hold.ReleaseAsync();

            Assert.Equal([2, 2], await Task.WhenAll(writes));
        }

        Assert.Equal(1, writer.DeadlockRetries);
        Assert.Equal((Text("e"), 2), await ReadAsync(writer, early));
    }

    [Fact]
    public async Task ABatchFailingInAnOutage_FailsEachOfItsWritesAsAFailure_CommitsNone_AndLaterBatchesWorkAgain()
    {
        var (database, serviceId) = await NewDatabaseAsync();
        await using var writer = NewWriter(database, serviceId);
        var blocker = Row(serviceId, "outage:blocker");
        var rows = new[] { Row(serviceId, "outage:1"), Row(serviceId, "outage:2") };
        await SeedAsync(writer, [blocker, .. rows]);

        await using var hold = await RowHold.TakeAsync(database, blocker);
        var alone = writer.WriteAsync(blocker, 1, Payload("alone"));
        var first = await WaitUntilBlockedAsync(database);
        var batch = new[] { writer.WriteAsync(rows[0], 1, Payload("lost")), writer.WriteAsync(rows[1], 1, Payload("lost")), writer.WriteAsync(blocker, 1, Payload("lost")) };

        // The connection of the batch in flight dies (as in a database restart): its write fails.
        await TerminateAsync(database, first);
        await Assert.ThrowsAnyAsync<Exception>(() => alone);

        // The next batch (three writes) waits on the same row; its connection dies too.
        await TerminateAsync(database, await WaitUntilBlockedAsync(database, except: first));
        foreach (var write in batch)
        {
            var failure = await Assert.ThrowsAnyAsync<Exception>(() => write);
            Assert.IsNotType<InvalidOperationException>(failure); // a storage failure, not a refusal
        }

        await hold.ReleaseAsync();
        Assert.Equal((Text("seed"), 1), await ReadAsync(writer, rows[0])); // nothing of the batch took effect
        Assert.Equal((Text("seed"), 1), await ReadAsync(writer, blocker));
        Assert.Equal(2, await writer.WriteAsync(rows[0], 1, Payload("after")));
    }

    [Fact]
    public async Task StoppingWithWritesQueued_CommitsThemBeforeItEnds_AndRefusesLaterWrites()
    {
        var (database, serviceId) = await NewDatabaseAsync();
        var writer = NewWriter(database, serviceId);
        await using var _ = writer;
        var blocker = Row(serviceId, "stop:blocker");
        await SeedAsync(writer, [blocker]);

        await using var hold = await RowHold.TakeAsync(database, blocker);
        var held = writer.WriteAsync(blocker, 1, Payload("b"));
        await WaitUntilBlockedAsync(database);
        var queued = Enumerable.Range(0, 5).Select(i => writer.WriteAsync(Row(serviceId, $"stop:{i}"), null, Payload("q"))).ToArray();
        var stopping = writer.StopAsync(CancellationToken.None);

        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.WriteAsync(Row(serviceId, "stop:late"), null, Payload("late")));
        Assert.False(stopping.IsCompleted);
        await hold.ReleaseAsync();
        await stopping;

        Assert.Equal(2, await held);
        Assert.All(await Task.WhenAll(queued), v => Assert.Equal(1, v));
    }

    [Fact]
    public async Task StoppingWhenShutdownIsCancelled_FailsEveryWriteNotYetCommitted_AndCommitsNone()
    {
        var (database, serviceId) = await NewDatabaseAsync();
        var writer = NewWriter(database, serviceId);
        await using var _ = writer;
        var blocker = Row(serviceId, "cancel:blocker");
        var queuedRow = Row(serviceId, "cancel:queued");
        await SeedAsync(writer, [blocker, queuedRow]);

        await using var hold = await RowHold.TakeAsync(database, blocker);
        var held = writer.WriteAsync(blocker, 1, Payload("b"));
        await WaitUntilBlockedAsync(database);
        var queued = writer.WriteAsync(queuedRow, 1, Payload("q"));
        using var shutdown = new CancellationTokenSource();
        var stopping = writer.StopAsync(shutdown.Token);
        await shutdown.CancelAsync();
        await stopping;

        await Assert.ThrowsAnyAsync<Exception>(() => held);
        await Assert.ThrowsAnyAsync<Exception>(() => queued);
        await hold.ReleaseAsync();
        await using var reader = NewWriter(database, serviceId);
        Assert.Equal((Text("seed"), 1), await ReadAsync(reader, blocker));
        Assert.Equal((Text("seed"), 1), await ReadAsync(reader, queuedRow));
    }

    [Fact]
    public async Task StoppingWhileABatchIsStuck_CancelsItAfterItsBound_FailsItsWrites_AndCommitsNone()
    {
        var (database, serviceId) = await NewDatabaseAsync();
        var writer = NewWriter(database, serviceId);
        await using var _ = writer;
        var blocker = Row(serviceId, "stuck:blocker");
        await SeedAsync(writer, [blocker]);

        await using var hold = await RowHold.TakeAsync(database, blocker);
        var stuck = writer.WriteAsync(blocker, 1, Payload("stuck"));
        await WaitUntilBlockedAsync(database);

        // No shutdown deadline is given: the writer's own bound ends the stop.
        await writer.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        await Assert.ThrowsAnyAsync<Exception>(() => stuck);
        await hold.ReleaseAsync();
        await using var reader = NewWriter(database, serviceId);
        Assert.Equal((Text("seed"), 1), await ReadAsync(reader, blocker));
    }

    [Fact]
    public async Task AClear_KeepsTheRowAndBumpsItsVersion_SoAnOlderVersionNeverMatchesAgain()
    {
        var (database, serviceId) = await NewDatabaseAsync();
        await using var writer = NewWriter(database, serviceId);
        var row = Row(serviceId, "clear:1");
        await SeedAsync(writer, [row]);

        Assert.Equal(2, await writer.WriteAsync(row, 1, payload: null));
        Assert.Equal((null, 2), await ReadAsync(writer, row));
        Assert.Null(await writer.WriteAsync(row, 1, Payload("stale")));
        Assert.Null(await writer.WriteAsync(row, null, Payload("recreated")));
    }

    /// <summary>
    /// A silo loss reactivates thousands of locks at once, each reading its row. Reads beyond what the
    /// connection pool holds must wait their turn in the writer, not fail at the pool's timeout (which
    /// turned a silo loss at 100,000 locks into a storm of failed reads and retries).
    /// </summary>
    [Fact]
    public async Task ManyReadsAtOnce_BeyondThePoolAndPastItsTimeout_WaitTheirTurn_AndAllSucceed()
    {
        var (database, serviceId) = await NewDatabaseAsync();
        var smallPool = new NpgsqlConnectionStringBuilder(database) { MaxPoolSize = 4, Timeout = 1 }.ConnectionString;
        await using var writer = new GroupCommitLockWriter(OrleansLocksSiloBuilderExtensions.TunedForLocks(smallPool), serviceId, 256, NullLogger.Instance);
        var rows = Enumerable.Range(0, 100).Select(i => Row(serviceId, $"burst:{i}")).ToArray();
        await SeedAsync(writer, rows.Take(50)); // half stored, half never written

        await using var connection = new NpgsqlConnection(database);
        var transaction = await LockTableAsync(connection);

        var reads = rows.Select(row => ReadAsync(writer, row)).ToArray();
        await WaitUntilBlockedAsync(database);
        await Task.Delay(TimeSpan.FromSeconds(2)); // past the pool's 1 s timeout: an unbounded read would have failed by now
        Assert.DoesNotContain(reads, r => r.IsFaulted);
        await transaction.RollbackAsync();

        var results = await Task.WhenAll(reads);
        Assert.All(results.Take(50), r => Assert.Equal((Text("seed"), 1), r));
        Assert.All(results.Skip(50), r => Assert.Equal((null, null), r));
    }

    [Fact]
    public async Task ReadsQueuedBehindAStatementInFlight_GoOutTogether_AndEachGetsItsOwnRow()
    {
        var (database, serviceId) = await NewDatabaseAsync();

        // A pool of 2 with one batch connection leaves one read statement in flight at a time.
        var pool = new NpgsqlConnectionStringBuilder(database) { MaxPoolSize = 2 }.ConnectionString;
        await using var writer = new GroupCommitLockWriter(OrleansLocksSiloBuilderExtensions.TunedForLocks(pool), serviceId, 256, NullLogger.Instance);
        await using var otherService = NewWriter(database, serviceId + "-other");
        var stored = Enumerable.Range(0, 20).Select(i => Row(serviceId, $"together:{i}")).ToArray();
        var cleared = Row(serviceId, "together:cleared");
        var missing = Row(serviceId, "together:missing");
        var elsewhere = Row(serviceId + "-other", "together:missing");
        await SeedAsync(writer, [.. stored, cleared]);
        for (var i = 0; i < stored.Length; i++)
        {
            Assert.Equal(2, await writer.WriteAsync(stored[i], 1, Payload($"row{i}")));
        }

        Assert.Equal(2, await writer.WriteAsync(cleared, 1, null));
        Assert.Equal(1, await otherService.WriteAsync(elsewhere, null, Payload("other service"))); // same key, another service
        var statementsBefore = writer.Reader.Statements;

        await using var connection = new NpgsqlConnection(database);
        var transaction = await LockTableAsync(connection);

        // The first read goes out alone and waits on the table; the rest queue behind it.
        var first = ReadAsync(writer, stored[0]);
        await WaitUntilBlockedAsync(database);
        var rest = stored.Skip(1).Append(cleared).Append(missing).Append(stored[3]).Select(row => ReadAsync(writer, row)).ToArray();
        await transaction.RollbackAsync();

        Assert.Equal((Text("row0"), 2), await first);
        var results = await Task.WhenAll(rest);
        for (var i = 1; i < stored.Length; i++)
        {
            Assert.Equal((Text($"row{i}"), 2), results[i - 1]);
        }

        Assert.Equal((null, 2), results[^3]); // cleared: no payload, the row's version stays
        Assert.Equal((null, null), results[^2]); // no row of this service (another service's row has the key)
        Assert.Equal((Text("row3"), 2), results[^1]); // the same row twice in one statement
        Assert.Equal(2, writer.Reader.Statements - statementsBefore);
        Assert.Equal(rest.Length, writer.Reader.LargestBatch);
    }

    [Fact]
    public async Task AReadStatementThatFails_FailsEachOfItsReads_AndLaterReadsWorkAgain()
    {
        var (database, serviceId) = await NewDatabaseAsync();
        var pool = new NpgsqlConnectionStringBuilder(database) { MaxPoolSize = 2 }.ConnectionString;
        await using var writer = new GroupCommitLockWriter(OrleansLocksSiloBuilderExtensions.TunedForLocks(pool), serviceId, 256, NullLogger.Instance);
        var rows = Enumerable.Range(0, 10).Select(i => Row(serviceId, $"failing:{i}")).ToArray();
        await SeedAsync(writer, rows);

        await using var connection = new NpgsqlConnection(database);
        var transaction = await LockTableAsync(connection);

        // One read waits on the table; nine queue and go out together once it ends. That statement
        // waits too, and its connection is cut: each of its nine reads fails with the error.
        var first = ReadAsync(writer, rows[0]);
        var reading = await WaitUntilBlockedAsync(database);
        var batch = rows.Skip(1).Select(row => ReadAsync(writer, row)).ToArray();
        await TerminateAsync(database, reading);
        await Assert.ThrowsAnyAsync<Exception>(() => first);
        var together = await WaitUntilBlockedAsync(database, except: reading);
        await TerminateAsync(database, together);
        foreach (var read in batch)
        {
            await Assert.ThrowsAnyAsync<Exception>(() => read);
        }

        await transaction.RollbackAsync();
        Assert.All(await Task.WhenAll(rows.Select(row => ReadAsync(writer, row))), r => Assert.Equal((Text("seed"), 1), r));
    }

    /// <summary>Opens <paramref name="connection"/> and locks the table in a transaction, so that every statement on it waits until that transaction ends.</summary>
    private static async Task<NpgsqlTransaction> LockTableAsync(NpgsqlConnection connection)
    {
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var lockTable = new NpgsqlCommand("LOCK TABLE OrleansStorage IN ACCESS EXCLUSIVE MODE", connection, transaction);
        await lockTable.ExecuteNonQueryAsync();
        return transaction;
    }

    private static byte[] Payload(string text) => Encoding.UTF8.GetBytes(Text(text));

    private static string Text(string token) => $"{{\"token\":\"{token}\"}}";

    private static async Task<(string Database, string ServiceId)> NewDatabaseAsync()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("groupcommit");
        return (database, "gc-" + Guid.NewGuid().ToString("N"));
    }

    /// <summary>A writer; one batch in flight unless asked (so that writes queued behind a held batch form the next one).</summary>
    private static GroupCommitLockWriter NewWriter(string database, string serviceId, int maxBatchSize = 256, int maxConcurrentBatches = 1) =>
        new(OrleansLocksSiloBuilderExtensions.TunedForLocks(database), serviceId, maxBatchSize, NullLogger.Instance, maxConcurrentBatches);

    private static LockRowKey Row(string serviceId, string key) =>
        LockRowKey.For(GrainId.Create(StateName, key), StateName, serviceId);

    /// <summary>Two rows, in the order the writer locks them (it sorts a batch by row hash, then key).</summary>
    private static (LockRowKey Early, LockRowKey Late) TwoRowsInWriteOrder(string serviceId, string prefix)
    {
        var a = Row(serviceId, prefix + ":a");
        var b = Row(serviceId, prefix + ":b");
        return a.GrainIdHash < b.GrainIdHash ? (a, b) : (b, a);
    }

    /// <summary>Stores each row at version 1, one write at a time (so no batch of the test's own is larger).</summary>
    private static async Task SeedAsync(GroupCommitLockWriter writer, IEnumerable<LockRowKey> rows)
    {
        foreach (var row in rows)
        {
            Assert.Equal(1, await writer.WriteAsync(row, null, Payload("seed")));
        }
    }

    private static async Task<(string? Payload, int? Version)> ReadAsync(GroupCommitLockWriter writer, LockRowKey row)
    {
        var (payload, version) = await writer.ReadAsync(row);
        return (payload is null ? null : Encoding.UTF8.GetString(payload), version);
    }

    /// <summary>Waits until a session of the database other than <paramref name="except"/> waits for a row lock; its pid.</summary>
    private static async Task<int> WaitUntilBlockedAsync(string database, int? except = null)
    {
        var blocked = 0;
        await Eventually.TrueAsync(
            async () => (blocked = (await BlockedBackendsAsync(database)).FirstOrDefault(pid => pid != except)) != 0,
            "a batch waiting for a row lock");
        return blocked;
    }

    private static async Task<List<int>> BlockedBackendsAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
            connection);
        var pids = new List<int>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            pids.Add(reader.GetInt32(0));
        }

        return pids;
    }

    private static async Task TerminateAsync(string database, int pid)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var kill = new NpgsqlCommand("SELECT pg_terminate_backend(@pid)", connection);
        kill.Parameters.AddWithValue("pid", pid);
        Assert.True((bool)(await kill.ExecuteScalarAsync())!);
    }

    /// <summary>Row locks taken by another transaction (as another silo's batch would hold them).</summary>
    private sealed class RowHold : IAsyncDisposable
    {
        private readonly NpgsqlConnection _connection;
        private NpgsqlTransaction? _transaction;
        private Task? _pending;

        private RowHold(NpgsqlConnection connection, NpgsqlTransaction transaction) =>
            (_connection, _transaction) = (connection, transaction);

        public static async Task<RowHold> TakeAsync(string database, LockRowKey row, string? deadlockTimeout = null)
        {
            var connection = new NpgsqlConnection(deadlockTimeout is null ? database : new NpgsqlConnectionStringBuilder(database) { Options = $"-c deadlock_timeout={deadlockTimeout}" }.ConnectionString);
            await connection.OpenAsync();
            var hold = new RowHold(connection, await connection.BeginTransactionAsync());
            await hold.LockAlsoAsync(row);
            return hold;
        }

        public async Task LockAlsoAsync(LockRowKey row)
        {
            // Started now, answered when the row is free: a lock the batch may hold must not block the test.
            var locking = LockAsync(row);
            await Task.WhenAny(locking, Task.Delay(TimeSpan.FromMilliseconds(50)));
            _pending = locking;
        }

        public async Task ReleaseAsync()
        {
            if (_pending is { } pending)
            {
                await pending;
            }

            if (_transaction is { } transaction)
            {
                _transaction = null;
                await transaction.RollbackAsync();
                await transaction.DisposeAsync();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await ReleaseAsync();
            await _connection.DisposeAsync();
        }

        private async Task LockAsync(LockRowKey row)
        {
            await using var command = new NpgsqlCommand(
                """
                SELECT 1 FROM OrleansStorage
                 WHERE GrainIdHash = @h AND GrainTypeHash = @t AND ServiceId = @s AND GrainIdExtensionString = @k
                   FOR UPDATE
                """,
                _connection,
                _transaction);
            command.Parameters.AddWithValue("h", row.GrainIdHash);
            command.Parameters.AddWithValue("t", row.GrainTypeHash);
            command.Parameters.AddWithValue("s", row.ServiceId);
            command.Parameters.AddWithValue("k", row.KeyExtension!);
            await command.ExecuteScalarAsync();
        }
    }
}
