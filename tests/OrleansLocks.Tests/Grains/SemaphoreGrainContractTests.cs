using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Grains;

/// <summary>ISemaphoreGrain called directly: the count, one lease per holder, expiry of one permit.</summary>
public abstract class SemaphoreGrainContractTests(LockCluster cluster)
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    protected LockCluster Cluster { get; } = cluster;

    private static LockId NewSemaphore() => LockId.Create("sem", $"!{Guid.NewGuid():N}:example.org");

    private ISemaphoreGrain Grain(LockId id) => Cluster.Grains.GetGrain<ISemaphoreGrain>(id.ToGrainKey());

    [Fact]
    public async Task TryAcquire_GrantsUpToTheCount_AndRefusesTheNextOne()
    {
        var id = NewSemaphore();
        var leases = new List<LockLease>();
        for (var i = 0; i < 3; i++)
        {
            leases.Add((await Grain(id).TryAcquire(3, $"holder{i}"))!);
        }

        Assert.All(leases, Assert.NotNull);
        Assert.Equal(3, leases.Select(l => l.Token).Distinct().Count());
        Assert.Null(await Grain(id).TryAcquire(3, "one-too-many"));

        var info = await Grain(id).GetInfo();
        Assert.Equal(3, info.MaxCount);
        Assert.Equal(["holder0", "holder1", "holder2"], info.Holders.Select(h => h.Owner));
        Assert.Equal(leases.Select(l => l.FencingToken), info.Holders.Select(h => h.FencingToken));

        // A released permit is free again for the next caller.
        Assert.True(await Grain(id).Release(leases[1].Token));
        Assert.NotNull(await Grain(id).TryAcquire(3, "next"));
    }

    [Fact]
    public async Task TryAcquire_WithAnotherCountWhileHeld_IsRefusedNamingBothCounts_AndGrantsNothing()
    {
        var id = NewSemaphore();
        var held = await Grain(id).TryAcquire(2, "a");
        Assert.NotNull(held);

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => Grain(id).TryAcquire(5, "b"));

        Assert.Contains("maxCount 2", refused.Message, StringComparison.Ordinal);
        Assert.Contains("maxCount 5", refused.Message, StringComparison.Ordinal);
        var info = await Grain(id).GetInfo();
        Assert.Equal(2, info.MaxCount);
        Assert.Equal("a", Assert.Single(info.Holders).Owner);

        // Once the semaphore is empty, the next first caller sets the count anew.
        Assert.True(await Grain(id).Release(held.Token));
        Assert.Null((await Grain(id).GetInfo()).MaxCount);
        Assert.NotNull(await Grain(id).TryAcquire(5, "b"));
        Assert.Equal(5, (await Grain(id).GetInfo()).MaxCount);
    }

    [Fact]
    public async Task WaitForPermit_WithAnotherCount_IsRefused_AndQueuesNothing()
    {
        var id = NewSemaphore();
        Assert.NotNull(await Grain(id).TryAcquire(1, "a"));

        await Assert.ThrowsAsync<ArgumentException>(() => Grain(id).WaitForPermit("w1", 4, "b"));

        Assert.Equal(0, (await Grain(id).GetInfo()).Waiting);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public async Task ACountBelowOne_IsRefusedByRule(int maxCount)
    {
        var id = NewSemaphore();

        var refused = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Grain(id).TryAcquire(maxCount, "a"));

        Assert.Contains("must be 1 or more", refused.Message, StringComparison.Ordinal);
        Assert.True((await Grain(id).GetInfo()).IsFree);
    }

    [Fact]
    public async Task PlainWait_OnASemaphore_IsRefusedPointingToWaitForPermit()
    {
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => Grain(NewSemaphore()).Wait("w1", LockKind.Semaphore, "a"));

        Assert.Contains("WaitForPermit", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FencingTokens_GrowWithEveryGrant_AcrossHoldersAndReleases()
    {
        var id = NewSemaphore();
        var a = await Grain(id).TryAcquire(2, "a");
        var b = await Grain(id).TryAcquire(2, "b");
        await Grain(id).Release(a!.Token);
        var c = await Grain(id).TryAcquire(2, "c");

        Assert.True(b!.FencingToken > a.FencingToken);
        Assert.True(c!.FencingToken > b.FencingToken);
    }

    [Fact]
    public async Task EachHolder_RenewsIndependently_AndTheExpiryOfOneFreesOnePermit()
    {
        var id = NewSemaphore();
        var early = await Grain(id).TryAcquire(2, "early");
        Cluster.Advance(TimeSpan.FromMinutes(1));
        var late = await Grain(id).TryAcquire(2, "late");
        Assert.NotNull(early);
        Assert.NotNull(late);
        Assert.Null(await Grain(id).TryAcquire(2, "third"));

        // Only the late holder renews; the early one's lease runs out by itself.
        Cluster.Advance(TimeSpan.FromSeconds(30));
        Assert.NotNull(await Grain(id).Renew(late.Token));
        Cluster.Advance(TimeSpan.FromSeconds(31));

        await Eventually.TrueAsync(async () => (await Grain(id).GetInfo()).Holders.Count == 1, "the early holder's permit expired");
        Assert.False(await Grain(id).IsStillValid(early.Token));
        Assert.Null(await Grain(id).Renew(early.Token));
        Assert.True(await Grain(id).IsStillValid(late.Token));

        // Exactly one permit came free.
        var third = await Grain(id).TryAcquire(2, "third");
        Assert.NotNull(third);
        Assert.True(third.FencingToken > late.FencingToken);
        Assert.Null(await Grain(id).TryAcquire(2, "fourth"));
        Assert.True((await Grain(id).Renew(late.Token))!.ExpiresAt > late.ExpiresAt);
    }

    [Fact]
    public async Task HeldPermits_SurviveGrainDeactivation_WithTheirTokensAndCount()
    {
        var id = NewSemaphore();
        var a = await Grain(id).TryAcquire(2, "a");
        var b = await Grain(id).TryAcquire(2, "b");

        await Cluster.Cluster.DeactivateAsync(Grain(id));

        Assert.True(await Grain(id).IsStillValid(a!.Token));
        Assert.True(await Grain(id).IsStillValid(b!.Token));
        Assert.Null(await Grain(id).TryAcquire(2, "c"));
        await Assert.ThrowsAsync<ArgumentException>(() => Grain(id).TryAcquire(3, "c"));
    }

    [Fact]
    public async Task ASemaphore_AndLocksOfTheSameNameAndKey_AreIndependent()
    {
        var id = NewSemaphore();
        Assert.NotNull(await Grain(id).TryAcquire(1, "sem"));

        Assert.NotNull(await Cluster.Grains.GetGrain<ILockGrain>(id.ToGrainKey()).TryAcquire("plain"));
        Assert.NotNull(await Cluster.Grains.GetGrain<IReadWriteLockGrain>(id.ToGrainKey()).TryAcquireWrite("writer"));
    }

    [Fact]
    public async Task GetInfo_ShowsHoldersButNeverTheirTokens()
    {
        var id = NewSemaphore();
        var lease = await Grain(id).TryAcquire(4, "a");

        var info = await Grain(id).GetInfo();

        var holder = Assert.Single(info.Holders);
        Assert.DoesNotContain(lease!.Token, info.ToString(), StringComparison.Ordinal);
        Assert.Equal(lease.ExpiresAt, holder.ExpiresAt);
        Assert.Equal(Lease, holder.ExpiresAt - holder.LastRenewedAt);
    }
}

[Collection(MemoryClusterCollection.Name)]
public sealed class SemaphoreGrainContractTests_Memory(MemoryClusterFixture fixture) : SemaphoreGrainContractTests(fixture.Cluster);

[Collection(PostgresClusterCollection.Name)]
public sealed class SemaphoreGrainContractTests_Postgres(PostgresClusterFixture fixture) : SemaphoreGrainContractTests(fixture.Cluster);

[Collection(PostgresAdoNetProviderClusterCollection.Name)]
public sealed class SemaphoreGrainContractTests_PostgresAdoNetProvider(PostgresAdoNetProviderClusterFixture fixture) : SemaphoreGrainContractTests(fixture.Cluster);
