using Microsoft.Extensions.Logging;

namespace OrleansLocks.Grains.Storage;

/// <summary>
/// The <see cref="LockStorageException"/>s every <see cref="ILockStore"/> raises, logged once here. The
/// driver's exception never travels to the caller (it may not serialize): only its type and message do.
/// </summary>
internal static class StoreFailure
{
    /// <summary>A read that failed: nothing was changed.</summary>
    public static LockStorageException ReadFailed(Exception ex, string lockName, ILogger logger)
    {
        Log.StorageFailed(logger, ex, "read", lockName);
        return new LockStorageException(
            $"Could not read lock '{lockName}' from storage ({ex.GetType().Name}: {ex.Message}); nothing was changed.");
    }

    /// <summary>A write or clear that failed: not acknowledged, so the caller treats it as not done.</summary>
    public static LockStorageException WriteFailed(Exception ex, string operation, string lockName, ILogger logger)
    {
        Log.StorageFailed(logger, ex, operation, lockName);
        return new LockStorageException(
            $"The {operation} of lock '{lockName}' failed in storage ({ex.GetType().Name}: {ex.Message}) and was not acknowledged: treat it as not done. Retrying is safe.");
    }

    /// <summary>A write refused because the stored version moved under this activation.</summary>
    public static LockStorageException VersionConflict(string operation, string lockName, ILogger logger)
    {
        Log.VersionConflict(logger, operation, lockName);
        return new LockStorageException(
            $"The {operation} of lock '{lockName}' was refused: its stored version changed under this activation (another activation wrote it). Nothing was changed; retrying reaches a fresh activation.",
            isVersionConflict: true);
    }
}
