using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;

namespace OrleansLocks.Grains.Sweep;

/// <summary>Reads the <c>orleans_locks</c> view (plain and read/write locks; its grain type column holds the state name, which equals the grain type) (see <c>sql/orleans-locks.sql</c>) of this service's stored locks.</summary>
internal sealed class PostgresStoredLockCatalog(IOptions<LockStorageOptions> storage, IOptions<ClusterOptions> cluster) : IStoredLockCatalog
{
    private const string Query = """
        SELECT grain_type_string, lock_name, lock_key FROM orleans_locks
        WHERE service_id = @service_id
          AND (next_expiry_ts <= @now OR (next_expiry_ts IS NULL AND freed_ts <= @freed_before))
        LIMIT @limit
        """;

    public async Task<IReadOnlyList<GrainId>> FindSweepableAsync(DateTimeOffset now, DateTimeOffset freedBefore, int limit, CancellationToken cancellationToken)
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
        var found = new List<GrainId>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            // A row whose name or key breaks the rules was not written by us; leave it alone.
            if (LockId.TryParse($"{reader.GetString(1)}:{reader.GetString(2)}", out var id))
            {
                found.Add(GrainId.Create(reader.GetString(0), id.Value.ToGrainKey()));
            }
        }

        return found;
    }
}
