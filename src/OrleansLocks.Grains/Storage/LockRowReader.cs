using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;

namespace OrleansLocks.Grains.Storage;

/// <summary>
/// The silo's reads of lock rows, batched as <see cref="GroupCommitLockWriter"/> batches writes: a
/// read goes out at once, alone, while fewer than the bound of statements are in flight; reads that
/// arrive while all of them are out wait, and go out together in the next statement (one round trip
/// and one index probe each instead of a statement each).
/// </summary>
/// <remarks>
/// A silo loss reactivates its locks all at once on the survivors, each reading its row: tens of
/// thousands of reads. Sent one statement each, they queue for the connection pool (and, unbounded,
/// exhaust it, fail after its timeout and are retried by their callers, which keeps the silo
/// saturated); batched, a few statements carry them. A statement that fails fails every read in it
/// with the exception: the callers see a storage error, and nothing was changed.
/// </remarks>
internal sealed class LockRowReader
{
    // $1..$6 are a row's key columns in the order AddRowKey adds them; $7 is the service id.
    private const string ReadOneSql = """
        SELECT PayloadBinary, Version FROM OrleansStorage
         WHERE GrainIdHash = $1 AND GrainIdN0 = $2 AND GrainIdN1 = $3 AND GrainTypeHash = $4
           AND GrainTypeString = $5 AND GrainIdExtensionString IS NOT DISTINCT FROM $6 AND ServiceId = $7
        """;

    // $1..$6 are one array per key column, one element per read; $7 is the service id. Each row found
    // comes back with the ordinal of its read (WITH ORDINALITY counts from 1); a read with no row has none.
    private const string ReadManySql = """
        SELECT v.ord, s.PayloadBinary, s.Version
          FROM unnest($1::integer[], $2::bigint[], $3::bigint[], $4::integer[], $5::text[], $6::text[])
               WITH ORDINALITY AS v(id_hash, n0, n1, type_hash, grain_type, key_ext, ord)
          JOIN OrleansStorage AS s
            ON s.GrainIdHash = v.id_hash AND s.GrainTypeHash = v.type_hash
           AND s.GrainIdN0 = v.n0 AND s.GrainIdN1 = v.n1 AND s.ServiceId = $7
           AND s.GrainTypeString = v.grain_type AND s.GrainIdExtensionString IS NOT DISTINCT FROM v.key_ext
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _serviceId;
    private readonly int _maxInFlight;
    private readonly int _maxBatchSize;
    private readonly CancellationToken _abort;
    private readonly Channel<PendingRead> _queue = Channel.CreateUnbounded<PendingRead>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private long _statements;
    private long _largestBatch;

    /// <param name="dataSource">The writer's data source (its pool serves both).</param>
    /// <param name="serviceId">The Orleans service id, a key column of every row.</param>
    /// <param name="maxInFlight">How many read statements may be in flight at once (each on its own connection).</param>
    /// <param name="maxBatchSize">The most reads in one statement.</param>
    /// <param name="abort">Cancels the statements in flight (the writer's stop).</param>
    public LockRowReader(NpgsqlDataSource dataSource, string serviceId, int maxInFlight, int maxBatchSize, CancellationToken abort)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInFlight, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchSize, 1);
        (_dataSource, _serviceId, _maxInFlight, _maxBatchSize, _abort) = (dataSource, serviceId, maxInFlight, maxBatchSize, abort);
        _loop = Task.Run(ReadLoopAsync);
    }

    /// <summary>How many read statements completed.</summary>
    public long Statements => Interlocked.Read(ref _statements);

    /// <summary>The most reads one statement carried.</summary>
    public long LargestBatch => Interlocked.Read(ref _largestBatch);

    /// <summary>Reads one row: its payload (null when cleared) and version, or (null, null) when there is no row.</summary>
    public Task<(byte[]? Payload, int? Version)> ReadAsync(LockRowKey row)
    {
        var read = new PendingRead(row);
        if (!_queue.Writer.TryWrite(read))
        {
            return Task.FromException<(byte[]?, int?)>(new InvalidOperationException("The lock store has stopped (the silo is shutting down); the row was not read."));
        }

        return read.Done.Task;
    }

    /// <summary>Takes no more reads, and completes once those queued were answered (or failed at the abort).</summary>
    public Task StopAsync()
    {
        _queue.Writer.TryComplete();
        return _loop;
    }

    private async Task ReadLoopAsync()
    {
        var inFlight = new List<Task>(_maxInFlight);
        while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            if (inFlight.Count == _maxInFlight)
            {
                inFlight.Remove(await Task.WhenAny(inFlight));
            }

            var batch = new List<PendingRead>();
            while (batch.Count < _maxBatchSize && _queue.Reader.TryRead(out var read))
            {
                batch.Add(read);
            }

            if (batch.Count > 0)
            {
                inFlight.Add(ReadBatchAsync(batch));
            }
        }

        await Task.WhenAll(inFlight);
    }

    private async Task ReadBatchAsync(List<PendingRead> batch)
    {
        try
        {
            _abort.ThrowIfCancellationRequested();
            var rows = batch.Count == 1 ? [await ReadOneAsync(batch[0].Row)] : await ReadManyAsync(batch);
            Interlocked.Increment(ref _statements);
            GroupCommitLockWriter.InterlockedMax(ref _largestBatch, batch.Count);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Done.TrySetResult(rows[i]);
            }
        }
        catch (Exception ex)
        {
            foreach (var read in batch)
            {
                read.Done.TrySetException(ex);
            }
        }
    }

    private async Task<(byte[]? Payload, int? Version)> ReadOneAsync(LockRowKey row)
    {
        await using var command = _dataSource.CreateCommand(ReadOneSql);
        GroupCommitLockWriter.AddRowKey(command, row);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _serviceId });
        await using var reader = await command.ExecuteReaderAsync(_abort);
        return await reader.ReadAsync(_abort) ? Row(reader) : (null, null);
    }

    private async Task<(byte[]? Payload, int? Version)[]> ReadManyAsync(List<PendingRead> batch)
    {
        var count = batch.Count;
        await using var command = _dataSource.CreateCommand(ReadManySql);
        GroupCommitLockWriter.AddRowKeyArrays(command, batch, static read => read.Row);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _serviceId });

        // A read whose row is not there stays (null, null).
        var rows = new (byte[]? Payload, int? Version)[count];
        await using var reader = await command.ExecuteReaderAsync(_abort);
        while (await reader.ReadAsync(_abort))
        {
            rows[reader.GetInt64(0) - 1] = Row(reader, first: 1);
        }

        return rows;
    }

    private static (byte[]? Payload, int? Version) Row(NpgsqlDataReader reader, int first = 0) =>
        (reader.IsDBNull(first) ? null : reader.GetFieldValue<byte[]>(first), reader.IsDBNull(first + 1) ? null : reader.GetInt32(first + 1));

    private sealed class PendingRead(LockRowKey row)
    {
        public LockRowKey Row { get; } = row;

        public TaskCompletionSource<(byte[]? Payload, int? Version)> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
