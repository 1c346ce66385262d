namespace OrleansLocks.Client;

/// <summary>
/// One lock of a multi-lock acquire (<see cref="ILockProvider.TryAcquireAllAsync"/>): which lock and
/// which kind of hold. Build it with <see cref="Plain"/>, <see cref="Read"/> or <see cref="Write"/>,
/// which check the name and key.
/// </summary>
public readonly record struct LockRequest
{
    private LockRequest(LockKind kind, LockId id)
    {
        Kind = kind;
        Id = id;
    }

    /// <summary>The kind of hold.</summary>
    public LockKind Kind { get; }

    /// <summary>The lock.</summary>
    public LockId Id { get; }

    /// <summary>A plain lock <c>(name, key)</c>.</summary>
    /// <exception cref="ArgumentException">The name or key breaks its rule.</exception>
    public static LockRequest Plain(string name, string key) => new(LockKind.Plain, LockId.Create(name, key));

    /// <summary>A read hold on the read/write lock <c>(name, key)</c>.</summary>
    /// <exception cref="ArgumentException">The name or key breaks its rule.</exception>
    public static LockRequest Read(string name, string key) => new(LockKind.Read, LockId.Create(name, key));

    /// <summary>A write hold on the read/write lock <c>(name, key)</c>.</summary>
    /// <exception cref="ArgumentException">The name or key breaks its rule.</exception>
    public static LockRequest Write(string name, string key) => new(LockKind.Write, LockId.Create(name, key));

    /// <summary>A request of <paramref name="kind"/> on <paramref name="id"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a defined <see cref="LockKind"/>.</exception>
    public static LockRequest For(LockKind kind, LockId id)
    {
        if (!Enum.IsDefined(kind))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "The kind must be LockKind.Plain, Read or Write.");
        }

        return new(kind, id);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Kind} {Id}";
}
