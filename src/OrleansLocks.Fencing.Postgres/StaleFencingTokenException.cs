namespace OrleansLocks.Fencing.Postgres;

/// <summary>
/// PostgreSQL refused a fenced write: a newer holder of the lock has already written through the
/// fence, so this holder has lost the lock and its transaction must not commit. The transaction is
/// aborted by the refusal; roll it back. Fencing tokens are not secrets, so both are given here.
/// </summary>
public sealed class StaleFencingTokenException : Exception
{
    /// <summary>Creates the exception for a refused write.</summary>
    /// <param name="lockId">The lock whose fence refused the write.</param>
    /// <param name="kind">Which kind of hold fenced: <see cref="LockKind.Plain"/> or <see cref="LockKind.Write"/>.</param>
    /// <param name="fencingToken">The token the refused write carried.</param>
    /// <param name="newestFencingToken">The newest token that has written through the fence.</param>
    /// <param name="innerException">The database's error, if any.</param>
    public StaleFencingTokenException(LockId lockId, LockKind kind, long fencingToken, long newestFencingToken, Exception? innerException = null)
        : base(
            $"The write was refused: fencing token {fencingToken} of {kind} lock {lockId} is older than {newestFencingToken}, "
            + "the newest that has written through the fence. A newer holder has the lock; this holder lost it and must not write.",
            innerException)
    {
        LockId = lockId;
        Kind = kind;
        FencingToken = fencingToken;
        NewestFencingToken = newestFencingToken;
    }

    /// <summary>The lock whose fence refused the write.</summary>
    public LockId LockId { get; }

    /// <summary>Which kind of hold fenced: <see cref="LockKind.Plain"/> or <see cref="LockKind.Write"/>.</summary>
    public LockKind Kind { get; }

    /// <summary>The token the refused write carried.</summary>
    public long FencingToken { get; }

    /// <summary>
    /// The newest token that has written through the fence (larger than <see cref="FencingToken"/>),
    /// or -1 when the database's message did not carry it (a script other than sql/lock-fences.sql).
    /// </summary>
    public long NewestFencingToken { get; }
}
