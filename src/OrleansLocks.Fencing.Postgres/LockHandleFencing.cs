using Npgsql;
using OrleansLocks.Client;

namespace OrleansLocks.Fencing.Postgres;

/// <summary>Fenced writes for a <see cref="LockHandle"/>: <c>await handle.FenceAsync(connection, transaction)</c>.</summary>
public static class LockHandleFencing
{
    /// <summary>
    /// Fences a write by <paramref name="handle"/> inside <paramref name="transaction"/>: see
    /// <see cref="LockFences.FenceTokenAsync"/>.
    /// </summary>
    /// <param name="handle">A plain or write hold.</param>
    /// <param name="connection">The open connection <paramref name="transaction"/> belongs to.</param>
    /// <param name="transaction">Your transaction, still open; your writes follow in it.</param>
    /// <param name="cancellationToken">Cancels the check; the transaction must then be rolled back.</param>
    /// <exception cref="StaleFencingTokenException">A newer holder has written; the transaction is aborted, roll it back.</exception>
    public static ValueTask FenceAsync(this LockHandle handle, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return LockFences.FenceTokenAsync(connection, transaction, handle.Id, handle.Kind, handle.FencingToken, cancellationToken);
    }
}
