namespace OrleansLocks.Grains;

/// <summary>Where lock state is stored and how stored locks are swept. Silo side.</summary>
public sealed class LockStorageOptions
{
    /// <summary>The configuration section: <c>OrleansLocks:Storage</c>.</summary>
    public const string SectionName = "OrleansLocks:Storage";

    /// <summary>The name <see cref="StorageProviderName"/> has unless set: <c>OrleansLocks</c>.</summary>
    public const string DefaultStorageProviderName = "OrleansLocks";

    /// <summary>
    /// The name of the grain storage provider the lock grains use. <c>UsePostgres</c> and
    /// <c>UseInMemory</c> register theirs under the name they are given and set this to it; set it
    /// yourself only with <c>AddOrleansLocksGrains</c>, to the name of a provider you register.
    /// </summary>
    /// <value>The default is <c>OrleansLocks</c>.</value>
    public string StorageProviderName { get; set; } = DefaultStorageProviderName;

    /// <summary>
    /// The PostgreSQL connection string (Npgsql syntax), set by <c>UsePostgres</c>. When null, locks
    /// live in in-memory storage: fine for development, lost when the silo stops. Never logged: Orleans'
    /// options formatters print it as <c>REDACTED</c>.
    /// </summary>
    /// <value>The default is null (in-memory storage).</value>
    [Redact]
    public string? ConnectionString { get; set; }

    /// <summary>
    /// Which code writes the lock rows in PostgreSQL. Both write the same table, row keys, version
    /// column and JSON, so they can be switched between restarts and the views, the sweep and the Orleans
    /// provider read the same rows. Only with a <see cref="ConnectionString"/>.
    /// </summary>
    /// <value>The default is <see cref="PostgresLockWriter.GroupCommit"/>.</value>
    public PostgresLockWriter Writer { get; set; } = PostgresLockWriter.GroupCommit;

    /// <summary>
    /// The most lock writes <see cref="PostgresLockWriter.GroupCommit"/> commits in one statement; writes
    /// queued beyond it go in the next one. From 1 (no batching) to 4,096.
    /// </summary>
    /// <value>The default is 256.</value>
    [ValueRange(1, 4096, ErrorMessage = "{0} must be from 1 to 4096 writes (was {1}).")]
    public int MaxBatchSize { get; set; } = 256;

    /// <summary>
    /// How many batch statements <see cref="PostgresLockWriter.GroupCommit"/> keeps in flight at once,
    /// each on its own connection: while one commits, the next can already go out. From 1 to 64.
    /// </summary>
    /// <value>The default is 2.</value>
    [ValueRange(1, 64, ErrorMessage = "{0} must be from 1 to 64 batches (was {1}).")]
    public int MaxConcurrentBatches { get; set; } = 2;

    /// <summary>
    /// Whether the silo applies the schema in <c>sql/orleans-locks.sql</c> at start-up (idempotent,
    /// serialised between silos by an advisory lock). Only with a <see cref="ConnectionString"/>.
    /// </summary>
    /// <value>The default is true.</value>
    public bool ApplySchema { get; set; } = true;

    /// <summary>
    /// How often the reminder-driven sweep looks for stored locks whose lease expired while no
    /// activation watched them (e.g. the whole cluster was down), and frees them. At least 1 minute
    /// (Orleans' minimum reminder period) and at most 49 days (the longest period a reminder, like a
    /// .NET timer, takes). Only with a <see cref="ConnectionString"/>.
    /// </summary>
    /// <value>The default is 5 minutes.</value>
    [ValueRange(typeof(TimeSpan), "00:01:00", "10675199.02:48:05.4775807", ErrorMessage = "{0} must be at least 1 minute, Orleans' minimum reminder period (was {1}).")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a free lock's state is kept before the sweep clears it (the row itself stays, with its
    /// version, so a stale activation can never write over a newer lock). While the state exists,
    /// fencing tokens continue from it (+1); a lock with no state starts from the clock (microseconds
    /// since the epoch), so this must exceed the worst clock skew between silos. At most 365 days.
    /// </summary>
    /// <value>The default is 1 hour.</value>
    [ValueRange(typeof(TimeSpan), "00:00:00", "10675199.02:48:05.4775807", MinimumIsExclusive = true, ErrorMessage = "{0} must be positive (was {1}).")]
    public TimeSpan FreeRowRetention { get; set; } = TimeSpan.FromHours(1);
}
