using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace OrleansLocks.Grains.Storage;

/// <summary>
/// An <see cref="ILockStore"/> over an Orleans <see cref="IGrainStorage"/> provider: the state and
/// its ETag live in one <see cref="GrainState{T}"/> envelope, and the provider's failures become
/// <see cref="LockStorageException"/>s that name the operation and the lock.
/// </summary>
/// <remarks>
/// The storage is called directly, not through <c>IPersistentState</c>, so that reading the state is
/// part of the first call (whose failure is reported as <see cref="LockStorageException"/>) rather
/// than of activation (whose failure would reach the caller as the driver's unserializable exception).
/// The provider's exception never travels to the caller: only its type and message do.
/// </remarks>
internal sealed class GrainStorageLockStore(IGrainStorage storage, string stateName, GrainId grainId, string lockName, ILogger logger) : ILockStore
{
    private readonly GrainState<LockState> _envelope = new(new LockState());

    /// <inheritdoc/>
    public bool RecordExists => _envelope.RecordExists;

    /// <inheritdoc/>
    public async Task<LockState> ReadAsync()
    {
        try
        {
            await storage.ReadStateAsync(stateName, grainId, _envelope);
        }
        catch (Exception ex)
        {
            throw StoreFailure.ReadFailed(ex, lockName, logger);
        }

        return _envelope.State ??= new LockState();
    }

    /// <inheritdoc/>
    public async Task WriteAsync(LockState next, string operation)
    {
        // The provider writes the envelope's state; put the last stored one back if the write fails.
        var stored = _envelope.State;
        _envelope.State = next;
        try
        {
            await storage.WriteStateAsync(stateName, grainId, _envelope);
        }
        catch (Exception ex)
        {
            _envelope.State = stored;
            throw Failure(ex, operation);
        }
    }

    /// <inheritdoc/>
    public async Task ClearAsync()
    {
        try
        {
            await storage.ClearStateAsync(stateName, grainId, _envelope);
        }
        catch (Exception ex)
        {
            throw Failure(ex, "clear");
        }
    }

    private LockStorageException Failure(Exception ex, string operation) => ex is InconsistentStateException
        ? StoreFailure.VersionConflict(operation, lockName, logger)
        : StoreFailure.WriteFailed(ex, operation, lockName, logger);
}
