using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace OrleansLocks.Grains.Storage;

/// <summary>
/// The silo's one writer of lock rows in PostgreSQL: it takes every versioned lock write queued at
/// that moment (up to a bound) and commits them together, in one statement and so one transaction,
/// each row with its own version check. A write's task completes only after its batch committed.
/// </summary>
/// <remarks>
/// <para>When the writer is idle a write goes out at once, alone; writes that arrive while a batch is
/// in flight wait for it and then go out together. So one caller never waits for a batch to fill, and
/// many callers share one commit (one WAL flush) instead of queueing for one each.</para>
/// <para>Per row: an update applies only where the stored version is the one the writer's caller last
/// saw, and a first write inserts only where no row exists. A row that did not take effect is that
/// caller's own version conflict (its task returns null); the other writes of the batch are not
/// affected. A batch that fails (connection lost, database down, statement cancelled at shutdown)
/// fails every write in it with the exception: none of them is acknowledged, and what the database
/// holds is for the caller to read again. A deadlock with another silo's batch rolls the whole batch
/// back, so it is retried as a whole (rows are sent in a fixed order, which makes that rare).</para>
/// <para>Rows, key columns, hashes, version column and JSON are those of the Orleans ADO.NET grain
/// storage provider (see <see cref="LockRowKey"/>), so either can read what the other wrote.</para>
/// </remarks>
internal sealed class GroupCommitLockWriter : IAsyncDisposable
{
    /// <summary>How long stopping waits for queued writes to commit before it cancels what is left.</summary>
    internal static readonly TimeSpan StopWait = TimeSpan.FromSeconds(5);

    /// <summary>How often a batch that lost a deadlock is sent again before its writes fail.</summary>
    internal const int DeadlockAttempts = 3;

    // $1..$8 are one array per column, one element per write, in the order the writes were sorted;
    // $9 is the service id. Updates return the ordinal of each write that took effect with its new
    // version; inserts return the key of each row they created (a first write always gets version 1).
    private const string WriteSql = """
        WITH upd AS (
            UPDATE OrleansStorage AS s
               SET PayloadBinary = v.payload, ModifiedOn = now(), Version = s.Version + 1
              FROM unnest($1::integer[], $2::bigint[], $3::bigint[], $4::integer[], $5::text[], $6::text[], $7::integer[], $8::bytea[])
                   WITH ORDINALITY AS v(id_hash, n0, n1, type_hash, grain_type, key_ext, expected, payload, ord)
             WHERE v.expected IS NOT NULL
               AND s.GrainIdHash = v.id_hash AND s.GrainTypeHash = v.type_hash
               AND s.GrainIdN0 = v.n0 AND s.GrainIdN1 = v.n1 AND s.ServiceId = $9
               AND s.GrainTypeString = v.grain_type AND s.GrainIdExtensionString IS NOT DISTINCT FROM v.key_ext
               AND s.Version = v.expected
            RETURNING v.ord, s.Version),
        ins AS (
            INSERT INTO OrleansStorage
                   (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString,
                    ServiceId, PayloadBinary, ModifiedOn, Version)
            SELECT v.id_hash, v.n0, v.n1, v.type_hash, v.grain_type, v.key_ext, $9, v.payload, now(), 1
              FROM unnest($1::integer[], $2::bigint[], $3::bigint[], $4::integer[], $5::text[], $6::text[], $7::integer[], $8::bytea[])
                   WITH ORDINALITY AS v(id_hash, n0, n1, type_hash, grain_type, key_ext, expected, payload, ord)
             WHERE v.expected IS NULL
             ORDER BY v.ord
            ON CONFLICT DO NOTHING
            RETURNING GrainTypeString, GrainIdExtensionString, GrainIdN0, GrainIdN1)
        SELECT ord, Version, NULL::text, NULL::text, NULL::bigint, NULL::bigint FROM upd
        UNION ALL
        SELECT NULL::bigint, 1, GrainTypeString, GrainIdExtensionString, GrainIdN0, GrainIdN1 FROM ins
        """;

