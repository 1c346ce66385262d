using Npgsql;
using NpgsqlTypes;
using OrleansLocks.Admin;

namespace OrleansLocks.Grains.Admin;

/// <summary>
/// Held locks from the <c>orleans_locks</c> view (see <c>sql/orleans-locks.sql</c>): one row per holder,
/// the writer from the row's top-level fields and each reader from its <c>readers</c> array, paged by
/// keyset on (grant time, fencing token, kind, grain key), newest first.
/// </summary>
internal sealed class PostgresStoredLockListing(string connectionString, string serviceId) : IStoredLockListing
{
    // Kinds as LockKind's numbers: Plain 0, Read 1, Write 2, Semaphore 3 (a semaphore's holders are its "readers"), UpgradeableRead 4. Grain keys compare bytewise (COLLATE "C"),
    // the same in the order and in the keyset, so paging never skips or repeats a row.
    private const string Query = """
        WITH holders AS (
            SELECT l.lock_name, l.lock_key, l.grain_id_extension_string COLLATE "C" AS grain_key,
                   h.kind, h.owner, h.fencing_token, h.acquired_ts, h.last_renewed_ts, h.expires_ts
            FROM orleans_locks AS l
            CROSS JOIN LATERAL (
                SELECT CASE l.lock_type WHEN 'plain' THEN 0 ELSE 2 END AS kind, l.instance_name AS owner,
                       l.fencing_token, l.acquired_ts, l.last_renewed_ts, l.expires_ts
                WHERE l.expires_ts IS NOT NULL
                UNION ALL
                SELECT CASE WHEN l.lock_type = 'semaphore' THEN 3 WHEN (r ->> 'upgradeable')::boolean THEN 4 ELSE 1 END, r ->> 'owner', (r ->> 'fencingToken')::bigint, (r ->> 'acquiredAt')::bigint,
                       (r ->> 'lastRenewedAt')::bigint, (r ->> 'expiresAt')::bigint
                FROM jsonb_array_elements(COALESCE(l.readers, '[]'::jsonb)) AS r
            ) AS h
            WHERE l.service_id = @service_id AND l.has_state
        )
        SELECT lock_name, lock_key, grain_key, kind, owner, fencing_token, acquired_ts, last_renewed_ts, expires_ts
        FROM holders
        WHERE expires_ts > @now
          AND (@prefix::text IS NULL OR starts_with(lock_name, @prefix::text))
          AND (@owner::text IS NULL OR owner = @owner::text)
          AND (@after_ts::bigint IS NULL
               OR (acquired_ts, fencing_token, kind, grain_key) < (@after_ts::bigint, @after_fencing::bigint, @after_kind::integer, @after_key::text COLLATE "C"))
        ORDER BY acquired_ts DESC, fencing_token DESC, kind DESC, grain_key DESC
        LIMIT @limit
        """;

    public async Task<(IReadOnlyList<HeldLock> Rows, ListContinuation? Next)> ListHeldAsync(
        string? namePrefix, string? owner, DateTimeOffset now, int limit, ListContinuation? after, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand(Query, connection);
            command.Parameters.AddWithValue("service_id", serviceId);
            command.Parameters.AddWithValue("now", now.ToUnixTimeMilliseconds());
            Add(command, "prefix", NpgsqlDbType.Text, string.IsNullOrEmpty(namePrefix) ? null : namePrefix);
            Add(command, "owner", NpgsqlDbType.Text, owner);
            Add(command, "after_ts", NpgsqlDbType.Bigint, after?.AcquiredAt);
            Add(command, "after_fencing", NpgsqlDbType.Bigint, after?.FencingToken);
            Add(command, "after_kind", NpgsqlDbType.Integer, after is null ? null : (int)after.Kind);
            Add(command, "after_key", NpgsqlDbType.Text, after?.GrainKey);

            // One more than asked: whether a next page exists, without a second query.
            command.Parameters.AddWithValue("limit", limit + 1);
            var rows = new List<(HeldLock Row, string GrainKey)>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add((new HeldLock(
                    reader.GetString(0),
                    reader.GetString(1),
                    (LockKind)reader.GetInt32(3),
                    reader.IsDBNull(4) ? LockOwner.Unknown : reader.GetString(4),
                    reader.GetInt64(5),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6)),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(7)),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8))), reader.GetString(2)));
            }

            if (rows.Count <= limit)
            {
                return (rows.Select(r => r.Row).ToList(), null);
            }

            var page = rows.Take(limit).ToList();
            var last = page[^1];
            return (page.Select(r => r.Row).ToList(),
                new ListContinuation(last.Row.AcquiredAt.ToUnixTimeMilliseconds(), last.Row.FencingToken, last.Row.Kind, last.GrainKey));
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw new LockStorageException($"Could not list the held locks from storage ({ex.GetType().Name}: {ex.Message}); nothing was changed.");
        }
    }

    private static void Add(NpgsqlCommand command, string name, NpgsqlDbType type, object? value) =>
        command.Parameters.Add(new NpgsqlParameter(name, type) { Value = value ?? DBNull.Value });
}
