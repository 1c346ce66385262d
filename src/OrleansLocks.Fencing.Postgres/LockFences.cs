using System.Globalization;
using Npgsql;

namespace OrleansLocks.Fencing.Postgres;

/// <summary>
/// Fencing enforced by PostgreSQL: the <c>lock_fences</c> table and the <c>orleanslocks_fence</c>
/// function (sql/lock-fences.sql), and the calls that use them inside your own transaction, so that
/// your writes commit only while your fencing token is the newest that has written.
/// </summary>
/// <example>
/// <code>
/// await using var tx = await connection.BeginTransactionAsync(ct);
/// await handle.FenceAsync(connection, tx, ct);   // LockHandleFencing; StaleFencingTokenException for a stale holder
/// await using var update = new NpgsqlCommand("UPDATE rooms SET purged = true WHERE id = $1", connection, tx);
/// update.Parameters.AddWithValue(roomId);
/// await update.ExecuteNonQueryAsync(ct);
/// await tx.CommitAsync(ct);
/// </code>
/// </example>
public static class LockFences
{
    /// <summary>The SQLSTATE that <c>orleanslocks_fence</c> raises when a token is older than the newest seen: <c>OLF01</c>.</summary>
    public const string StaleTokenSqlState = "OLF01";

    private const string ScriptResource = "OrleansLocks.LockFences.sql";
    private const string UndefinedFunction = "42883";
    private const string UndefinedTable = "42P01";

    /// <summary>
    /// The schema script (sql/lock-fences.sql): idempotent, safe to run again and from several
    /// processes at once. It runs in its own transaction.
    /// </summary>
    public static string Script { get; } = ReadScript();

    /// <summary>Creates or updates the <c>lock_fences</c> table and the <c>orleanslocks_fence</c> function.</summary>
    /// <param name="dataSource">The database of the resource you guard (not necessarily the lock service's).</param>
    /// <param name="cancellationToken">Cancels the installation; its transaction then rolls back.</param>
    public static Task InstallAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        return InstallCoreAsync(dataSource, cancellationToken);
    }

    /// <summary>
    /// Checks every argument of <see cref="FenceTokenAsync"/> at the call, before any task or database
    /// call exists, so that bad input throws where it is passed.
    /// </summary>
    internal static string CheckFenceArguments(NpgsqlConnection connection, NpgsqlTransaction transaction, LockId lockId, LockKind kind, long fencingToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(transaction);
        if (!ReferenceEquals(transaction.Connection, connection))
        {
            throw new ArgumentException("The transaction must be open and belong to the given connection: the fence holds only inside the transaction that writes.", nameof(transaction));
        }

        if (lockId.Name is null)
        {
            throw new ArgumentException("A lock id made with LockId.Create is needed, not a default one.", nameof(lockId));
        }

        var kindName = kind switch
        {
            LockKind.Plain => "plain",
            LockKind.Write => "write",
            LockKind.Semaphore => throw new ArgumentException("A semaphore permit cannot fence: its holders share the semaphore, so their fencing tokens do not order their writes. Fence with a plain lock or a write hold.", nameof(kind)),
            _ => throw new ArgumentException($"Only a plain or write hold can fence, not {kind}: readers share the lock, so their tokens do not order their writes.", nameof(kind)),
        };
        if (fencingToken < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(fencingToken), fencingToken, "A fencing token is a positive number, as every grant's is.");
        }

        return kindName;
    }

    private static async Task InstallCoreAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(Script, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Checks <paramref name="fencingToken"/> against the newest token that has written for the lock,
    /// inside <paramref name="transaction"/>: refused when older, otherwise recorded as the newest.
    /// Call it first in the transaction that writes; the lock's fence row stays locked until that
    /// transaction ends, so an older holder cannot commit after a newer one has fenced. An equal token
    /// (the same holder writing again) is allowed.
    /// </summary>
    /// <param name="connection">The open connection <paramref name="transaction"/> belongs to.</param>
    /// <param name="transaction">Your transaction, still open; your writes follow in it.</param>
    /// <param name="lockId">The lock whose grant the token comes from.</param>
    /// <param name="kind"><see cref="LockKind.Plain"/> or <see cref="LockKind.Write"/>: a read hold or a semaphore permit is shared and cannot fence.</param>
    /// <param name="fencingToken">The grant's fencing token (positive).</param>
    /// <param name="cancellationToken">Cancels the check; the transaction must then be rolled back.</param>
    /// <exception cref="StaleFencingTokenException">A newer holder has written; the transaction is aborted, roll it back.</exception>
    /// <exception cref="ArgumentException">A read hold or a semaphore permit, a default lock id, a token below 1, or a transaction of another connection or already ended.</exception>
    /// <exception cref="InvalidOperationException">The fence schema is not installed in this database (see <see cref="InstallAsync"/>).</exception>
    /// <exception cref="PostgresException">Any other database error; nothing was checked, so do not commit.</exception>
    public static ValueTask FenceTokenAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, LockId lockId, LockKind kind, long fencingToken, CancellationToken cancellationToken = default)
    {
        var kindName = CheckFenceArguments(connection, transaction, lockId, kind, fencingToken);
        return FenceCoreAsync(connection, transaction, lockId, kind, kindName, fencingToken, cancellationToken);
    }

    /// <summary>Runs the fence check of arguments <see cref="CheckFenceArguments"/> accepted.</summary>
    internal static async ValueTask FenceCoreAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, LockId lockId, LockKind kind, string kindName, long fencingToken, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT orleanslocks_fence($1, $2, $3, $4)", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = lockId.Name });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = lockId.Key });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = fencingToken });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kindName });
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (ex.SqlState == StaleTokenSqlState)
        {
            throw new StaleFencingTokenException(lockId, kind, fencingToken, NewestFrom(ex.MessageText), ex);
        }
        catch (PostgresException ex) when (ex.SqlState is UndefinedFunction or UndefinedTable)
        {
            throw new InvalidOperationException("The lock fence schema (lock_fences, orleanslocks_fence) is not installed in this database: run LockFences.InstallAsync or sql/lock-fences.sql first.", ex);
        }
    }

    private static long NewestFrom(string message)
    {
        // The function's message ends with the newest token (sql/lock-fences.sql).
        var start = message.LastIndexOf(' ') + 1;
        return long.TryParse(message.AsSpan(start), NumberStyles.None, CultureInfo.InvariantCulture, out var newest) ? newest : -1;
    }

    private static string ReadScript()
    {
        using var stream = typeof(LockFences).Assembly.GetManifestResourceStream(ScriptResource)
            ?? throw new InvalidOperationException($"The embedded script {ScriptResource} is missing from {typeof(LockFences).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
