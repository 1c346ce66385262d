namespace OrleansLocks.Grains;

/// <summary>Which code writes lock rows to PostgreSQL (<see cref="LockStorageOptions.Writer"/>).</summary>
public enum PostgresLockWriter
{
    /// <summary>
    /// The silo's own writer over Npgsql: the writes of all the silo's lock grains that are waiting at
    /// one moment are committed together, in one statement and one transaction, each with its own
    /// version check; a write is acknowledged only after its batch committed. The default.
    /// </summary>
    GroupCommit = 0,

    /// <summary>
    /// The Orleans ADO.NET grain storage provider (Microsoft.Orleans.Persistence.AdoNet), one statement
    /// and one commit per write: the reference store.
    /// </summary>
    AdoNetProvider = 1,
}
