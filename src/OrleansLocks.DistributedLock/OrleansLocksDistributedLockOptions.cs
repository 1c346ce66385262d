namespace OrleansLocks.DistributedLock;

/// <summary>
/// Which OrleansLocks lock names the DistributedLock adapter uses: every DistributedLock name becomes
/// a key of one fixed lock name per kind (see <see cref="OrleansLocksDistributedLockProvider.GetKey"/>).
/// </summary>
public sealed class OrleansLocksDistributedLockOptions
{
    /// <summary>The lock name under which <c>CreateLock(name)</c> locks live (a plain lock per DistributedLock name).</summary>
    /// <value>The default is <c>distributedlock</c>.</value>
    public string LockName { get; set; } = "distributedlock";

    /// <summary>The lock name under which <c>CreateReaderWriterLock(name)</c> locks live (a read/write lock per DistributedLock name).</summary>
    /// <value>The default is <c>distributedlock-rw</c>.</value>
    public string ReaderWriterLockName { get; set; } = "distributedlock-rw";

    /// <summary>The lock name under which <c>CreateSemaphore(name, maxCount)</c> semaphores live (a semaphore per DistributedLock name).</summary>
    /// <value>The default is <c>distributedlock-semaphore</c>.</value>
    public string SemaphoreName { get; set; } = "distributedlock-semaphore";

    /// <summary>Checks every name against OrleansLocks' name rule.</summary>
    /// <exception cref="ArgumentException">A name breaks <see cref="LockId.NameRule"/>; the message names the rule and the option.</exception>
    internal void Validate()
    {
        LockId.ValidateName(LockName, nameof(LockName));
        LockId.ValidateName(ReaderWriterLockName, nameof(ReaderWriterLockName));
        LockId.ValidateName(SemaphoreName, nameof(SemaphoreName));
    }
}
