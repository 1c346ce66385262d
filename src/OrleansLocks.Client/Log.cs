using Microsoft.Extensions.Logging;

namespace OrleansLocks.Client;

/// <summary>The client side's log messages, with stable event ids. Tokens are never logged.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "Acquired lock {LockId} with fencing token {FencingToken}")]
    public static partial void Acquired(ILogger logger, LockId lockId, long fencingToken);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Debug, Message = "Released lock {LockId} (fencing token {FencingToken})")]
    public static partial void Released(ILogger logger, LockId lockId, long fencingToken);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Lost lock {LockId}: {Reason}")]
    public static partial void LeaseLost(ILogger logger, LockId lockId, string reason);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Renewing lock {LockId} failed; retrying at the next renewal")]
    public static partial void RenewalFailed(ILogger logger, Exception exception, LockId lockId);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Error, Message = "A handle of lock {LockId} was garbage-collected without being released; it stops renewing and the lock expires at {ExpiresAt:O}")]
    public static partial void HandleAbandoned(ILogger logger, LockId lockId, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "Releasing lock {LockId} failed; it expires by itself at {ExpiresAt:O}")]
    public static partial void ReleaseFailed(ILogger logger, Exception exception, LockId lockId, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Information, Message = "{Operation} of lock {LockId} failed transiently (attempt {Attempt} of {MaxAttempts}); retrying")]
    public static partial void TransientFault(ILogger logger, Exception exception, string operation, LockId lockId, int attempt, int maxAttempts);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Information, Message = "Releasing {Count} held locks as the host stops")]
    public static partial void ReleasingOnShutdown(ILogger logger, int count);

    [LoggerMessage(EventId = 2009, Level = LogLevel.Error, Message = "A HandleLostToken callback of lock {LockId} threw")]
    public static partial void LostCallbackFailed(ILogger logger, Exception exception, LockId lockId);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Warning, Message = "An acquire of lock {LockId} was cancelled after it was granted; releasing it")]
    public static partial void CancelledGrantReleased(ILogger logger, LockId lockId);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "An acquire of lock {LockId} was cancelled, and whether it was granted could not be learned or the grant not released; any such grant expires with its lease")]
    public static partial void CancelledGrantNotReleased(ILogger logger, Exception exception, LockId lockId);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Information, Message = "Waiting for lock {LockId} met a transient fault; still waiting")]
    public static partial void WaitFault(ILogger logger, Exception exception, LockId lockId);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Warning, Message = "A wait for lock {LockId} gave up but could not leave the line; the lock drops the waiter by itself within its waiter timeout")]
    public static partial void StopWaitingFailed(ILogger logger, Exception exception, LockId lockId);

    [LoggerMessage(EventId = 2060, Level = LogLevel.Debug, Message = "The upgradeable read of lock {LockId} was upgraded to write with fencing token {FencingToken}")]
    public static partial void Upgraded(ILogger logger, LockId lockId, long fencingToken);

    [LoggerMessage(EventId = 2061, Level = LogLevel.Warning, Message = "An upgrade of lock {LockId} gave up but could not tell the lock; an upgrade granted meanwhile stays a write hold of this handle until it is released")]
    public static partial void UpgradeGiveUpFailed(ILogger logger, Exception exception, LockId lockId);
}
