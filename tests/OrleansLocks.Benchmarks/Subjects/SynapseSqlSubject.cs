using Npgsql;

namespace OrleansLocks.Benchmarks.Subjects;

/// <summary>
/// Synapse's worker lock algorithm run directly with Npgsql on a <c>worker_locks</c> table: an upsert
/// that takes the row only if it is free or expired, an update to renew, a select for
/// is_still_valid, a delete to release, each its own autocommitted statement. Waiting polls, as
/// Synapse's lock handler does between workers: from 0.1 s, doubling, at most 5 s.
/// </summary>
internal sealed class SynapseSqlSubject(NpgsqlDataSource db, TimeSpan leaseTimeout) : IBenchSubject
{
    private NpgsqlDataSource Db => db;

    private long LeaseMs => (long)leaseTimeout.TotalMilliseconds;

    public const string Schema = """
        CREATE TABLE IF NOT EXISTS worker_locks (
            lock_name text NOT NULL,
            lock_key text NOT NULL,
            instance_name text NOT NULL,
            token text NOT NULL,
            last_renewed_ts bigint NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS worker_locks_name_key ON worker_locks (lock_name, lock_key);
        """;

    // Take the row when there is none, or when its holder stopped renewing a lease ago.
    private const string Acquire = """
        INSERT INTO worker_locks AS w (lock_name, lock_key, instance_name, token, last_renewed_ts)
        VALUES (@name, @key, @instance, @token, @now)
        ON CONFLICT (lock_name, lock_key) DO UPDATE
           SET instance_name = excluded.instance_name, token = excluded.token, last_renewed_ts = excluded.last_renewed_ts
         WHERE w.last_renewed_ts < @expired_before
        """;

    private const string Renew = "UPDATE worker_locks SET last_renewed_ts = @now WHERE lock_name = @name AND lock_key = @key AND token = @token";

    private const string Valid = "SELECT 1 FROM worker_locks WHERE lock_name = @name AND lock_key = @key AND token = @token AND last_renewed_ts >= @expired_before";

    private const string Release = "DELETE FROM worker_locks WHERE lock_name = @name AND lock_key = @key AND token = @token";

    public string Name => "Synapse SQL (Npgsql)";

    public async Task<IBenchHold?> TryAcquireAsync(string key)
    {
        var token = Guid.NewGuid().ToString("N");
        var now = Now();
        await using var command = db.CreateCommand(Acquire);
        Add(command, key, token, now);
        command.Parameters.AddWithValue("instance", "bench");
        command.Parameters.AddWithValue("expired_before", now - (long)leaseTimeout.TotalMilliseconds);
        return await command.ExecuteNonQueryAsync() == 1 ? new Hold(this, key, token) : null;
    }

    public async Task<IBenchHold> AcquireAsync(string key, TimeSpan timeout)
    {
        var deadline = Now() + (long)timeout.TotalMilliseconds;
        var interval = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            if (await TryAcquireAsync(key) is { } hold)
            {
                return hold;
            }

            if (Now() > deadline)
            {
                throw new TimeoutException($"{key} was not acquired within {timeout}.");
            }

            await Task.Delay(interval * (0.9 + (Random.Shared.NextDouble() * 0.2)));
            interval = TimeSpan.FromTicks(Math.Min(interval.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
        }
    }

    public async Task<Func<Task<bool>>?> RenewableAsync(string key)
    {
        var hold = (Hold?)await TryAcquireAsync(key) ?? throw new InvalidOperationException($"{key} is held.");
        return async () =>
        {
            await using var command = db.CreateCommand(Renew);
            Add(command, key, hold.Token, Now());
            return await command.ExecuteNonQueryAsync() == 1;
        };
    }

    private static void Add(NpgsqlCommand command, string key, string token, long now)
    {
        command.Parameters.AddWithValue("name", "bench");
        command.Parameters.AddWithValue("key", key);
        command.Parameters.AddWithValue("token", token);
        command.Parameters.AddWithValue("now", now);
    }

    private static long Now() => TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();

    private sealed class Hold(SynapseSqlSubject subject, string key, string token) : IBenchHold
    {
        public string Token => token;

        public Func<Task<bool>>? IsStillValid => async () =>
        {
            await using var command = subject.Db.CreateCommand(Valid);
            Add(command, key, token, Now());
            command.Parameters.AddWithValue("expired_before", Now() - subject.LeaseMs);
            return await command.ExecuteScalarAsync() is not null;
        };

        public async Task ReleaseAsync()
        {
            await using var command = subject.Db.CreateCommand(Release);
            Add(command, key, token, Now());
            await command.ExecuteNonQueryAsync();
        }
    }
}
