using Npgsql;

namespace OrleansLocks.Tests.Infrastructure;

/// <summary>Reads the <c>worker_locks</c>, <c>worker_read_write_locks</c> and <c>orleans_locks</c> views, as an operator would.</summary>
public static class WorkerLocksView
{
    public sealed record Row(string LockName, string LockKey, string InstanceName, string TokenFingerprint, long LastRenewedTs, long FencingToken);

    /// <summary>What the views show instead of a token: the first 8 hex digits of its SHA-256.</summary>
    public static string Fingerprint(string token) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)))[..8];

    public static async Task<Row?> FindAsync(string connectionString, LockId id)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT lock_name, lock_key, instance_name, token_fingerprint, last_renewed_ts, fencing_token FROM worker_locks WHERE lock_name = @n AND lock_key = @k",
            connection);
        command.Parameters.AddWithValue("n", id.Name);
        command.Parameters.AddWithValue("k", id.Key);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            return null;
        }

        var row = new Row(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4), reader.GetInt64(5));
        Assert.False(await reader.ReadAsync(), $"worker_locks has more than one row for {id}");
        return row;
    }

    /// <summary>Whether the lock's row holds a state (held or free); false when there is no row or its state was cleared.</summary>
    public static async Task<bool> HasStoredStateAsync(string connectionString, LockId id)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM orleans_locks WHERE lock_type = 'plain' AND lock_name = @n AND lock_key = @k AND has_state", connection);
        command.Parameters.AddWithValue("n", id.Name);
        command.Parameters.AddWithValue("k", id.Key);
        return (long)(await command.ExecuteScalarAsync())! > 0;
    }

    /// <summary>The stored version (ETag) of a plain lock's row.</summary>
    public static async Task<long> StoredVersionAsync(string database, LockId id)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT storage_version FROM orleans_locks WHERE lock_type = 'plain' AND lock_name = @n AND lock_key = @k", connection);
        command.Parameters.AddWithValue("n", id.Name);
        command.Parameters.AddWithValue("k", id.Key);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The <c>worker_read_write_locks</c> rows of a read/write lock: one per holder.</summary>
    public static async Task<List<(bool WriteLock, string Owner, string TokenFingerprint, long FencingToken)>> ReadWriteRowsAsync(string database, LockId id)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT write_lock, instance_name, token_fingerprint, fencing_token FROM worker_read_write_locks WHERE lock_name = @n AND lock_key = @k",
            connection);
        command.Parameters.AddWithValue("n", id.Name);
        command.Parameters.AddWithValue("k", id.Key);
        var rows = new List<(bool, string, string, long)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetBoolean(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3)));
        }

        return rows;
    }
}
