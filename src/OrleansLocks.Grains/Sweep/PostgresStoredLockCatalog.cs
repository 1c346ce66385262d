using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;

namespace OrleansLocks.Grains.Sweep;

/// <summary>Reads the <c>orleans_locks</c> view (see <c>sql/orleans-locks.sql</c>) of this service's stored locks.</summary>
internal sealed class PostgresStoredLockCatalog(IOptions<LockStorageOptions> storage, IOptions<ClusterOptions> cluster) : IStoredLockCatalog
{
    private const string Query = """
        SELECT lock_name, lock_key FROM orleans_locks
        WHERE service_id = @service_id
          AND ((token IS NOT NULL AND expires_ts <= @now) OR (token IS NULL AND freed_ts <= @freed_before))
        LIMIT @limit
        """;

    public async Task<IReadOnlyList<LockId>> FindSweepableAsync(DateTimeOffset now, DateTimeOffset freedBefore, int limit, CancellationToken cancellationToken)
    {
        if (storage.Value.ConnectionString is not { } connectionString)
        {
            // In-memory storage: nothing outlives the silos, so there is nothing to sweep.
            return [];
        }

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(Query, connection);
        command.Parameters.AddWithValue("service_id", cluster.Value.ServiceId);
        command.Parameters.AddWithValue("now", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("freed_before", freedBefore.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("limit", limit);
        var found = new List<LockId>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            // A row whose name or key breaks the rules was not written by us; leave it alone.
            if (LockId.TryParse($"{reader.GetString(0)}:{reader.GetString(1)}", out var id))
            {
                found.Add(id.Value);
            }
        }

        return found;
    }
}
