using Npgsql;
using OrleansLocks.Fencing.Postgres;

namespace OrleansLocks.Tests.Fencing;

/// <summary>
/// A throwaway database standing for the resource a lock guards: the fence schema installed and one
/// table of values that holders overwrite, plus a log of every write that committed.
/// </summary>
internal sealed class FenceDatabase : IAsyncDisposable
{
    private FenceDatabase(NpgsqlDataSource dataSource) => DataSource = dataSource;

    public NpgsqlDataSource DataSource { get; }

    public static async Task<FenceDatabase> CreateAsync(string purpose, bool install = true)
    {
        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync(purpose, applySchema: false);
        var database = new FenceDatabase(NpgsqlDataSource.Create(connectionString));
        await using var command = database.DataSource.CreateCommand(
            "CREATE TABLE resource (id text PRIMARY KEY, value text NOT NULL); CREATE TABLE resource_log (id text NOT NULL, value text NOT NULL);");
        await command.ExecuteNonQueryAsync();
        if (install)
        {
            await LockFences.InstallAsync(database.DataSource);
        }

        return database;
    }

    /// <summary>Writes <paramref name="value"/> fenced by <paramref name="fence"/>, in one transaction: log, fence, update.</summary>
    public async Task WriteAsync(string id, string value, Func<NpgsqlConnection, NpgsqlTransaction, ValueTask> fence)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        try
        {
            await using (var log = new NpgsqlCommand("INSERT INTO resource_log (id, value) VALUES ($1, $2)", connection, transaction))
            {
                log.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
                log.Parameters.Add(new NpgsqlParameter<string> { TypedValue = value });
                await log.ExecuteNonQueryAsync();
            }

            await fence(connection, transaction);
            await using (var update = new NpgsqlCommand(
                "INSERT INTO resource (id, value) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET value = excluded.value", connection, transaction))
            {
                update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
                update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = value });
                await update.ExecuteNonQueryAsync();
            }

            await transaction.CommitAsync();
        }
        catch
        {
            await transaction.RollbackAsync();
            throw;
        }
    }

    /// <summary>Writes fenced by a bare token, as a caller that carries the token with its job would.</summary>
    public Task WriteAsync(string id, string value, LockId lockId, long fencingToken, LockKind kind = LockKind.Plain) =>
        WriteAsync(id, value, (c, t) => LockFences.FenceTokenAsync(c, t, lockId, kind, fencingToken));

    public async Task<string?> ValueAsync(string id)
    {
        await using var command = DataSource.CreateCommand("SELECT value FROM resource WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
        return (string?)await command.ExecuteScalarAsync();
    }

    public async Task<List<string>> LoggedAsync(string id)
    {
        await using var command = DataSource.CreateCommand("SELECT value FROM resource_log WHERE id = $1 ORDER BY value");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
        var values = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    public async Task<long?> NewestTokenAsync(LockId lockId, string kind = "plain")
    {
        await using var command = DataSource.CreateCommand(
            "SELECT highest_fencing_token FROM lock_fences WHERE lock_kind = $1 AND lock_name = $2 AND lock_key = $3");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kind });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = lockId.Name });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = lockId.Key });
        return (long?)await command.ExecuteScalarAsync();
    }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
