using Npgsql;

namespace OrleansLocks.Grains.Health;

/// <summary>How the health checks describe a database failure: the kind and PostgreSQL's reason, never the connection string.</summary>
internal static class StorageFailure
{
    public static string Describe(Exception exception) => exception switch
    {
        PostgresException postgres => $"{postgres.SqlState} {postgres.MessageText}",
        NpgsqlException { InnerException: { } inner } => $"{exception.GetType().Name} ({inner.GetType().Name}: {inner.Message})",
        _ => $"{exception.GetType().Name}: {exception.Message}",
    };
}
