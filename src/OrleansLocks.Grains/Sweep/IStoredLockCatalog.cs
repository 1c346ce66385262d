namespace OrleansLocks.Grains.Sweep;

/// <summary>Finds stored locks that need the sweep, by reading storage directly (no activations).</summary>
internal interface IStoredLockCatalog
{
    /// <summary>
    /// The grains of stored locks (plain and read/write) with a holder whose lease expired before
    /// <paramref name="now"/>, or that have been free since before <paramref name="freedBefore"/>;
    /// at most <paramref name="limit"/>.
    /// </summary>
    Task<IReadOnlyList<GrainId>> FindSweepableAsync(DateTimeOffset now, DateTimeOffset freedBefore, int limit, CancellationToken cancellationToken);
}
