namespace OrleansLocks.Grains.Sweep;

/// <summary>
/// The cluster-wide sweep of stored locks (one grain, key 0), driven by a reminder so that it runs
/// even after every silo restarted: locks whose lease expired while no activation watched them are
/// freed, and the state of rows free for longer than the retention is cleared.
/// </summary>
[Alias("OrleansLocks.ILockSweeperGrain")]
internal interface ILockSweeperGrain : IGrainWithIntegerKey
{
    /// <summary>Registers (or updates) the sweep reminder. Idempotent; every silo calls it at start-up.</summary>
    [Alias("Start")]
    Task Start();

    /// <summary>Sweeps now.</summary>
    /// <returns>How many stored locks were freed or cleared.</returns>
    [Alias("SweepNow")]
    Task<int> SweepNow();

    /// <summary>What this sweeper remembers of its sweeps, for the sweep health check on any silo.</summary>
    [Alias("GetRecord")]
    Task<Health.SweepRecord> GetRecord();
}
