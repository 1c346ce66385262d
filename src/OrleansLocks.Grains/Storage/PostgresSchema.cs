using Npgsql;

namespace OrleansLocks.Grains.Storage;

/// <summary>
/// The PostgreSQL schema of <c>sql/orleans-locks.sql</c> (embedded in this assembly): the tables and
/// queries of the Orleans ADO.NET clustering, persistence and reminder providers, and the
/// <c>orleans_locks</c> and <c>worker_locks</c> views. Applying it twice is harmless.
/// </summary>
public static class PostgresSchema
{
    // Any fixed number: silos starting together take turns instead of racing on CREATE.
    private const long AdvisoryLockId = 0x4f726c4c6f636b73; // "OrlLocks"

    /// <summary>The schema script's text.</summary>
    public static string Script { get; } = LoadScript();

    /// <summary>Applies the schema in one transaction, serialised against other silos applying it at the same time.</summary>
    public static async Task ApplyAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var take = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@id)", connection, transaction))
        {
            take.Parameters.AddWithValue("id", AdvisoryLockId);
            await take.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var apply = new NpgsqlCommand(Script, connection, transaction))
        {
            await apply.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static string LoadScript()
    {
        using var stream = typeof(PostgresSchema).Assembly.GetManifestResourceStream("OrleansLocks.Schema.sql")
            ?? throw new InvalidOperationException("The embedded schema OrleansLocks.Schema.sql is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
