using Npgsql;

namespace OrleansLocks.Grains.Storage;

/// <summary>
/// The PostgreSQL schema of <c>sql/orleans-locks.sql</c> (embedded in this assembly): the tables and
/// queries of the Orleans ADO.NET clustering, persistence and reminder providers, and the
/// <c>orleans_locks</c> and <c>worker_locks</c> views. Applying it twice is harmless.
/// </summary>
public static class PostgresSchema
{
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

    private static string LoadScript()
    {
        using var stream = typeof(PostgresSchema).Assembly.GetManifestResourceStream("OrleansLocks.Schema.sql")
            ?? throw new InvalidOperationException("The embedded schema OrleansLocks.Schema.sql is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
