using System.Security.Cryptography;
using OrleansLocks.Client;

namespace OrleansLocks.InMemory;

/// <summary>
/// Every lock of one in-memory "cluster": holders, the line of waiters and the last fencing token
/// of each, behind one gate. The rules are the lock grains': a try never jumps the line, the line is
/// served first come, first served (a writer alone, or every reader up to the next waiting writer),
/// and fencing tokens only grow, because a lock's entry is never dropped. Semaphores are a third
/// family beside plain and read/write locks, with the grain's count rule.
/// </summary>
internal sealed partial class InMemoryLockTable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(int Family, LockId Id), LockEntry> _locks = [];

    public InMemoryLockTable(TimeProvider time, InMemoryLockOptions options)
    {
        Time = time;
        LeaseTimeout = options.LeaseTimeout;
        RenewalInterval = options.RenewalInterval;
    }

    public TimeProvider Time { get; }

    public TimeSpan LeaseTimeout { get; }

    public TimeSpan RenewalInterval { get; }

    /// <summary>Grants the lock if it is free and nobody waits for it; <see langword="null"/> otherwise.</summary>
    public InMemoryLease? TryAcquire(LockRequest request, string owner)
    {
        var changes = new Changes();
        InMemoryLease? granted = null;
        ArgumentException? refused;
        lock (_gate)
        {
            var entry = EntryOf(request);
            ExpireDue(entry, changes);
            refused = AgreeOnCount(entry, request);
            if (refused is null && entry.Line.Count == 0 && Fits(entry, request.Kind))
            {
                granted = Grant(entry, request.Kind, owner);
            }
        }

        changes.Apply();
        if (refused is not null)
        {
            throw refused;
        }

        granted?.Start();
        return granted;
    }

    /// <summary>Joins the lock's line; the waiter's task completes with its lease once served.</summary>
    public Waiter Join(LockRequest request, string owner)
    {
        var changes = new Changes();
        Waiter? waiter = null;
        ArgumentException? refused;
        lock (_gate)
        {
            var entry = EntryOf(request);
            ExpireDue(entry, changes);
            refused = AgreeOnCount(entry, request);
            if (refused is null)
            {
                waiter = new Waiter(entry, request.Kind, owner);
                waiter.Place = entry.Line.AddLast(waiter);
                ServeLine(entry, changes);
            }
        }

        changes.Apply();
        return waiter ?? throw refused!;
    }

    /// <summary>A waiter gave up: it leaves the line, or, if it was served meanwhile, its lease is released.</summary>
    public void Leave(Waiter waiter)
    {
        var changes = new Changes();
        InMemoryLease? granted;
        lock (_gate)
        {
            // Served under the gate even when its task is not completed yet.
            granted = waiter.Lease;
            if (granted is not null && waiter.UpgradeOf is not null)
            {
                // An upgrade given up after it was served: the hold is the upgradeable read it was.
                GiveBack(waiter, changes);
                granted = null;
            }
            else if (granted is null && waiter.Place is { List: not null } place)
            {
                waiter.Entry.Line.Remove(place);

                // A waiting writer that leaves may let the readers behind it in.
                ServeLine(waiter.Entry, changes);
            }
        }

        changes.Apply();
        granted?.EndByRelease();
    }

    /// <summary>Ends the hold of <paramref name="lease"/> and serves the line; <see langword="false"/> when it no longer held the lock.</summary>
    public bool Release(InMemoryLease lease)
    {
        var changes = new Changes();
        lock (_gate)
        {
            if (!lease.Entry.Holders.Remove(lease))
            {
                return false;
            }

            ServeLine(lease.Entry, changes);
        }

        changes.Apply();
        return true;
    }

    /// <summary>Whether <paramref name="lease"/> holds its lock right now.</summary>
    public bool IsHeld(InMemoryLease lease)
    {
        var changes = new Changes();
        bool held;
        lock (_gate)
        {
            ExpireDue(lease.Entry, changes);
            held = lease.Entry.Holders.Contains(lease);
        }

        changes.Apply();
        return held;
    }

    /// <summary>Extends a renewing lease that still holds its lock.</summary>
    public void Renew(InMemoryLease lease)
    {
        bool renewed;
        lock (_gate)
        {
            renewed = lease.IsRenewing && lease.Entry.Holders.Contains(lease);
            if (renewed)
            {
                lease.Extend(Time.GetUtcNow());
            }
        }

        if (renewed)
        {
            lease.RearmExpiry();
        }
    }

    /// <summary>Frees, by time, the holders of <paramref name="lease"/>'s lock whose lease ran out.</summary>
    public void ExpireDue(InMemoryLease lease)
    {
        var changes = new Changes();
        lock (_gate)
        {
            ExpireDue(lease.Entry, changes);
        }

        changes.Apply();
    }

    /// <summary>Takes the lock from its holders of <paramref name="request"/>'s kind now, as if their leases ran out.</summary>
    /// <returns>How many holders lost their lease.</returns>
    public int Expire(LockRequest request)
    {
        var changes = new Changes();
        lock (_gate)
        {
            var entry = EntryOf(request);
            changes.Lost.AddRange(Matching(entry, request));
            entry.Holders.RemoveAll(changes.Lost.Contains);
            if (changes.Lost.Count > 0)
            {
                ServeLine(entry, changes);
            }
        }

        changes.Apply();
        return changes.Lost.Count;
    }

    /// <summary>Stops the renewals of the holders of <paramref name="request"/>'s kind: their leases run out by time.</summary>
    /// <returns>How many holders stopped renewing.</returns>
    public int StopRenewing(LockRequest request)
    {
        lock (_gate)
        {
            var holders = Matching(EntryOf(request), request);
            holders.ForEach(h => h.StopRenewing());
            return holders.Count;
        }
    }

    // A plain request names the plain lock's holder; a read or write request the read/write lock's readers or writer.
    private static List<InMemoryLease> Matching(LockEntry entry, LockRequest request) =>
        entry.Holders.Where(h => h.Kind == request.Kind).ToList();

    private static bool Fits(LockEntry entry, LockKind kind) => kind switch
    {
        LockKind.Read => entry.Holders.TrueForAll(h => h.Kind is LockKind.Read or LockKind.UpgradeableRead) && entry.Holders.Count < IReadWriteLockGrain.MaxReaders,
        LockKind.UpgradeableRead => entry.Holders.TrueForAll(h => h.Kind == LockKind.Read) && entry.Holders.Count < IReadWriteLockGrain.MaxReaders,
        LockKind.Semaphore => entry.Holders.Count < Math.Min(entry.MaxCount ?? 0, ISemaphoreGrain.MaxHolders),
        _ => entry.Holders.Count == 0,
    };

    // The semaphore's count rule, as the grain has it: the first holder or waiter sets the count, and
    // while anyone holds or waits another count is refused (the error is thrown after the gate).
    private static ArgumentException? AgreeOnCount(LockEntry entry, LockRequest request)
    {
        if (request.MaxCount is not { } requested)
        {
            return null;
        }

        if ((entry.Holders.Count > 0 || entry.Line.Count > 0) && entry.MaxCount is { } inForce && inForce != requested)
        {
            return new ArgumentException(
                $"Semaphore '{entry.Id}' has maxCount {inForce} while anyone holds or waits for it, so a request with maxCount {requested} was refused (nothing was granted or queued). Every caller of one semaphore must give the same count.",
                "maxCount");
        }

        entry.MaxCount = requested;
        return null;
    }

    private LockEntry EntryOf(LockRequest request)
    {
        var key = (request.Kind switch { LockKind.Plain => 0, LockKind.Semaphore => 2, _ => 1 }, request.Id);
        if (!_locks.TryGetValue(key, out var entry))
        {
            entry = new LockEntry(request.Id);
            _locks.Add(key, entry);
        }

        return entry;
    }

    private void ExpireDue(LockEntry entry, Changes changes)
    {
        // Only a holder that stopped renewing runs out: one that renews keeps its lease, as a live
        // process does, however far a fake clock jumps between two of its renewals.
        var now = Time.GetUtcNow();
        var expired = entry.Holders.RemoveAll(h =>
        {
            var due = !h.IsRenewing && now >= h.Lease.ExpiresAt;
            if (due)
            {
                changes.Lost.Add(h);
            }

            return due;
        });
        if (expired > 0)
        {
            ServeLine(entry, changes);
        }
    }

    private void ServeLine(LockEntry entry, Changes changes)
    {
        DropOrphanUpgrade(entry, changes);
        while (entry.Line.First is { } first && Serves(entry, first.Value))
        {
            entry.Line.RemoveFirst();
            var waiter = first.Value;
            waiter.Lease = waiter.UpgradeOf is { } upgrading ? Upgrade(entry, upgrading, waiter) : Grant(entry, waiter.Kind, waiter.Owner);
            changes.Served.Add(waiter);
        }
    }

    private InMemoryLease Grant(LockEntry entry, LockKind kind, string owner)
    {
        var now = Time.GetUtcNow();
        var lease = new LockLease(
            Convert.ToHexString(RandomNumberGenerator.GetBytes(16)),
            ++entry.LastFencingToken,
            owner,
            now,
            now,
            now + LeaseTimeout);
        var held = new InMemoryLease(this, entry, kind, lease);
        entry.Holders.Add(held);
        return held;
    }

    /// <summary>One lock: who holds it, who waits, and the last fencing token it issued.</summary>
    internal sealed class LockEntry(LockId id)
    {
        public LockId Id { get; } = id;

        public List<InMemoryLease> Holders { get; } = [];

        public LinkedList<Waiter> Line { get; } = new();

        public long LastFencingToken { get; set; }

        /// <summary>A semaphore's count, set by its first holder or waiter; null for locks.</summary>
        public int? MaxCount { get; set; }
    }

    /// <summary>
    /// What one operation changed under the gate, applied after it: the caller's code (lost-token
    /// callbacks, continuations) and timers (a fake clock may run due callbacks on the thread that
    /// arms one) never run under the gate. Holders that lost their lease hear it before anyone served
    /// in their place does, as with the real lock, whose holder's own deadline passes first.
    /// </summary>
    private sealed class Changes
    {
        public List<InMemoryLease> Lost { get; } = [];

        public List<Waiter> Served { get; } = [];

        public List<Waiter> DroppedUpgrades { get; } = [];

        public void Apply()
        {
            foreach (var lease in Lost)
            {
                lease.EndByLoss();
            }

            foreach (var waiter in Served)
            {
                // An upgraded lease keeps the timers it has.
                if (waiter.UpgradeOf is null)
                {
                    waiter.Lease!.Start();
                }

                waiter.Granted.TrySetResult(waiter.Lease!);
            }

            foreach (var waiter in DroppedUpgrades)
            {
                waiter.Granted.TrySetException(new InvalidOperationException(
                    $"The upgradeable read of lock '{waiter.Entry.Id}' was released or lost while its upgrade to write waited; nothing is held."));
            }
        }
    }

    /// <summary>One caller waiting in a lock's line.</summary>
    internal sealed class Waiter(LockEntry entry, LockKind kind, string owner)
    {
        public LockEntry Entry { get; } = entry;

        public LockKind Kind { get; } = kind;

        public string Owner { get; } = owner;

        public LinkedListNode<Waiter>? Place { get; set; }

        /// <summary>For a waiting upgrade: the upgradeable read lease it upgrades; null for every other waiter.</summary>
        public InMemoryLease? UpgradeOf { get; init; }

        /// <summary>For a served upgrade: the fencing token of the upgradeable read, to give the upgrade back.</summary>
        public long UpgradedFrom { get; set; }

        /// <summary>The lease it was served, set under the gate (its task completes after the gate).</summary>
        public InMemoryLease? Lease { get; set; }

        // Asynchronous continuations: the grant is made under the gate, the caller's code must not run there.
        public TaskCompletionSource<InMemoryLease> Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
