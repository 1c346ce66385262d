using System.Collections.Concurrent;
using Orleans.Storage;

namespace OrleansLocks.Grains.Admin;

/// <summary>
/// What the lock grains write through when they use in-memory storage (<c>UseInMemory</c>; the
/// registered provider itself is left as it is): before the first write of a lock's state through
/// this silo, records the lock in <see cref="IInMemoryLockIndexGrain"/> (so a failure to record it
/// fails the write before anything is stored). Everything else passes through.
/// </summary>
internal sealed class IndexedGrainStorage(IGrainStorage inner, IGrainFactory grains) : IGrainStorage
{
    private readonly ConcurrentDictionary<GrainId, bool> _recorded = new();

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ReadStateAsync(stateName, grainId, grainState);

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (stateName is LockGrain.StateName or ReadWriteLockGrain.StateName or SemaphoreGrain.StateName && !_recorded.ContainsKey(grainId))
        {
            await grains.GetGrain<IInMemoryLockIndexGrain>(0).Add(grainId);
            _recorded.TryAdd(grainId, true);
        }

        await inner.WriteStateAsync(stateName, grainId, grainState);
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ClearStateAsync(stateName, grainId, grainState);
}
