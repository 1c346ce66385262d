using OrleansLocks.Client;

namespace OrleansLocks.Benchmarks.Subjects;

/// <summary>
/// OrleansLocks through its client library: against a silo in another process (an Orleans client), or
/// inside the silo that hosts the grains (co-hosted).
/// </summary>
internal sealed class OrleansSubject(string name, ILockProvider locks, IGrainFactory grains) : IBenchSubject
{
    public string Name => name;

    /// <summary>The grains this subject's locks live in (to ask a lock how many wait).</summary>
    public IGrainFactory Grains => grains;

    public async Task<IBenchHold?> TryAcquireAsync(string key) =>
        await locks.TryAcquireAsync("bench", key) is { } handle ? new Hold(handle) : null;

    public async Task<IBenchHold> AcquireAsync(string key, TimeSpan timeout) =>
        new Hold(await locks.AcquireAsync("bench", key, timeout));

    public async Task<Func<Task<bool>>?> RenewableAsync(string key)
    {
        // The client library renews by itself; to time renewals one by one, drive the grain's Renew
        // with a lease taken from the grain (same silo path: client, gateway, grain, storage).
        var grain = grains.GetGrain<ILockGrain>(LockId.Create("bench", key).ToGrainKey());
        var lease = await grain.TryAcquire("bench-renew") ?? throw new InvalidOperationException($"{key} is held.");
        return async () => await grain.Renew(lease.Token) is not null;
    }

    private sealed class Hold(LockHandle handle) : IBenchHold
    {
        public Func<Task<bool>>? IsStillValid => async () => await handle.IsStillValidAsync();

        public Task ReleaseAsync() => handle.ReleaseAsync().AsTask();
    }
}
