using Microsoft.Extensions.DependencyInjection;
using OrleansLocks.Grains.Locking;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Grains.Locking;

/// <summary>
/// Lock grains and the silo's expiry schedule together, on a real cluster: what each lock leaves in
/// its silo's schedule, and expiry with no caller after the activation went away.
/// </summary>
public abstract class ExpiryScheduleClusterTests(LockCluster cluster)
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    private static LockId NewLock() => LockId.Create("schedule", $"!{Guid.NewGuid():N}:example.org");

    [Fact]
    public async Task AHeldLock_IsDueAtItsExpiry_AndARenewalMovesItsDueTime()
    {
        var id = NewLock();
        var lease = await Grain(id).TryAcquire("w");
        var schedule = ScheduleOf(id);
        Assert.Equal(lease!.ExpiresAt.ToUnixTimeMilliseconds(), schedule.DueAt(GrainIdOf(id)));

        cluster.Advance(TimeSpan.FromSeconds(30));
        var renewed = await Grain(id).Renew(lease.Token);

        Assert.Equal(renewed!.ExpiresAt.ToUnixTimeMilliseconds(), schedule.DueAt(GrainIdOf(id)));
    }

    [Fact]
    public async Task AReleasedLock_HasNothingDue()
    {
        var id = NewLock();
        var lease = await Grain(id).TryAcquire("w");
        var schedule = ScheduleOf(id);

        Assert.True(await Grain(id).Release(lease!.Token));

        Assert.Null(schedule.DueAt(GrainIdOf(id)));
    }

    [Fact]
    public async Task AHeldLockWhoseActivationWentAway_StaysDue_AndIsFreedAtItsExpiry_ByTheScheduleReactivatingIt()
    {
        var id = NewLock();
        var lease = await Grain(id).TryAcquire("w");
        var schedule = ScheduleOf(id);

        await cluster.Cluster.DeactivateAsync(Grain(id));
        Assert.Null(cluster.HostOf(Grain(id)));
        Assert.Equal(lease!.ExpiresAt.ToUnixTimeMilliseconds(), schedule.DueAt(GrainIdOf(id)));
        cluster.Advance(Lease);

        // Nobody calls the lock: the schedule's call reactivates it, and it writes the expiry.
        await Eventually.TrueAsync(async () => (await cluster.StoredStateAsync(id)).Token is null, "the schedule freed the stored lock");
        var stored = await cluster.StoredStateAsync(id);
        Assert.Equal(lease.ExpiresAt.ToUnixTimeMilliseconds(), stored.FreedAt);
        Assert.Equal(lease.FencingToken, stored.FencingToken);
        await Eventually.TrueAsync(() => schedule.DueAt(GrainIdOf(id)) is null, "the freed lock left the schedule");
    }

    [Fact]
    public async Task ManyLeasesEndingInOneTick_AreAllFreed_WithNoCaller()
    {
        var ids = Enumerable.Range(0, 200).Select(_ => NewLock()).ToList();
        await Task.WhenAll(ids.Select(id => Grain(id).TryAcquire("w")));

        cluster.Advance(Lease);

        await Eventually.TrueAsync(
            async () => (await Task.WhenAll(ids.Select(cluster.StoredStateAsync))).All(state => state.Token is null),
            "every expired lock was freed by the schedule",
            TimeSpan.FromSeconds(60)); // 200 writes and 200 reads per poll: slow on a busy 2-core machine
        foreach (var id in ids)
        {
            Assert.Null(await Grain(id).GetInfo());
        }
    }

    private ILockGrain Grain(LockId id) => cluster.Grains.GetGrain<ILockGrain>(id.ToGrainKey());

    private static GrainId GrainIdOf(LockId id) => GrainId.Create("orleanslocks.lock", id.ToGrainKey());

    private ExpirySchedule ScheduleOf(LockId id) =>
        (cluster.HostOf(Grain(id)) ?? throw new InvalidOperationException("The lock has no activation.")).ServiceProvider.GetRequiredService<ExpirySchedule>();
}

[Collection(MemoryClusterCollection.Name)]
public sealed class ExpiryScheduleClusterTests_Memory(MemoryClusterFixture fixture) : ExpiryScheduleClusterTests(fixture.Cluster);

[Collection(PostgresClusterCollection.Name)]
public sealed class ExpiryScheduleClusterTests_Postgres(PostgresClusterFixture fixture) : ExpiryScheduleClusterTests(fixture.Cluster);
