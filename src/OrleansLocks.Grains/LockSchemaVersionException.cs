namespace OrleansLocks.Grains;

/// <summary>
/// A silo with PostgreSQL lock storage refused to start: the database does not carry the schema
/// version this OrleansLocks version needs (table <c>orleanslocks_schema</c>). The message names both
/// versions and how to fix it: apply <c>sql/orleans-locks.sql</c> of this version, or let the silo
/// apply it with <see cref="LockStorageOptions.ApplySchema"/>.
/// </summary>
public sealed class LockSchemaVersionException : InvalidOperationException
{
    /// <summary>Creates the refusal with its message.</summary>
    public LockSchemaVersionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the refusal with its message and cause.</summary>
    public LockSchemaVersionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the refusal with a generic message.</summary>
    public LockSchemaVersionException()
        : base("The database does not carry the OrleansLocks schema version this silo needs.")
    {
    }
}
