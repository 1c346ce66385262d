namespace OrleansLocks.Grains.Sweep;

/// <summary>The lock grain's housekeeping face, called by the sweep (not part of the public lock API).</summary>
[Alias("OrleansLocks.ILockSweepTarget")]
internal interface ILockSweepTarget : IGrainWithStringKey
{
    /// <summary>
    /// Frees the lock if its lease expired, or clears its stored state if it has been free for longer than
    /// <see cref="LockStorageOptions.FreeRowRetention"/>.
    /// </summary>
    /// <returns>Whether anything was written.</returns>
    [Alias("Sweep")]
    Task<bool> Sweep();
}
