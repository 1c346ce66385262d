using Medallion.Threading.Postgres;

namespace OrleansLocks.Benchmarks.Subjects;

/// <summary>
/// DistributedLock.Postgres: a PostgreSQL advisory lock held on a connection of its own. It has no
/// lease to renew and no validity query (the held connection is the lock); waiting blocks on the server.
/// </summary>
internal sealed class DistributedLockSubject(string connectionString) : IBenchSubject
{
    public string Name => "DistributedLock.Postgres";

    public async Task<IBenchHold?> TryAcquireAsync(string key) =>
        await Lock(key).TryAcquireAsync() is { } handle ? new Hold(handle) : null;

    public async Task<IBenchHold> AcquireAsync(string key, TimeSpan timeout) =>
        new Hold(await Lock(key).AcquireAsync(timeout));

    public Task<Func<Task<bool>>?> RenewableAsync(string key) => Task.FromResult<Func<Task<bool>>?>(null);

    private PostgresDistributedLock Lock(string key) => new(new PostgresAdvisoryLockKey($"bench:{key}", allowHashing: true), connectionString);

    private sealed class Hold(PostgresDistributedLockHandle handle) : IBenchHold
    {
        public Func<Task<bool>>? IsStillValid => null;

        public Task ReleaseAsync() => handle.DisposeAsync().AsTask();
    }
}
