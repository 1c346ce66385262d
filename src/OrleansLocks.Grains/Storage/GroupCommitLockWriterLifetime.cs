using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace OrleansLocks.Grains.Storage;

/// <summary>
/// The silo's <see cref="GroupCommitLockWriter"/>, made on first use (after the options were checked
/// at start-up) and stopped late in the silo's shutdown, after its grains stopped: writes still queued
/// then are committed first; whatever comes after fails as a storage failure.
/// </summary>
internal sealed class GroupCommitLockWriterLifetime(
    IOptions<LockStorageOptions> storage,
    IOptions<ClusterOptions> cluster,
    ILoggerFactory loggers) : ILifecycleParticipant<ISiloLifecycle>, IAsyncDisposable
{
    private readonly Lock _gate = new();
    private GroupCommitLockWriter? _writer;
    private bool _stopped;

    /// <summary>The writer.</summary>
    /// <exception cref="InvalidOperationException">The silo has no PostgreSQL connection string, or it stopped.</exception>
    public GroupCommitLockWriter Writer
    {
        get
        {
            lock (_gate)
            {
                if (_writer is { } made)
                {
                    return made;
                }

                if (_stopped)
                {
                    throw new InvalidOperationException("The lock writer has stopped (the silo is shutting down); the write was not sent.");
                }

                var options = storage.Value;
                var connectionString = options.ConnectionString
                    ?? throw new InvalidOperationException("The group-commit lock writer needs LockStorageOptions.ConnectionString (UsePostgres).");
                return _writer = new GroupCommitLockWriter(
                    Orleans.Hosting.OrleansLocksSiloBuilderExtensions.TunedForLocks(connectionString),
                    cluster.Value.ServiceId,
                    options.MaxBatchSize,
                    loggers.CreateLogger<GroupCommitLockWriter>(),
                    options.MaxConcurrentBatches);
            }
        }
    }

    /// <inheritdoc/>
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(GroupCommitLockWriter), ServiceLifecycleStage.RuntimeInitialize, _ => Task.CompletedTask, StopAsync);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Stop() is { } writer)
        {
            await writer.DisposeAsync();
        }
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Stop() is { } writer)
        {
            await writer.StopAsync(cancellationToken);
        }
    }

    private GroupCommitLockWriter? Stop()
    {
        lock (_gate)
        {
            _stopped = true;
            return _writer;
        }
    }
}
