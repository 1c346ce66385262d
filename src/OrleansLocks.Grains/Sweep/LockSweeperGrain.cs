using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansLocks.Grains.Health;

namespace OrleansLocks.Grains.Sweep;

/// <summary>See <see cref="ILockSweeperGrain"/>.</summary>
[GrainType(GrainTypeName)]
internal sealed class LockSweeperGrain(
    IStoredLockCatalog catalog,
    TimeProvider time,
    IOptions<LockStorageOptions> storage,
    ILogger<LockSweeperGrain> logger) : Grain, ILockSweeperGrain, IRemindable
{
    public const string GrainTypeName = "orleanslocks.sweeper";
    private const string ReminderName = "sweep";
    private const int BatchSize = 500;
    private const int Parallelism = 16;
    private const int MaxBatches = 20;

    // Kept per activation: a new activation starts a new record, which the health check allows twice
    // the sweep interval before it expects a success.
    private readonly SweepHistory _history = new(time.GetUtcNow());

    public async Task Start()
    {
        var interval = storage.Value.SweepInterval;
        await this.RegisterOrUpdateReminder(ReminderName, interval, interval);
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        try
        {
            await SweepNow();
        }
        catch (Exception ex)
        {
            _history.Failed(time.GetUtcNow(), ex);
            Log.SweepFailed(logger, ex);
        }
    }

    public Task<SweepRecord> GetRecord() => Task.FromResult(_history.Snapshot());

    public async Task<int> SweepNow()
    {
        var swept = 0;
        var found = 0;
        for (var batch = 0; batch < MaxBatches; batch++)
        {
            var now = time.GetUtcNow();
            var ids = await catalog.FindSweepableAsync(now, now - storage.Value.FreeRowRetention, BatchSize, CancellationToken.None);
            found += ids.Count;
            foreach (var chunk in ids.Chunk(Parallelism))
            {
                var results = await Task.WhenAll(chunk.Select(SweepOneAsync));
                swept += results.Count(written => written);
            }

            // A full batch may mean more; a short one means done. Rows that failed to sweep
            // (storage trouble) would come back in the same batch, so stop when nothing moved.
            if (ids.Count < BatchSize || swept == 0)
            {
                break;
            }
        }

        Log.SweepDone(logger, swept, found);
        _history.Succeeded(time.GetUtcNow());
        return swept;
    }

    private async Task<bool> SweepOneAsync(GrainId id)
    {
        try
        {
            return await GrainFactory.GetGrain<ILockSweepTarget>(id).Sweep();
        }
        catch (LockStorageException ex)
        {
            Log.SweepFailed(logger, ex);
            return false;
        }
    }
}
