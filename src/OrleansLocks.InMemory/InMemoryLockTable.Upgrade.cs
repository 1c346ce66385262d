namespace OrleansLocks.InMemory;

/// <summary>
/// The upgrade of an upgradeable read to the write hold, with the lock grains' rules: granted when no
/// other reader holds; a waiting upgrade goes first in line (it holds part of the lock already) and
/// keeps new readers out; the upgraded hold keeps its lease and gets the lock's next fencing token;
/// given up after it was served, it turns back into the upgradeable read.
/// </summary>
internal sealed partial class InMemoryLockTable
{
    /// <summary>Upgrades <paramref name="lease"/> now if no other reader holds; <see langword="false"/> otherwise.</summary>
    /// <exception cref="InvalidOperationException">The lease no longer holds its lock.</exception>
    public bool TryUpgrade(InMemoryLease lease)
    {
        var changes = new Changes();
        bool held;
        var upgraded = false;
        lock (_gate)
        {
            ExpireDue(lease.Entry, changes);
            held = lease.Entry.Holders.Contains(lease);
            if (held && lease.Entry.Holders.Count == 1)
            {
                Upgrade(lease.Entry, lease, waiter: null);
                upgraded = true;
            }
        }

        changes.Apply();
        return held ? upgraded : throw NotHeld(lease);
    }

    /// <summary>Puts an upgrade of <paramref name="lease"/> first in line; its task completes with the lease once upgraded.</summary>
    /// <exception cref="InvalidOperationException">The lease no longer holds its lock.</exception>
    public Waiter JoinUpgrade(InMemoryLease lease)
    {
        var changes = new Changes();
        Waiter? waiter = null;
        lock (_gate)
        {
            ExpireDue(lease.Entry, changes);
            if (lease.Entry.Holders.Contains(lease))
            {
                waiter = new Waiter(lease.Entry, LockKind.Write, lease.Lease.Owner) { UpgradeOf = lease };
                waiter.Place = lease.Entry.Line.AddFirst(waiter);
                ServeLine(lease.Entry, changes);
            }
        }

        changes.Apply();
        return waiter ?? throw NotHeld(lease);
    }

    private static InvalidOperationException NotHeld(InMemoryLease lease) =>
        new($"Only a held upgradeable read can be upgraded to write, and the handle of lock '{lease.Id}' lost its lease.");

    // A waiting upgrade first in line is served when its lease is the only holder left.
    private static bool Serves(LockEntry entry, Waiter waiter) => waiter.UpgradeOf is { } upgrading
        ? entry.Holders.Count == 1 && ReferenceEquals(entry.Holders[0], upgrading)
        : Fits(entry, waiter.Kind);

    // An upgrade whose lease is gone (released, expired) leaves the line; its caller hears why.
    private static void DropOrphanUpgrade(LockEntry entry, Changes changes)
    {
        if (entry.Line.First is { Value.UpgradeOf: { } upgrading } first && !entry.Holders.Contains(upgrading))
        {
            entry.Line.Remove(first);
            changes.DroppedUpgrades.Add(first.Value);
        }
    }

    private InMemoryLease Upgrade(LockEntry entry, InMemoryLease lease, Waiter? waiter)
    {
        waiter?.UpgradedFrom = lease.Lease.FencingToken;
        lease.BecomeWriter(++entry.LastFencingToken);
        return lease;
    }

    private void GiveBack(Waiter waiter, Changes changes)
    {
        var lease = waiter.UpgradeOf!;
        if (lease.Entry.Holders.Contains(lease) && lease.Kind == LockKind.Write)
        {
            lease.BecomeUpgradeableRead(waiter.UpgradedFrom);
            ServeLine(lease.Entry, changes);
        }
    }
}
