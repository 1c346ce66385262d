using Microsoft.Extensions.Logging;

namespace OrleansLocks.Grains;

/// <summary>The silo side's log messages, with stable event ids. Tokens are never logged.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "Lock {LockId} granted to {Owner} with fencing token {FencingToken}")]
    public static partial void Granted(ILogger logger, LockId lockId, string owner, long fencingToken);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "Lock {LockId} released (fencing token {FencingToken})")]
    public static partial void Released(ILogger logger, LockId lockId, long fencingToken);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Lock {LockId} expired without renewal and is free again (fencing token {FencingToken})")]
    public static partial void Expired(ILogger logger, LockId lockId, long fencingToken);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Error, Message = "The {Operation} of lock {LockId} failed in storage; nothing was changed and the activation is dropped")]
    public static partial void StorageFailed(ILogger logger, Exception exception, string operation, string lockId);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "The {Operation} of lock {LockId} was refused: the stored version moved (a duplicate or stale activation); the activation is dropped")]
    public static partial void VersionConflict(ILogger logger, string operation, string lockId);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Debug, Message = "A waiter of lock {LockId} stopped calling and left the line")]
    public static partial void WaiterGone(ILogger logger, LockId lockId);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Warning, Message = "Lock {LockId} was granted to a waiter that never confirmed it (fencing token {FencingToken}); the grant is taken back and the lock goes to the next waiter")]
    public static partial void GrantTakenBack(ILogger logger, LockId lockId, long fencingToken);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Debug, Message = "A waiter of lock {LockId} gave up after it was granted; its grant (fencing token {FencingToken}) is released")]
    public static partial void GrantReturned(ILogger logger, LockId lockId, long fencingToken);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Warning, Message = "The expiry schedule's call to lock {GrainId} failed ({Failures} in a row); it calls again in {RetryMs} ms")]
    public static partial void DueCallFailed(ILogger logger, Exception exception, string grainId, int failures, long retryMs);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "OrleansLocks is using in-memory storage: locks do not survive a silo restart. Set ConnectionStrings:OrleansLocks to use PostgreSQL.")]
    public static partial void InMemoryStorage(ILogger logger);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Information, Message = "OrleansLocks is using PostgreSQL storage (provider {StorageProviderName})")]
    public static partial void PostgresStorage(ILogger logger, string storageProviderName);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Information, Message = "OrleansLocks schema applied to PostgreSQL in {ElapsedMs} ms")]
    public static partial void SchemaApplied(ILogger logger, long elapsedMs);

    [LoggerMessage(EventId = 1020, Level = LogLevel.Information, Message = "Lock sweep freed or removed {Count} of {Found} stored locks")]
    public static partial void SweepDone(ILogger logger, int count, int found);

    [LoggerMessage(EventId = 1021, Level = LogLevel.Error, Message = "Lock sweep failed")]
    public static partial void SweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1022, Level = LogLevel.Error, Message = "Could not register the lock sweep reminder; is a reminder service configured (e.g. UseAdoNetReminderService)?")]
    public static partial void SweepRegistrationFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1030, Level = LogLevel.Warning, Message = "A batch of {Count} lock writes lost a deadlock with another transaction and was rolled back; sending it again (attempt {Attempt})")]
    public static partial void BatchDeadlockRetried(ILogger logger, int count, int attempt);

    [LoggerMessage(EventId = 1031, Level = LogLevel.Error, Message = "A batch of {Count} lock writes failed; none of them is acknowledged and each lock's activation is dropped")]
    public static partial void BatchFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 1040, Level = LogLevel.Warning, Message = "Lock {LockId} ({Kind}) was force-released by {RequestedBy} because: {Reason}. Freed the hold of {Owner} with fencing token {FencingToken}; nobody is granted the lock before {NoGrantsBefore:O}")]
    public static partial void ForceReleased(ILogger logger, LockId lockId, LockKind kind, string requestedBy, string reason, string owner, long fencingToken, DateTimeOffset noGrantsBefore);

    [LoggerMessage(EventId = 1041, Level = LogLevel.Warning, Message = "{RequestedBy} asked to force-release lock {LockId} because: {Reason}. Nothing was freed ({Outcome})")]
    public static partial void ForceReleaseFreedNothing(ILogger logger, LockId lockId, string requestedBy, string reason, OrleansLocks.Admin.ForceReleaseOutcome outcome);

    [LoggerMessage(EventId = 1042, Level = LogLevel.Warning, Message = "{RequestedBy} force-released every lock of owner {Owner} because: {Reason}. Freed {Count} holds")]
    public static partial void OwnerReleased(ILogger logger, string owner, int count, string requestedBy, string reason);

    [LoggerMessage(EventId = 1060, Level = LogLevel.Debug, Message = "The upgradeable reader of lock {LockId} was upgraded to write with fencing token {FencingToken}")]
    public static partial void Upgraded(ILogger logger, LockId lockId, long fencingToken);

    [LoggerMessage(EventId = 1061, Level = LogLevel.Debug, Message = "The upgrade of lock {LockId} was given up after it was granted; the hold is the upgradeable read it was (fencing token {FencingToken})")]
    public static partial void UpgradeGivenBack(ILogger logger, LockId lockId, long fencingToken);
}
