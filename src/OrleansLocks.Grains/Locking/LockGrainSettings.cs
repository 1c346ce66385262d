using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;
using OrleansLocks.Grains.Storage;

namespace OrleansLocks.Grains.Locking;

/// <summary>
/// What every lock activation of the silo is configured with, in one place: the lease, wait and
/// storage option values, the clock, the registry of activations with open waits and the expiry
/// schedule. One per silo, shared by every activation (memory per held lock counts).
/// </summary>
internal sealed class LockGrainSettings(
    ExpirySchedule expiry,
    IOptions<LockLeaseOptions> lease,
    IOptions<LockStorageOptions> storage,
    IOptions<LockWaitOptions> wait,
    TimeProvider time,
    OpenWaitRegistry openWaits,
    GroupCommitLockWriterLifetime? groupCommit = null,
    Admin.IndexedGrainStorage? indexedMemory = null)
{
    /// <summary>The silo's clock.</summary>
    public TimeProvider Time { get; } = time;

    /// <summary>The silo's schedule of lock deadlines (expiries, the lines' deadlines).</summary>
    public ExpirySchedule Expiry { get; } = expiry;

    /// <summary>The activations with open waits, and whether the silo is stopping.</summary>
    public OpenWaitRegistry OpenWaits { get; } = openWaits;

    /// <summary>How long a grant or renewal lasts (<see cref="LockLeaseOptions.LeaseTimeout"/>).</summary>
    public long LeaseMs { get; } = (long)lease.Value.LeaseTimeout.TotalMilliseconds;

    /// <summary>How long a free lock's state is kept (<see cref="LockStorageOptions.FreeRowRetention"/>).</summary>
    public long RetentionMs { get; } = (long)storage.Value.FreeRowRetention.TotalMilliseconds;

    /// <summary>The longest a wait call stays open (<see cref="LockWaitOptions.PollInterval"/>).</summary>
    public TimeSpan PollInterval { get; } = wait.Value.PollInterval;

    /// <summary>How long a silent waiter or an unconfirmed grant is kept (<see cref="LockWaitOptions.WaiterTimeout"/>).</summary>
    public long WaiterTimeoutMs { get; } = (long)wait.Value.WaiterTimeout.TotalMilliseconds;

    /// <summary>The most waiters in one lock's line (<see cref="LockWaitOptions.MaxWaiters"/>).</summary>
    public int MaxWaiters { get; } = wait.Value.MaxWaiters;

    /// <summary>The storage provider's name (<see cref="LockStorageOptions.StorageProviderName"/>).</summary>
    public string StorageProviderName { get; } = storage.Value.StorageProviderName;

    /// <summary>The silo's group-commit writer when lock rows are written by it, else null (see <see cref="LockStorageOptions.Writer"/>).</summary>
    public GroupCommitLockWriterLifetime? GroupCommit { get; } =
        storage.Value.ConnectionString is not null && storage.Value.Writer == PostgresLockWriter.GroupCommit ? groupCommit : null;

    /// <summary>The store of the lock that <paramref name="context"/> activates, under <paramref name="stateName"/>.</summary>
    public ILockStore OpenStore(IGrainContext context, string stateName, ILogger logger) => GroupCommit?.Writer is { } writer
        ? new GroupCommitLockStore(writer, LockRowKey.For(context.GrainId, stateName, writer.ServiceId), logger)
        : new GrainStorageLockStore(
            (IGrainStorage?)indexedMemory ?? context.ActivationServices.GetRequiredKeyedService<IGrainStorage>(StorageProviderName),
            stateName,
            context.GrainId,
            context.GrainId.Key.ToString()!,
            logger);
}