    // A batch of one (what an idle writer sends) uses a plain single-row statement: the same check,
    // without the arrays and the unused half of the batch statement.
    internal const string UpdateOneSql = """
        UPDATE OrleansStorage SET PayloadBinary = $8, ModifiedOn = now(), Version = Version + 1
         WHERE GrainIdHash = $1 AND GrainIdN0 = $2 AND GrainIdN1 = $3 AND GrainTypeHash = $4 AND ServiceId = $9
           AND GrainTypeString = $5 AND GrainIdExtensionString IS NOT DISTINCT FROM $6 AND Version = $7
        RETURNING Version
        """;

    private const string InsertOneSql = """
        INSERT INTO OrleansStorage
               (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString,
                ServiceId, PayloadBinary, ModifiedOn, Version)
        SELECT $1, $2, $3, $4, $5, $6, $9, $8, now(), 1
         WHERE $7::integer IS NULL
        ON CONFLICT DO NOTHING
        RETURNING Version
        """;

    /// <summary>The most row read statements in flight at once (fewer when the pool is smaller: it also serves the batches).</summary>
    private const int MaxConcurrentReads = 16;

    private readonly LockRowReader _reader;
    private readonly NpgsqlDataSource _dataSource;
    private readonly int _maxBatchSize;
    private readonly int _maxConcurrentBatches;
    private readonly ILogger _logger;
    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _abort = new();
    private readonly Task _flusher;
    private long _batches;
    private long _writes;
    private long _largestBatch;
    private long _deadlockRetries;
    private int _disposed;

