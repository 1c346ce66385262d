using Npgsql;
using OrleansLocks.Client;

namespace OrleansLocks.Fencing.Postgres;

/// <summary>Fenced writes for a <see cref="MultiLockHandle"/>: every part fences in the same transaction.</summary>
public static class MultiLockHandleFencing
{
    /// <summary>
    /// Fences a write by every part of <paramref name="handle"/> inside <paramref name="transaction"/>,
    /// in the handle's order (the order it acquired them in, the same for every holder), so that two
    /// writers fencing the same locks cannot wait on each other's rows in a cycle.
    /// </summary>
    /// <param name="handle">A multi-lock of plain or write holds.</param>
    /// <param name="connection">The open connection <paramref name="transaction"/> belongs to.</param>
    /// <param name="transaction">Your transaction, still open; your writes follow in it.</param>
    /// <param name="cancellationToken">Cancels the check; the transaction must then be rolled back.</param>
    /// <exception cref="StaleFencingTokenException">A newer holder of one part has written; the transaction is aborted, roll it back.</exception>
    public static async ValueTask FenceAsync(this MultiLockHandle handle, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handle);
        foreach (var part in handle.Parts)
        {
            await LockFences.FenceTokenAsync(connection, transaction, part.Id, part.Kind, part.FencingToken, cancellationToken).ConfigureAwait(false);
        }
    }
}
