namespace OrleansLocks.Client;

/// <summary>
/// One lock of a multi-lock acquire (<see cref="ILockProvider.TryAcquireAllAsync"/>): which lock and
/// which kind of hold. Build it with <see cref="Plain"/>, <see cref="Read"/>, <see cref="Write"/> or
/// <see cref="Semaphore"/>, which check the name and key (and the count).
/// </summary>
public readonly record struct LockRequest
{
    private LockRequest(LockKind kind, LockId id)
    {
        Kind = kind;
        Id = id;
    }

    private LockRequest(LockId id, int maxCount)
    {
        Kind = LockKind.Semaphore;
        Id = id;
        MaxCount = maxCount;
    }

    /// <summary>The kind of hold.</summary>
    public LockKind Kind { get; }

    /// <summary>The lock.</summary>
    public LockId Id { get; }

    /// <summary>A semaphore's count (how many may hold it at once); <see langword="null"/> for locks.</summary>
    public int? MaxCount { get; }

    /// <summary>A plain lock <c>(name, key)</c>.</summary>
    /// <exception cref="ArgumentException">The name or key breaks its rule.</exception>
    public static LockRequest Plain(string name, string key) => new(LockKind.Plain, LockId.Create(name, key));

    /// <summary>A read hold on the read/write lock <c>(name, key)</c>.</summary>
    /// <exception cref="ArgumentException">The name or key breaks its rule.</exception>
    public static LockRequest Read(string name, string key) => new(LockKind.Read, LockId.Create(name, key));

    /// <summary>A write hold on the read/write lock <c>(name, key)</c>.</summary>
    /// <exception cref="ArgumentException">The name or key breaks its rule.</exception>
    public static LockRequest Write(string name, string key) => new(LockKind.Write, LockId.Create(name, key));

    /// <summary>An upgradeable read hold on the read/write lock <c>(name, key)</c> (upgrade it with <see cref="LockHandle.UpgradeToWriteAsync"/>).</summary>
    /// <exception cref="ArgumentException">The name or key breaks its rule.</exception>
    public static LockRequest UpgradeableRead(string name, string key) => new(LockKind.UpgradeableRead, LockId.Create(name, key));

    /// <summary>A permit of the semaphore <c>(name, key)</c>, which up to <paramref name="maxCount"/> hold at once.</summary>
    /// <param name="name">The semaphore name: 1 to 128 characters from <c>[A-Za-z0-9_.-]</c>.</param>
    /// <param name="key">The semaphore key: up to 1024 characters, no NUL; may be empty.</param>
    /// <param name="maxCount">The semaphore's count, 1 or more; every caller of one semaphore gives the same.</param>
    /// <exception cref="ArgumentException">The name or key breaks its rule.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxCount"/> is below 1.</exception>
    public static LockRequest Semaphore(string name, string key, int maxCount)
    {
        var id = LockId.Create(name, key);
        ValidateMaxCount(maxCount);
        return new(id, maxCount);
    }

    /// <summary>A request of <paramref name="kind"/> on <paramref name="id"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a defined <see cref="LockKind"/>, or is <see cref="LockKind.Semaphore"/> (use <see cref="Semaphore"/>, which takes the count).</exception>
    /// <exception cref="ArgumentException"><paramref name="id"/> is <c>default</c> (not made by <see cref="LockId.Create"/> or <see cref="LockId.Parse"/>).</exception>
    public static LockRequest For(LockKind kind, LockId id)
    {
        if (kind == LockKind.Semaphore)
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "A semaphore request needs its count: use LockRequest.Semaphore(name, key, maxCount).");
        }

        if (!Enum.IsDefined(kind))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "The kind must be LockKind.Plain, Read, Write or UpgradeableRead.");
        }

        if (id.Name is null)
        {
            throw new ArgumentException("A lock id must be made with LockId.Create or LockId.Parse (this one is default: it names no lock).", nameof(id));
        }

        return new(kind, id);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Kind} {Id}";

    /// <summary>Refuses a request that was not made by a factory (a <c>default</c> one, or an undefined kind).</summary>
    /// <exception cref="ArgumentException">The request is <c>default</c> or has an undefined kind.</exception>
    internal LockId EnsureWellFormed(string paramName)
    {
        if (Id.Name is null || !Enum.IsDefined(Kind) || (Kind == LockKind.Semaphore) != MaxCount.HasValue)
        {
            throw new ArgumentException("A LockRequest must be made with LockRequest.Plain, Read, Write, UpgradeableRead, Semaphore or For (this one is default or has an undefined kind).", paramName);
        }

        return Id;
    }

    /// <summary>
    /// The requests of a multi-lock acquire in the one order every caller takes them in: plain locks
    /// first, then read/write locks, then semaphores, each by name and then key (ordinal). Because nobody can hold a
    /// later lock while waiting for an earlier one, no set of callers can wait on each other in a cycle.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="locks"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// The list is empty, holds a malformed request, or names one lock twice (a read and a write of
    /// the same read/write lock included: the acquire would wait for itself).
    /// </exception>
    internal static List<LockRequest> InCanonicalOrder(IEnumerable<LockRequest> locks)
    {
        ArgumentNullException.ThrowIfNull(locks);
        var list = locks.ToList();
        if (list.Count == 0)
        {
            throw new ArgumentException("A multi-lock acquire needs at least one lock.", nameof(locks));
        }

        foreach (var request in list)
        {
            request.EnsureWellFormed(nameof(locks));
        }

        list.Sort(static (a, b) =>
        {
            var byType = Family(a).CompareTo(Family(b));
            if (byType != 0)
            {
                return byType;
            }

            var byName = string.CompareOrdinal(a.Id.Name, b.Id.Name);
            return byName != 0 ? byName : string.CompareOrdinal(a.Id.Key, b.Id.Key);
        });
        for (var i = 1; i < list.Count; i++)
        {
            var (a, b) = (list[i - 1], list[i]);
            if (a.Id == b.Id && Family(a) == Family(b))
            {
                throw new ArgumentException(
                    $"A multi-lock acquire names {FamilyName(a)} '{a.Id}' twice ({a.Kind} and {b.Kind}); each lock may appear once, or the acquire would wait for itself.",
                    nameof(locks));
            }
        }

        return list;
    }

    /// <summary>Describes requests for an error message: kind and lock of each.</summary>
    internal static string Describe(IEnumerable<LockRequest> locks) => string.Join(", ", locks.Select(l => $"{l.Kind} '{l.Id}'"));

    // Plain locks and read/write locks are two families: the same (name, key) in each is two locks.
    // Semaphores are a third, after both.
    private static int Family(LockRequest request) => request.Kind switch
    {
        LockKind.Plain => 0,
        LockKind.Semaphore => 2,
        _ => 1,
    };

    private static string FamilyName(LockRequest request) => request.Kind switch
    {
        LockKind.Plain => "plain lock",
        LockKind.Semaphore => "semaphore",
        _ => "read/write lock",
    };

    /// <summary>Refuses a semaphore count below 1, naming the rule.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxCount"/> is below 1.</exception>
    internal static void ValidateMaxCount(int maxCount)
    {
        if (maxCount < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxCount), maxCount, "A semaphore's maxCount (how many may hold it at once) must be 1 or more.");
        }
    }
}
