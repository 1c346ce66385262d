using Orleans.Storage;
using OrleansLocks.Admin;

namespace OrleansLocks.Grains.Admin;

/// <summary>
/// Held locks of in-memory storage: the locks <see cref="IInMemoryLockIndexGrain"/> recorded, each state
/// read through the storage provider (not the lock grain, so no activation is needed), then filtered,
/// sorted and paged here. For development and tests; it reads every recorded lock per page.
/// </summary>
internal sealed class InMemoryStoredLockListing(IGrainFactory grains, IGrainStorage storage) : IStoredLockListing
{
    public async Task<(IReadOnlyList<HeldLock> Rows, ListContinuation? Next)> ListHeldAsync(
        string? namePrefix, string? owner, DateTimeOffset now, int limit, ListContinuation? after, CancellationToken cancellationToken)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var found = new List<(HeldLock Row, string GrainKey)>();
        foreach (var grainId in await grains.GetGrain<IInMemoryLockIndexGrain>(0).GetAll())
        {
            var grainKey = grainId.Key.ToString()!;
            if (!LockId.TryParse(grainKey, out var parsed) || (!string.IsNullOrEmpty(namePrefix) && !parsed.Value.Name.StartsWith(namePrefix, StringComparison.Ordinal)))
            {
                continue;
            }

            var stateName = grainId.Type.ToString()!;
            var state = new GrainState<LockState>(new LockState());
            await storage.ReadStateAsync(stateName, grainId, state);
            var plain = stateName == LockGrain.StateName;
            var stored = state.State ?? new LockState();
            var holders = (stored.Writer is { } writer ? new[] { (writer, plain ? LockKind.Plain : LockKind.Write) } : [])
                .Concat((stored.Readers ?? []).Select(r => (r, stateName == SemaphoreGrain.StateName ? LockKind.Semaphore : r.Upgradeable ? LockKind.UpgradeableRead : LockKind.Read)));
            foreach (var (holder, kind) in holders)
            {
                if (holder.IsLiveAt(nowMs)
                    && (owner is null || holder.Owner == owner)
                    && (after is null || after.IsBefore(holder.AcquiredAt, holder.FencingToken, kind, grainKey)))
                {
                    found.Add((AdminViews.Held(parsed.Value, holder, kind, waiting: null), grainKey));
                }
            }
        }

        var sorted = found
            .OrderByDescending(f => f.Row.AcquiredAt)
            .ThenByDescending(f => f.Row.FencingToken)
            .ThenByDescending(f => f.Row.Kind)
            .ThenByDescending(f => f.GrainKey, StringComparer.Ordinal)
            .Take(limit + 1)
            .ToList();
        if (sorted.Count <= limit)
        {
            return (sorted.Select(f => f.Row).ToList(), null);
        }

        var last = sorted[limit - 1];
        return (sorted.Take(limit).Select(f => f.Row).ToList(),
            new ListContinuation(last.Row.AcquiredAt.ToUnixTimeMilliseconds(), last.Row.FencingToken, last.Row.Kind, last.GrainKey));
    }
}