    /// <summary>Starts the writer (its flusher runs on the thread pool, never on a grain's scheduler).</summary>
    /// <param name="connectionString">The PostgreSQL connection string, tuned for repeated statements.</param>
    /// <param name="serviceId">The Orleans service id, a key column of every row.</param>
    /// <param name="maxBatchSize">The most writes in one statement.</param>
    /// <param name="logger">Where batch failures and deadlock retries are logged.</param>
    /// <param name="maxConcurrentBatches">How many batch statements may be in flight at once (each on its own connection).</param>
    public GroupCommitLockWriter(string connectionString, string serviceId, int maxBatchSize, ILogger logger, int maxConcurrentBatches = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrentBatches, 1);
        _maxConcurrentBatches = maxConcurrentBatches;
        _dataSource = NpgsqlDataSource.Create(connectionString);
        var poolSize = new NpgsqlConnectionStringBuilder(connectionString).MaxPoolSize;
        ServiceId = serviceId;
        _maxBatchSize = maxBatchSize;
        _logger = logger;
        _reader = new LockRowReader(_dataSource, serviceId, Math.Clamp(poolSize - maxConcurrentBatches, 1, MaxConcurrentReads), maxBatchSize, _abort.Token);
        _flusher = Task.Run(FlushLoopAsync);
    }

    /// <summary>The service id this writer's rows carry.</summary>
    public string ServiceId { get; }

    /// <summary>How many batches committed (with at least one write taking effect or not).</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>How many writes were sent in committed batches.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <summary>The most writes one committed batch carried.</summary>
    public long LargestBatch => Interlocked.Read(ref _largestBatch);

    /// <summary>How many times a batch was sent again after losing a deadlock.</summary>
    public long DeadlockRetries => Interlocked.Read(ref _deadlockRetries);

    /// <summary>The row reads (batched like the writes).</summary>
    internal LockRowReader Reader => _reader;

    /// <summary>Reads one row: its payload (null when cleared) and version, or (null, null) when there is no row.</summary>
    public Task<(byte[]? Payload, int? Version)> ReadAsync(LockRowKey row) => _reader.ReadAsync(row);

    /// <summary>
    /// Queues a versioned write of <paramref name="row"/> and completes once its batch committed: with
    /// the row's new version, or null when the row's version was not <paramref name="expectedVersion"/>
    /// (for a first write, null: a row already existed). Throws when the batch failed or the writer stopped.
    /// </summary>
    /// <param name="row">The row.</param>
    /// <param name="expectedVersion">The version the caller last read or wrote; null for a first write.</param>
    /// <param name="payload">The new payload; null clears the state (keeping the row and bumping its version).</param>
    public Task<int?> WriteAsync(LockRowKey row, int? expectedVersion, byte[]? payload)
    {
        var write = new PendingWrite(row, expectedVersion, payload);
        if (!_queue.Writer.TryWrite(write))
        {
            return Task.FromException<int?>(new InvalidOperationException("The lock writer has stopped (the silo is shutting down); the write was not sent."));
        }

        return write.Done.Task;
    }

    /// <summary>
    /// Stops taking writes, commits those already queued, then stops. If that takes longer than
    /// <see cref="StopWait"/>, or <paramref name="cancellationToken"/> fires first, the batch in flight is
    /// cancelled and every write not yet committed fails.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        var stopped = Task.WhenAll(_flusher, _reader.StopAsync());
        await using (cancellationToken.Register(static abort => ((CancellationTokenSource)abort!).Cancel(), _abort))
        {
            try
            {
                // Queued writes normally commit in milliseconds; a batch stuck on an unresponsive
                // database must not hold the silo's shutdown, so after StopWait it is cancelled (its
                // writes fail, unacknowledged, like any failed batch; reads still queued fail alike).
                await stopped.WaitAsync(StopWait, CancellationToken.None);
            }
            catch (TimeoutException)
            {
                await _abort.CancelAsync();
                await stopped;
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _abort.Cancel();
        await StopAsync(CancellationToken.None);
        await _dataSource.DisposeAsync();
        _abort.Dispose();
    }

    private async Task FlushLoopAsync()
    {
        var inFlight = new List<Task>(_maxConcurrentBatches);
        var inBatch = new HashSet<LockRowKey>();
        var deferred = new Queue<PendingWrite>();
        while (deferred.Count > 0 || await _queue.Reader.WaitToReadAsync())
        {
            // Up to _maxConcurrentBatches statements are in flight; the next batch forms from what
            // waits when one of them returns (or at once, while fewer are out).
            if (inFlight.Count == _maxConcurrentBatches)
            {
                inFlight.Remove(await Task.WhenAny(inFlight));
            }

            var batch = new List<PendingWrite>();
            inBatch.Clear();

            // Writes held back from the previous batch go first. One row is written at most once per
            // batch: a second write of it (possible only from two activations of one lock) waits.
            var carried = deferred.Count;
            for (var i = 0; i < carried && batch.Count < _maxBatchSize; i++)
            {
                Take(deferred.Dequeue(), batch, inBatch, deferred);
            }

            while (batch.Count < _maxBatchSize && _queue.Reader.TryRead(out var write))
            {
                Take(write, batch, inBatch, deferred);
            }

            if (batch.Count > 0)
            {
                inFlight.Add(CommitAsync(batch));
            }
        }

        await Task.WhenAll(inFlight);
    }

    private static void Take(PendingWrite write, List<PendingWrite> batch, HashSet<LockRowKey> inBatch, Queue<PendingWrite> deferred)
    {
        if (inBatch.Add(write.Row))
        {
            batch.Add(write);
        }
        else
        {
            deferred.Enqueue(write);
        }
    }

    private async Task CommitAsync(List<PendingWrite> batch)
    {
        // A fixed row order: two silos' batches lock shared rows in the same order.
        batch.Sort(static (a, b) => a.Row.GrainIdHash != b.Row.GrainIdHash
            ? a.Row.GrainIdHash.CompareTo(b.Row.GrainIdHash)
            : string.CompareOrdinal(a.Row.KeyExtension, b.Row.KeyExtension));
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                _abort.Token.ThrowIfCancellationRequested();
                var versions = await ExecuteAsync(batch);
                Interlocked.Increment(ref _batches);
                Interlocked.Add(ref _writes, batch.Count);
                InterlockedMax(ref _largestBatch, batch.Count);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Done.TrySetResult(versions[i]);
                }

                return;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DeadlockDetected && attempt < DeadlockAttempts)
            {
                // The whole transaction was rolled back: nothing of this batch took effect, so sending
                // it again is safe.
                Interlocked.Increment(ref _deadlockRetries);
                Log.BatchDeadlockRetried(_logger, batch.Count, attempt);
            }
            catch (Exception ex)
            {
                Log.BatchFailed(_logger, ex, batch.Count);
                foreach (var write in batch)
                {
                    write.Done.TrySetException(ex);
                }

                return;
            }
        }
    }

    private async Task<int?[]> ExecuteAsync(List<PendingWrite> batch)
    {
        if (batch.Count == 1)
        {
            return [await ExecuteOneAsync(batch[0])];
        }

        var count = batch.Count;
        var expected = new int?[count];
        var payloads = new byte[]?[count];
        var inserts = new Dictionary<(string, string?, long, long), int>();
        for (var i = 0; i < count; i++)
        {
            var (row, version, payload) = (batch[i].Row, batch[i].ExpectedVersion, batch[i].Payload);
            (expected[i], payloads[i]) = (version, payload);
            if (version is null)
            {
                inserts[(row.GrainType, row.KeyExtension, row.N0, row.N1)] = i;
            }
        }

        await using var command = _dataSource.CreateCommand(WriteSql);
        AddRowKeyArrays(command, batch, static write => write.Row);
        command.Parameters.Add(new NpgsqlParameter<int?[]> { TypedValue = expected });
        command.Parameters.Add(new NpgsqlParameter<byte[]?[]> { TypedValue = payloads });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ServiceId });

        var versions = new int?[count];
        await using var reader = await command.ExecuteReaderAsync(_abort.Token);
        while (await reader.ReadAsync(_abort.Token))
        {
            if (!reader.IsDBNull(0))
            {
                // An update that took effect: WITH ORDINALITY counts from 1.
                versions[reader.GetInt64(0) - 1] = reader.GetInt32(1);
            }
            else
            {
                var key = (reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetInt64(4), reader.GetInt64(5));
                versions[inserts[key]] = reader.GetInt32(1);
            }
        }

        return versions;
    }

    private async Task<int?> ExecuteOneAsync(PendingWrite write)
    {
        await using var command = _dataSource.CreateCommand(write.ExpectedVersion is null ? InsertOneSql : UpdateOneSql);
        AddOneWrite(command, write.Row, write.ExpectedVersion, write.Payload);
        return await command.ExecuteScalarAsync(_abort.Token) is int version ? version : null;
    }

    /// <summary>The parameters of <see cref="UpdateOneSql"/> (and of the single-row insert): the row, the expected version, the payload, the service.</summary>
    internal static void AddOneWrite(NpgsqlCommand command, LockRowKey row, int? expectedVersion, byte[]? payload)
    {
        AddRowKey(command, row);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)expectedVersion ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)payload ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bytea });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = row.ServiceId });
    }

    /// <summary>A row's key columns as $1..$6: id hash, N0, N1, type hash, type, key extension.</summary>
    internal static void AddRowKey(NpgsqlCommand command, LockRowKey row)
    {
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = row.GrainIdHash });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = row.N0 });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = row.N1 });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = row.GrainTypeHash });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = row.GrainType });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)row.KeyExtension ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
    }

    /// <summary>Many rows' key columns as $1..$6, one array per column (the order of <see cref="AddRowKey"/>), one element per item.</summary>
    internal static void AddRowKeyArrays<T>(NpgsqlCommand command, List<T> items, Func<T, LockRowKey> rowOf)
    {
        var count = items.Count;
        var idHashes = new int[count];
        var n0 = new long[count];
        var n1 = new long[count];
        var typeHashes = new int[count];
        var types = new string[count];
        var extensions = new string?[count];
        for (var i = 0; i < count; i++)
        {
            var row = rowOf(items[i]);
            (idHashes[i], n0[i], n1[i], typeHashes[i], types[i], extensions[i]) = (row.GrainIdHash, row.N0, row.N1, row.GrainTypeHash, row.GrainType, row.KeyExtension);
        }

        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = idHashes });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = n0 });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = n1 });
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = typeHashes });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = types });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = extensions });
    }

    internal static void InterlockedMax(ref long target, long value)
    {
        var seen = Interlocked.Read(ref target);
        while (value > seen && Interlocked.CompareExchange(ref target, value, seen) is var was && was != seen)
        {
            seen = was;
        }
    }

    private sealed class PendingWrite(LockRowKey row, int? expectedVersion, byte[]? payload)
    {
        public LockRowKey Row { get; } = row;

        public int? ExpectedVersion { get; } = expectedVersion;

        public byte[]? Payload { get; } = payload;

        public TaskCompletionSource<int?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
