using Npgsql;
using OrleansLocks.Client;
using OrleansLocks.Fencing.Postgres;

namespace OrleansLocks.Chaos;

/// <summary>A write that PostgreSQL committed to the guarded table: its commit order per lock, lock, token and id.</summary>
internal sealed record GuardedWrite(long Sequence, string Lock, long Fencing, string WriteId);

/// <summary>
/// The resource the chaos workers guard with their locks: a table in its own database, written only
/// through fenced transactions (OrleansLocks.Fencing.Postgres), so that PostgreSQL itself refuses a
/// write by a holder whose lock has since been granted to someone newer who wrote.
/// </summary>
internal static class GuardedResource
{
    // The fence row of a lock stays locked from the fence call to the end of the transaction, so the
    // sequence numbers taken by the INSERT after it follow the commit order of that lock's writes.
    private const string CreateTable = """
        CREATE TABLE IF NOT EXISTS chaos_writes
        (
            seq        bigserial   PRIMARY KEY,
            lock_key   text        NOT NULL,
            fencing    bigint      NOT NULL,
            write_id   text        NOT NULL,
            written_at timestamptz NOT NULL DEFAULT now()
        )
        """;

    public static async Task InstallAsync(string connectionString)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await LockFences.InstallAsync(dataSource);
        await using var command = dataSource.CreateCommand(CreateTable);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// One fenced write: fence the handle's token, insert the row, commit. Returns when the commit is
    /// acknowledged; throws <see cref="StaleFencingTokenException"/> when the fence refuses the token,
    /// and any other exception when the database could not be written (nothing acknowledged then).
    /// </summary>
    public static async Task WriteAsync(NpgsqlDataSource dataSource, LockHandle handle, string writeId)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await handle.FenceAsync(connection, transaction);
        await using (var insert = new NpgsqlCommand("INSERT INTO chaos_writes (lock_key, fencing, write_id) VALUES ($1, $2, $3)", connection, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = handle.Id.Key });
            insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = handle.FencingToken });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = writeId });
            await insert.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    /// <summary>Every committed write, in commit order per lock.</summary>
    public static async Task<List<GuardedWrite>> ReadAllAsync(string connectionString)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand("SELECT seq, lock_key, fencing, write_id FROM chaos_writes ORDER BY seq");
        await using var reader = await command.ExecuteReaderAsync();
        var writes = new List<GuardedWrite>();
        while (await reader.ReadAsync())
        {
            writes.Add(new GuardedWrite(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3)));
        }

        return writes;
    }
}
