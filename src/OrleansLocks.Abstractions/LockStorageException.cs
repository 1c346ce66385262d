namespace OrleansLocks;

/// <summary>
/// A lock's state could not be read or written durably, so the operation was not acknowledged:
/// treat it as not done (no grant, no renewal, no release). A write may still have reached storage
/// before the error; that is safe, because a retried acquire carries the same attempt id and gets
/// that grant back, and any grant nobody holds expires with its lease. This is never a way of saying
/// "someone else holds it" (that is <see langword="null"/>). It crosses the wire intact: the storage
/// driver's own exception, which Orleans may not be able to serialize, is summarised into the
/// message and logged on the silo.
/// </summary>
[GenerateSerializer, Alias("OrleansLocks.LockStorageException")]
public sealed class LockStorageException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public LockStorageException()
        : this("The lock's state could not be stored.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public LockStorageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the local cause (not sent over the wire).</summary>
    public LockStorageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a failed write.</summary>
    /// <param name="message">What failed, without secrets.</param>
    /// <param name="isVersionConflict">
    /// True when the stored version moved under this activation (another activation wrote it):
    /// the activation is dropped and a retry reaches a fresh one.
    /// </param>
    public LockStorageException(string message, bool isVersionConflict)
        : base(message)
    {
        IsVersionConflict = isVersionConflict;
    }

    /// <summary>
    /// True when the write was refused because the stored version had moved (a stale or duplicate
    /// activation). Nothing was granted; retrying the call is safe.
    /// </summary>
    [Id(0)]
    public bool IsVersionConflict { get; private set; }
}
