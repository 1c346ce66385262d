using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Storage;
using OrleansLocks.Admin;

namespace OrleansLocks.Grains.Admin;

/// <summary>
/// See <see cref="ILockAdminGrain"/>. Stateless: it lists from storage and sends each change to the lock
/// grain concerned, which writes it like any other change of that lock (versioned, before answering).
/// </summary>
[GrainType(GrainTypeName)]
[StatelessWorker]
internal sealed class LockAdminGrain(
    IStoredLockListing listing,
    IOptions<LockStorageOptions> storage,
    IOptions<LockLeaseOptions> lease,
    IOptions<LockAdminOptions> admin,
    TimeProvider time,
    IServiceProvider services,
    ILogger<LockAdminGrain> logger) : Grain, ILockAdminGrain
{
    public const string GrainTypeName = "orleanslocks.admin";

    // ReleaseOwner reads the owner's holds in pages of this size.
    private const int OwnerPageSize = 500;

    private TimeSpan LockDelay => lease.Value.RenewalInterval + admin.Value.ForceReleaseMargin;

    public async Task<LockListPage> List(LockListQuery query)
    {
        AdminInput.ValidateQuery(query);
        var after = ListContinuation.Parse(query.Continuation);
        var (rows, next) = await listing.ListHeldAsync(query.NamePrefix, query.Owner, time.GetUtcNow(), query.PageSize, after, CancellationToken.None);
        if (query.IncludeWaiting)
        {
            var waiting = await Task.WhenAll(rows.Select(async row => (await Target(row.Name, row.Key, row.Kind).Describe()).Waiters.Count));
            rows = rows.Select((row, i) => row with { Waiting = waiting[i] }).ToList();
        }

        return new LockListPage(rows, next?.ToString());
    }

    public async Task<LockDetails> Inspect(string name, string key, LockKind kind)
    {
        var id = LockId.Create(name, key);
        var view = await Target(id.Name, id.Key, kind).Describe();
        return new LockDetails(id.Name, id.Key, kind is not (LockKind.Plain or LockKind.Semaphore), view.Holders, view.Waiters, await StoredVersionAsync(id, kind), view.NoGrantsBefore)
        {
            IsSemaphore = kind == LockKind.Semaphore,
        };
    }

    public async Task<ForceReleaseResult> ForceRelease(string name, string key, LockKind? kind, long? expectedFencingToken, string reason, string requestedBy)
    {
        var id = LockId.Create(name, key);
        AdminInput.ValidateReason(reason);
        AdminInput.ValidateRequestedBy(requestedBy);
        if (kind is { } given && !Enum.IsDefined(given))
        {
            throw new ArgumentException($"Invalid lock kind {(int)given}: a kind must be Plain, Read, Write or Semaphore (or none, for every holder).", nameof(kind));
        }

        // A kind picks one of the locks of (name, key) (or its semaphore); none asks every one.
        LockKind[] locks = kind is { } one ? [one] : [LockKind.Plain, LockKind.Write, LockKind.Semaphore];
        var freed = new List<ReleasedHold>();
        var wasHeld = false;
        foreach (var lockKind in locks)
        {
            var outcome = await Target(id.Name, id.Key, lockKind).ForceOut(kind, expectedFencingToken, owner: null, LockDelay);
            wasHeld |= outcome.WasHeld;
            freed.AddRange(Record(outcome, reason, requestedBy));
        }

        var result = new ForceReleaseResult(
            freed.Count > 0 ? ForceReleaseOutcome.Released : wasHeld ? ForceReleaseOutcome.FencingTokenMoved : ForceReleaseOutcome.NotHeld,
            freed);
        if (freed.Count == 0)
        {
            Log.ForceReleaseFreedNothing(logger, id, requestedBy, reason, result.Outcome);
        }

        return result;
    }

    public async Task<ForceReleaseResult> ReleaseOwner(string owner, string reason, string requestedBy)
    {
        LockOwner.Validate(owner);
        AdminInput.ValidateReason(reason);
        AdminInput.ValidateRequestedBy(requestedBy);

        // Every lock first, then the releases: paging while rows go away would skip some.
        var locks = new HashSet<(string Name, string Key, LockKind Family)>();
        ListContinuation? after = null;
        do
        {
            var (rows, next) = await listing.ListHeldAsync(null, owner, time.GetUtcNow(), OwnerPageSize, after, CancellationToken.None);
            locks.UnionWith(rows.Select(r => (r.Name, r.Key, r.Kind is LockKind.Read ? LockKind.Write : r.Kind)));
            after = next;
        }
        while (after is not null);

        var freed = new List<ReleasedHold>();
        foreach (var (name, key, family) in locks)
        {
            var outcome = await Target(name, key, family).ForceOut(kind: null, fencingToken: null, owner, LockDelay);
            freed.AddRange(Record(outcome, reason, requestedBy));
        }

        Log.OwnerReleased(logger, owner, freed.Count, requestedBy, reason);
        return new ForceReleaseResult(freed.Count > 0 ? ForceReleaseOutcome.Released : ForceReleaseOutcome.NotHeld, freed);
    }

    private List<ReleasedHold> Record(ForcedOut outcome, string reason, string requestedBy)
    {
        var freed = new List<ReleasedHold>();
        foreach (var hold in outcome.Freed)
        {
            var released = new ReleasedHold(hold.Name, hold.Key, hold.Kind, hold.Owner, hold.FencingToken, outcome.NoGrantsBefore!.Value);
            Log.ForceReleased(logger, LockId.Create(hold.Name, hold.Key), hold.Kind, requestedBy, reason, hold.Owner, hold.FencingToken, released.NoGrantsBefore);
            freed.Add(released);
        }

        return freed;
    }

    private ILockAdminTarget Target(string name, string key, LockKind kind) =>
        GrainFactory.GetGrain<ILockAdminTarget>(GrainId.Create(
            kind switch { LockKind.Plain => LockGrain.GrainTypeName, LockKind.Semaphore => SemaphoreGrain.GrainTypeName, _ => ReadWriteLockGrain.GrainTypeName },
            LockId.Create(name, key).ToGrainKey()));

    /// <summary>The stored version, read through the lock storage provider (the lock's activation does not keep it).</summary>
    private async Task<string?> StoredVersionAsync(LockId id, LockKind kind)
    {
        var stateName = kind switch { LockKind.Plain => LockGrain.StateName, LockKind.Semaphore => SemaphoreGrain.StateName, _ => ReadWriteLockGrain.StateName };
        var provider = services.GetRequiredKeyedService<IGrainStorage>(storage.Value.StorageProviderName);
        var state = new GrainState<LockState>(new LockState());
        try
        {
            await provider.ReadStateAsync(stateName, GrainId.Create(stateName, id.ToGrainKey()), state);
        }
        catch (Exception ex) when (ex is not LockStorageException)
        {
            throw StoreFailureOfAdmin(ex, id);
        }

        return state.RecordExists ? state.ETag : null;
    }

    private LockStorageException StoreFailureOfAdmin(Exception ex, LockId id) =>
        Storage.StoreFailure.ReadFailed(ex, id.ToString(), logger);
}
