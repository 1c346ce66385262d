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
    /// <exception cref="ArgumentException">A part is a read hold, or the transaction is of another connection or ended (thrown at the call, before any part is fenced).</exception>
    public static ValueTask FenceAsync(this MultiLockHandle handle, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handle);

        // Every part is checked before the first is fenced: bad input throws at the call, and no part
        // is recorded in the transaction for a call that was going to be refused anyway.
        var kindNames = handle.Parts.Select(p => LockFences.CheckFenceArguments(connection, transaction, p.Id, p.Kind, p.FencingToken)).ToList();
        return FenceAllAsync(handle, connection, transaction, kindNames, cancellationToken);
    }

    private static async ValueTask FenceAllAsync(MultiLockHandle handle, NpgsqlConnection connection, NpgsqlTransaction transaction, List<string> kindNames, CancellationToken cancellationToken)
    {
        for (var i = 0; i < handle.Parts.Count; i++)
        {
            var part = handle.Parts[i];
            await LockFences.FenceCoreAsync(connection, transaction, part.Id, part.Kind, kindNames[i], part.FencingToken, cancellationToken).ConfigureAwait(false);
        }
    }
}
