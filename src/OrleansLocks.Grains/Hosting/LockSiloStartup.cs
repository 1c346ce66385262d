using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansLocks.Grains.Storage;
using OrleansLocks.Grains.Sweep;

namespace OrleansLocks.Grains.Hosting;

/// <summary>
/// What a silo does for OrleansLocks as it starts: says which storage it uses, applies the
/// PostgreSQL schema before any provider reads it, checks the schema version the database carries
/// (refusing to start on a mismatch), and once the silo is active, makes sure the sweep reminder exists.
/// </summary>
internal sealed class LockSiloStartup(
    IOptions<LockStorageOptions> storage,
    IGrainFactory grainFactory,
    ILogger<LockSiloStartup> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle)
    {
        lifecycle.Subscribe(nameof(LockSiloStartup), ServiceLifecycleStage.First, PrepareStorageAsync);
        lifecycle.Subscribe(nameof(LockSiloStartup), ServiceLifecycleStage.Active, StartSweepAsync);
    }

    private async Task PrepareStorageAsync(CancellationToken cancellationToken)
    {
        var options = storage.Value;
        if (options.ConnectionString is null)
        {
            Log.InMemoryStorage(logger);
            return;
        }

        Log.PostgresStorage(logger, options.StorageProviderName);
        if (options.ApplySchema)
        {
            var started = Stopwatch.GetTimestamp();
            await PostgresSchema.ApplyAsync(options.ConnectionString, cancellationToken);
            Log.SchemaApplied(logger, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        // Applied here or by an operator: either way the database must carry the version this code
        // was written against, or the providers would run query texts it does not expect.
        await PostgresSchema.EnsureVersionAsync(options.ConnectionString, cancellationToken);
    }

    private async Task StartSweepAsync(CancellationToken cancellationToken)
    {
        if (storage.Value.ConnectionString is null)
        {
            return;
        }

        try
        {
            await grainFactory.GetGrain<ILockSweeperGrain>(0).Start();
        }
        catch (Exception ex)
        {
            // The locks work without the sweep; only long-expired rows would linger.
            Log.SweepRegistrationFailed(logger, ex);
        }
    }
}
