namespace OrleansLocks.Grains.Locking;

/// <summary>The upgrade of a read/write lock's upgradeable reader, through the line (see <see cref="IReadWriteLockGrain.WaitForUpgrade"/>).</summary>
internal sealed partial class LockLedger
{
    /// <summary>
    /// A wait call of the upgrade <paramref name="waiterId"/> of the hold of <paramref name="token"/>:
    /// the write lease when it is upgraded already, else its waiter, which goes to the head of the line
    /// if new (and is upgraded at once when no other reader holds; then the lease is the answer).
    /// </summary>
    /// <exception cref="InvalidOperationException">The token holds no upgradeable read, or the waiter left the line.</exception>
    /// <exception cref="ArgumentException">The waiter id already waits for something else.</exception>
    public async Task<(LockLease? Granted, Waiter? Waiting)> JoinUpgradeAsync(LockId id, long now, string waiterId, string token)
    {
        var line = OpenLine();
        if (line.HasLeft(waiterId, now))
        {
            throw new InvalidOperationException(
                $"Waiter id '{waiterId}' left the line of lock '{id}' (StopWaiting); a waiter that left cannot come back. Wait again with a new waiter id.");
        }

        if (LeaseBook.FindUpgraded(Current, token, now) is { } upgraded)
        {
            // Upgraded already (by this wait, whose answer was lost, or by a try): the same lease.
            if (line.TryGet(waiterId, out var done))
            {
                line.Forget(done);
            }

            return (LeaseBook.ToLease(upgraded), null);
        }

        if (!LeaseBook.HoldsUpgradeable(Current, token, now) && line.TryGet(waiterId, out var orphan))
        {
            // Its hold ran out before a write noticed: the upgrade leaves the line with the refusal.
            line.Forget(orphan);
        }

        EnsureUpgradeable(Current, token, now, id);
        if (line.TryGet(waiterId, out var waiter))
        {
            if (waiter.UpgradeToken is null || !LockToken.Matches(waiter.UpgradeToken, token))
            {
                throw new ArgumentException($"Waiter id '{waiterId}' already waits for something else on lock '{id}'; use a new id per wait.", nameof(waiterId));
            }

            // A newer call of the same waiter (e.g. after a response timeout) replaces the old one.
            waiter.Answer(null);
            return (null, waiter);
        }

        waiter = line.JoinUpgrade(waiterId, token, OwnerOf(token));
        waiter.JoinedAt = now;
        if (LeaseBook.CanUpgrade(Current, token, now) && await ServeAtOnceAsync(line, waiter, "upgrade", id, now) is { } grant)
        {
            return (grant, null);
        }

        return (null, waiter);
    }

    /// <summary>Refuses to upgrade anything but the live upgradeable read of this lock.</summary>
    /// <exception cref="InvalidOperationException">The token holds no live upgradeable read.</exception>
    public static void EnsureUpgradeable(LockState state, string token, long now, LockId id)
    {
        if (LeaseBook.FindByToken(state, token) is not { Upgradeable: true } holder || !holder.IsLiveAt(now))
        {
            throw new InvalidOperationException(
                $"Only a held upgradeable read can be upgraded to write, and this token holds none on read/write lock '{id}' (it is an ordinary read or a write, or it was released, or it expired).");
        }
    }

    private string OwnerOf(string token) => LeaseBook.FindByToken(Current, token)?.Owner ?? LockOwner.Unknown;
}
