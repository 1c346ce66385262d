namespace OrleansLocks.Grains.Locking;

/// <summary>The waiting upgrade of a read/write lock's upgradeable reader: at most one, always first in line.</summary>
internal sealed partial class WaiterLine
{
    /// <summary>Whether an upgrade waits (it is then first in line, and keeps everyone behind it waiting).</summary>
    public bool IsUpgradeWaiting => _line.First?.Value.UpgradeToken is not null;

    /// <summary>
    /// Puts a waiting upgrade of the hold of <paramref name="token"/> at the head of the line: it
    /// already holds part of the lock, so behind a waiting writer it would wait for ever. An earlier
    /// waiting upgrade of the same hold under another id is forgotten (its caller gave up).
    /// </summary>
    public Waiter JoinUpgrade(string waiterId, string token, string owner)
    {
        foreach (var earlier in _line.Where(w => w.UpgradeToken == token).ToList())
        {
            Forget(earlier);
        }

        var waiter = new Waiter(waiterId, LockKind.Write, owner) { UpgradeToken = token };
        waiter.Node = _line.AddFirst(waiter);
        _waiters.Add(waiterId, waiter);
        return waiter;
    }

    /// <summary>
    /// Drops the waiting upgrades whose hold is gone (released, expired, forced out): answered "not
    /// yet", their next call learns that nothing is left to upgrade.
    /// </summary>
    public void DropUpgradesWithout(Func<string, bool> stillHeld)
    {
        foreach (var orphan in _line.Where(w => w.UpgradeToken is { } token && !stillHeld(token)).ToList())
        {
            Forget(orphan);
        }
    }
}
