namespace OrleansLocks.Grains.Storage;

/// <summary>
/// The stored state of one lock, read and written with optimistic concurrency: a write succeeds only
/// if nobody else wrote the lock since this store last read or wrote it, so a stale duplicate
/// activation can never grant a second holder (its write fails instead).
/// </summary>
/// <remarks>
/// One write is one versioned change of one lock's state. Failures are
/// <see cref="LockStorageException"/>s (<see cref="LockStorageException.IsVersionConflict"/> when the
/// stored version moved); after a failed write or clear what storage holds is unknown, so the caller
/// stops answering from memory and reads again.
/// </remarks>
internal interface ILockStore
{
    /// <summary>Whether storage holds a state for this lock (false before the first write and after a clear).</summary>
    bool RecordExists { get; }

    /// <summary>Reads the stored state (a new, empty state when there is none) and the version later writes must match.</summary>
    Task<LockState> ReadAsync();

    /// <summary>
    /// Writes <paramref name="next"/> if the stored version is still the one last read or written; the
    /// store takes it as its own only once the write succeeded.
    /// </summary>
    /// <param name="next">The whole next state.</param>
    /// <param name="operation">What the write does (acquire, renew, release, expire), for errors and logs.</param>
    Task WriteAsync(LockState next, string operation);

    /// <summary>Clears the stored state, keeping the record's version so that no older version can match again.</summary>
    Task ClearAsync();
}
