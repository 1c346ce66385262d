namespace OrleansLocks.Grains.Locking;

/// <summary>
/// The rules of the upgradeable read hold of a read/write lock: at most one upgradeable reader,
/// shared with ordinary readers; its upgrade to the write hold once no other reader holds, with the
/// lock's next fencing token (same token, same lease); and the upgrade given back.
/// </summary>
internal sealed partial class LeaseBook
{
    /// <summary>The live upgradeable reader of <paramref name="state"/>, if any.</summary>
    public static LockHolder? FindUpgradeable(LockState state, long now) =>
        state.Readers?.Find(r => r.Upgradeable && r.IsLiveAt(now));

    /// <summary>The live writer of <paramref name="state"/> when it is the upgraded hold of <paramref name="token"/>.</summary>
    public static LockHolder? FindUpgraded(LockState state, string token, long now) =>
        state.UpgradedFrom is not null && state.Writer is { } writer && writer.IsLiveAt(now) && LockToken.Matches(writer.Token, token) ? writer : null;

    /// <summary>Whether <paramref name="token"/> holds the live upgradeable read, or the write hold it was upgraded to.</summary>
    public static bool HoldsUpgradeable(LockState state, string token, long now) =>
        FindUpgraded(state, token, now) is not null
        || (FindByToken(state, token) is { Upgradeable: true } holder && holder.IsLiveAt(now));

    /// <summary>
    /// Whether the upgradeable read of <paramref name="token"/> may become the write hold now: it holds,
    /// nobody else holds (no writer, no other live reader), and no lock-delay of a forced release runs.
    /// The line is not asked: an upgrade goes first (behind a waiting writer it would deadlock).
    /// </summary>
    public static bool CanUpgrade(LockState state, string token, long now) =>
        !(now < state.NoGrantsBefore)
        && FindByToken(state, token) is { Upgradeable: true } holder && holder.IsLiveAt(now)
        && !(state.Writer is { } writer && writer.IsLiveAt(now))
        && (state.Readers ?? []).TrueForAll(r => r.Token == holder.Token || !r.IsLiveAt(now));

    /// <summary>Whether <paramref name="waiter"/>, first in line, would be served by the draft now.</summary>
    public bool Serves(Waiter waiter, long now) => waiter.UpgradeToken is { } token
        ? FindUpgraded(Next, token, now) is not null || CanUpgrade(Next, token, now)
        : Fits(waiter.Kind, now);

    /// <summary>
    /// Upgrades the upgradeable read of <paramref name="token"/> to the write hold: same token, owner
    /// and lease, the lock's next fencing token. Returns the writer (also when it was upgraded
    /// already), or null when it cannot be upgraded now.
    /// </summary>
    /// <param name="token">The upgradeable reader's token.</param>
    /// <param name="upgradeId">The waiter id of the wait that upgrades (its StopWaiting gives the upgrade back), or null for a try.</param>
    /// <param name="now">The silo clock.</param>
    public LockHolder? Upgrade(string token, string? upgradeId, long now)
    {
        if (FindUpgraded(Next, token, now) is { } done)
        {
            return done;
        }

        if (!CanUpgrade(Next, token, now))
        {
            return null;
        }

        var reader = FindByToken(Next, token)!;
        Replace(reader.Token, null);
        var writer = reader with { FencingToken = NextFencingToken(Next, now, _recordExists), Upgradeable = false };
        Next.Writer = writer;
        Next.UpgradedFrom = reader.FencingToken;
        Next.UpgradeId = upgradeId;
        return writer;
    }

    /// <summary>
    /// Gives back the upgrade made by the wait <paramref name="upgradeId"/>: the writer becomes the
    /// upgradeable reader it was (its old fencing token, its current lease). The lock's fencing
    /// counter stays where the upgrade put it, so fencing tokens never go down. Returns the reader,
    /// or null when the writer is not that upgrade.
    /// </summary>
    public LockHolder? GiveBackUpgrade(string upgradeId, long now)
    {
        if (Next.UpgradeId != upgradeId || Next.UpgradedFrom is not { } readFencingToken || Next.Writer is not { } writer || !writer.IsLiveAt(now))
        {
            return null;
        }

        var reader = writer with { FencingToken = readFencingToken, Upgradeable = true };
        Next.Writer = null;
        (Next.Readers ??= []).Add(reader);
        return reader;
    }
}
