namespace OrleansLocks;

/// <summary>What anyone may know about a read/write lock: its holders (never their tokens) and its line.</summary>
/// <param name="Writer">The writer, or <see langword="null"/>.</param>
/// <param name="Readers">The readers, oldest grant first (empty when none).</param>
/// <param name="WaitingWriters">How many callers wait to write.</param>
/// <param name="WaitingReaders">How many callers wait to read.</param>
[GenerateSerializer, Immutable, Alias("OrleansLocks.ReadWriteLockInfo")]
public sealed record ReadWriteLockInfo(
    [property: Id(0)] LockInfo? Writer,
    [property: Id(1)] IReadOnlyList<LockInfo> Readers,
    [property: Id(2)] int WaitingWriters,
    [property: Id(3)] int WaitingReaders)
{
    /// <summary>Whether nobody holds the lock.</summary>
    public bool IsFree => Writer is null && Readers.Count == 0;
}
