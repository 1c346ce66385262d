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
    /// <summary>The upgradeable reader, or <see langword="null"/>; it is also one of <see cref="Readers"/>.</summary>
    [Id(4)]
    public LockInfo? UpgradeableReader { get; init; }

    /// <summary>Whether the upgradeable reader waits to upgrade to the write hold (new readers are kept out meanwhile).</summary>
    [Id(5)]
    public bool UpgradeWaiting { get; init; }

    /// <summary>How many callers wait for the upgradeable read hold.</summary>
    [Id(6)]
    public int WaitingUpgradeableReaders { get; init; }

    /// <summary>Whether nobody holds the lock.</summary>
    public bool IsFree => Writer is null && Readers.Count == 0;
}
