using OrleansLocks.Admin;
using OrleansLocks.Grains.Admin;

namespace OrleansLocks.Grains.Locking;

/// <summary>
/// The lock's face to the admin grain (<see cref="ILockAdminTarget"/>): what it holds and who waits,
/// and a forced release. Kept apart from the lock protocol in LeaseGrain.cs; the rule of a forced
/// release is <see cref="LeaseBook.ForceOut"/>'s.
/// </summary>
internal abstract partial class LeaseGrain : ILockAdminTarget
{
    public async Task<LockAdminView> Describe()
    {
        var state = await ReadCurrentAsync();
        var now = NowMs();
        return new LockAdminView(
            state.Holders.Where(h => h.IsLiveAt(now)).Select(h => AdminViews.Held(_id, h, KindOf(state, h), CountWaiting())).ToList(),
            (_ledger.Line?.InOrder ?? []).Select(w => new LockWaiter(w.Owner, w.Kind, DateTimeOffset.FromUnixTimeMilliseconds(w.JoinedAt))).ToList(),
            now < state.NoGrantsBefore ? DateTimeOffset.FromUnixTimeMilliseconds(state.NoGrantsBefore.Value) : null);
    }

    public Task<ForcedOut> ForceOut(LockKind? kind, long? fencingToken, string? owner, TimeSpan noGrantsFor) => InGateAsync(async (id, now) =>
    {
        var book = _ledger.Open(id, now);
        var (matched, removed) = book.ForceOut(
            h => (kind is null || KindOf(book.Next, h) == kind) && (owner is null || h.Owner == owner),
            fencingToken,
            until: now + (long)noGrantsFor.TotalMilliseconds);
        if (removed.Count == 0)
        {
            await _ledger.CommitIfChangedAsync(book, "expire", id, now);
            return new ForcedOut(Array.Empty<HeldLock>(), WasHeld: matched > 0, null);
        }

        // Kinds from the state before this change, which still lists the removed holders (a writer
        // is known by being the writer).
        var freed = removed.Select(h => AdminViews.Held(id, h, KindOf(State, h), waiting: null)).ToList();
        foreach (var holder in removed)
        {
            _ledger.Line?.ForgetUnconfirmed(holder.Token);
        }

        await _ledger.CommitAsync(book, "force-release", id, now);
        return new ForcedOut(freed, WasHeld: true, DateTimeOffset.FromUnixTimeMilliseconds(State.NoGrantsBefore!.Value));
    });
}
