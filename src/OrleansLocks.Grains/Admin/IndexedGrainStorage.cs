using System.Collections.Concurrent;
using Orleans.Storage;

namespace OrleansLocks.Grains.Admin;

/// <summary>
/// Wraps the in-memory grain storage of the lock grains: before the first write of a lock's state
/// through this silo, records the lock in <see cref="IInMemoryLockIndexGrain"/> (so a failure to record
/// it fails the write before anything is stored). Everything else passes through.
/// </summary>
internal sealed class IndexedGrainStorage(IGrainStorage inner, IGrainFactory grains) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    private readonly ConcurrentDictionary<GrainId, bool> _recorded = new();

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ReadStateAsync(stateName, grainId, grainState);

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (stateName is LockGrain.StateName or ReadWriteLockGrain.StateName && !_recorded.ContainsKey(grainId))
        {
            await grains.GetGrain<IInMemoryLockIndexGrain>(0).Add(grainId);
            _recorded.TryAdd(grainId, true);
        }

        await inner.WriteStateAsync(stateName, grainId, grainState);
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ClearStateAsync(stateName, grainId, grainState);

    public void Participate(ISiloLifecycle lifecycle) => (inner as ILifecycleParticipant<ISiloLifecycle>)?.Participate(lifecycle);
}
