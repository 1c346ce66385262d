using Microsoft.Extensions.Logging;

namespace OrleansLocks.Grains.Storage;

/// <summary>
/// An <see cref="ILockStore"/> whose writes go through the silo's <see cref="GroupCommitLockWriter"/>:
/// one activation's row, the version it last read or wrote, and the same meaning of "exists" as the
/// Orleans ADO.NET provider (a row whose state was cleared keeps its version but does not exist).
/// </summary>
internal sealed class GroupCommitLockStore(GroupCommitLockWriter writer, LockRowKey row, ILogger logger) : ILockStore
{
    private string LockName => row.GrainKey;

    private int? _version;

    /// <inheritdoc/>
    public bool RecordExists { get; private set; }

    /// <inheritdoc/>
    public async Task<LockState> ReadAsync()
    {
        try
        {
            var (payload, version) = await writer.ReadAsync(row);
            var state = payload is null ? new LockState() : LockStateJsonSerializer.FromBytes(payload);
            (_version, RecordExists) = (version, payload is not null);
            return state;
        }
        catch (Exception ex)
        {
            throw StoreFailure.ReadFailed(ex, LockName, logger);
        }
    }

    /// <inheritdoc/>
    public Task WriteAsync(LockState next, string operation) =>
        WriteAsync(LockStateJsonSerializer.ToBytes(next), operation);

    /// <inheritdoc/>
    public Task ClearAsync()
    {
        // Nothing was ever stored: nothing to clear (and no version to guard a write with).
        return _version is null ? Task.CompletedTask : WriteAsync(payload: null, "clear");
    }

    private async Task WriteAsync(byte[]? payload, string operation)
    {
        int? written;
        try
        {
            written = await writer.WriteAsync(row, _version, payload);
        }
        catch (Exception ex)
        {
            throw StoreFailure.WriteFailed(ex, operation, LockName, logger);
        }

        if (written is null)
        {
            throw StoreFailure.VersionConflict(operation, LockName, logger);
        }

        _version = written;
        RecordExists = payload is not null;
    }
}
