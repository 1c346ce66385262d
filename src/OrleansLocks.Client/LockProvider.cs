using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OrleansLocks.Client;

/// <summary>The <see cref="ILockProvider"/> over lock grains; also remembers live handles so the host's stop releases them.</summary>
internal sealed class LockProvider : ILockProvider
{
    private readonly IGrainFactory _grains;
    private readonly TimeProvider _time;
    private readonly LockClientOptions _options;
    private readonly LockLeaseOptions _lease;
    private readonly ILogger _logger;
    private readonly TransientFaultPolicy _retry;
    private readonly ConcurrentDictionary<LeaseKeeper, byte> _live = new();

    public LockProvider(
        IGrainFactory grains,
        TimeProvider time,
        IOptions<LockClientOptions> options,
        IOptions<LockLeaseOptions> lease,
        ILogger<LockProvider> logger)
    {
        _grains = grains;
        _time = time;
        _options = options.Value;
        _lease = lease.Value;
        _logger = logger;
        _retry = new TransientFaultPolicy(_options, logger);
    }

    public async ValueTask<LockHandle?> TryAcquireAsync(string name, string key, CancellationToken cancellationToken = default)
    {
        var id = LockId.Create(name, key);
        cancellationToken.ThrowIfCancellationRequested();
        var grain = _grains.GetGrain<ILockGrain>(id.ToGrainKey());
        var sentAt = _time.GetUtcNow();
        var acquire = AcquireOnceAsync(id, grain);
        LockLease? lease;
        try
        {
            lease = await acquire.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _ = ReleaseIfGrantedAsync(id, grain, acquire);
            throw;
        }

        if (lease is null)
        {
            return null;
        }

        var keeper = new LeaseKeeper(id, grain, lease, sentAt, _lease.RenewalInterval, _time, _retry, _logger, k => _live.TryRemove(k, out _));
        _live.TryAdd(keeper, 0);
        Log.Acquired(_logger, id, lease.FencingToken);
        return new LockHandle(keeper);
    }

    /// <summary>Releases every lock this process still holds (the host is stopping).</summary>
    public async Task ReleaseAllAsync(CancellationToken cancellationToken)
    {
        var keepers = _live.Keys.ToArray();
        if (keepers.Length == 0)
        {
            return;
        }

        Log.ReleasingOnShutdown(_logger, keepers.Length);
        await Task.WhenAll(keepers.Select(async keeper =>
        {
            try
            {
                await keeper.ReleaseOnShutdownAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                keeper.ReportReleaseFailure(ex);
            }
        })).ConfigureAwait(false);
    }

    private Task<LockLease?> AcquireOnceAsync(LockId id, ILockGrain grain)
    {
        // One attempt id for all retries of this acquire: a retry after a lost answer gets the same lease.
        var attemptId = Guid.NewGuid().ToString("N");
        return _retry.RunAsync("acquire", id, () =>
        {
            RequestContext.Set(LockRequestContext.AcquireIdKey, attemptId);
            try
            {
                return grain.TryAcquire(_options.Owner);
            }
            finally
            {
                RequestContext.Remove(LockRequestContext.AcquireIdKey);
            }
        }, CancellationToken.None);
    }

    private async Task ReleaseIfGrantedAsync(LockId id, ILockGrain grain, Task<LockLease?> acquire)
    {
        try
        {
            if (await acquire.ConfigureAwait(false) is { } lease)
            {
                Log.CancelledGrantReleased(_logger, id);
                await _retry.RunAsync("release", id, () => grain.Release(lease.Token), CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // Nothing more to do: an unreleased grant expires with its lease.
            Log.CancelledGrantNotReleased(_logger, ex, id);
        }
    }
}
