using Npgsql;

namespace OrleansLocks.Grains.Storage;

/// <summary>
/// The PostgreSQL schema of <c>sql/orleans-locks.sql</c> (embedded in this assembly): the tables and
/// queries of the Orleans ADO.NET clustering, persistence and reminder providers, and the
/// <c>orleans_locks</c> and <c>worker_locks</c> views. Applying it twice is harmless. The script
/// stamps its version in the one-row table <c>orleanslocks_schema</c>; a silo checks that stamp
/// against <see cref="ExpectedVersion"/> before it uses the database.
/// </summary>
internal static class PostgresSchema
{
    /// <summary>
    /// The schema version this assembly needs: the version <c>sql/orleans-locks.sql</c> stamps in
    /// <c>orleanslocks_schema</c>. Raised together with the script whenever the silo depends on a change.
    /// </summary>
    internal const int ExpectedVersion = 3;

    /// <summary>The schema script's text.</summary>
    public static string Script { get; } = LoadScript();

    /// <summary>
    /// Applies the schema. The script is one transaction and takes an advisory lock itself, so silos
    /// starting together take turns instead of racing on CREATE.
    /// </summary>
    public static async Task ApplyAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var apply = new NpgsqlCommand(Script, connection);
        await apply.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads the schema version stamped in the database, or null when there is no stamp (the script
    /// was never applied, or an older script without a stamp was).
    /// </summary>
    /// <exception cref="NpgsqlException">The database could not be read.</exception>
    internal static async Task<int?> ReadVersionAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);

        await using var read = new NpgsqlCommand("SELECT version FROM orleanslocks_schema WHERE id", connection);
        try
        {
            return await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) switch
            {
                int version => version,
                _ => null,
            };
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return null;
        }
    }

    /// <summary>
    /// Checks that the database carries the schema version this assembly needs
    /// (<see cref="ExpectedVersion"/>), and refuses otherwise.
    /// </summary>
    /// <exception cref="LockSchemaVersionException">
    /// The stamp is missing or names another version; the message names both versions and how to fix it.
    /// </exception>
    /// <exception cref="NpgsqlException">The database could not be read.</exception>
    internal static async Task EnsureVersionAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var found = await ReadVersionAsync(connectionString, cancellationToken).ConfigureAwait(false);
        if (found != ExpectedVersion)
        {
            throw new LockSchemaVersionException(VersionMismatchMessage(found));
        }
    }

    /// <summary>What a silo says when the stamp is not <see cref="ExpectedVersion"/>.</summary>
    internal static string VersionMismatchMessage(int? found)
    {
        var inDatabase = found is { } version
            ? $"the database has OrleansLocks schema version {version}"
            : "the database has no OrleansLocks schema version (table orleanslocks_schema is missing or empty)";
        return $"OrleansLocks schema version mismatch: {inDatabase}, but this silo needs version {ExpectedVersion}. "
            + "Apply sql/orleans-locks.sql of this OrleansLocks version to the database (it ships in the "
            + "OrleansLocks.Grains package under sql/; e.g. psql -f orleans-locks.sql), or let the silo apply it "
            + "at start-up with LockStorageOptions.ApplySchema = true.";
    }

    private static string LoadScript()
    {
        using var stream = typeof(PostgresSchema).Assembly.GetManifestResourceStream("OrleansLocks.Schema.sql")
            ?? throw new InvalidOperationException("The embedded schema OrleansLocks.Schema.sql is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
