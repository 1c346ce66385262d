namespace OrleansLocks.Grains.Admin;

/// <summary>
/// In-memory storage only: the grain ids of every lock state ever written, so the admin list can find
/// stored locks without activations (the in-memory provider cannot enumerate its states). Kept in
/// this activation's memory, which is kept alive; like the in-memory states themselves, it is lost
/// when its silo stops.
/// </summary>
[Alias("OrleansLocks.IInMemoryLockIndexGrain")]
internal interface IInMemoryLockIndexGrain : IGrainWithIntegerKey
{
    /// <summary>Records that <paramref name="lockGrain"/> has (or is about to have) a stored state.</summary>
    [Alias("Add")]
    Task Add(GrainId lockGrain);

    /// <summary>Every grain recorded.</summary>
    [Alias("GetAll")]
    Task<List<GrainId>> GetAll();
}

/// <summary>See <see cref="IInMemoryLockIndexGrain"/>.</summary>
[GrainType(GrainTypeName)]
[KeepAlive]
internal sealed class InMemoryLockIndexGrain : Grain, IInMemoryLockIndexGrain
{
    public const string GrainTypeName = "orleanslocks.memoryindex";

    private readonly HashSet<GrainId> _grains = [];

    public Task Add(GrainId lockGrain)
    {
        _grains.Add(lockGrain);
        return Task.CompletedTask;
    }

    public Task<List<GrainId>> GetAll() => Task.FromResult(_grains.ToList());
}
