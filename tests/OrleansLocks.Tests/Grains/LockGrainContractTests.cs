using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansLocks.Client;
using OrleansLocks.Grains.Sweep;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Grains;

/// <summary>The contract table of ILockGrain, row by row, called on the grain directly.</summary>
public abstract class LockGrainContractTests(LockCluster cluster)
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    protected LockCluster Cluster { get; } = cluster;

    protected static LockId NewLock(string name = "contract") => LockId.Create(name, $"!{Guid.NewGuid():N}:example.org");

    protected ILockGrain Grain(LockId id) => Cluster.Grains.GetGrain<ILockGrain>(id.ToGrainKey());

    [Fact]
    public async Task TryAcquire_WhenFree_GrantsLeaseWrittenWithNewTokenAndExpiry()
    {
        var id = NewLock();
        var now = Cluster.SiloClock.GetUtcNow();

        var lease = await Grain(id).TryAcquire("worker1");

        Assert.NotNull(lease);
        Assert.Matches("^[0-9a-f]{32}$", lease.Token);
        Assert.Equal("worker1", lease.Owner);
        Assert.Equal(now, lease.AcquiredAt);
        Assert.Equal(now, lease.LastRenewedAt);
        Assert.Equal(now + Lease, lease.ExpiresAt);
        Assert.True(lease.FencingToken > 0);
    }

    [Fact]
    public async Task TryAcquire_WithTheLongestNameAndKey_Works()
    {
        // 1024 characters of three UTF-8 bytes each, plus a colon, after a 128-character name.
        var id = LockId.Create(new string('n', LockId.MaxNameLength), ":" + new string('\u4e2d', LockId.MaxKeyLength - 1));
        var lease = await Grain(id).TryAcquire("w");
        Assert.NotNull(lease);
        Assert.True(await Grain(id).IsStillValid(lease.Token));
        Assert.Equal(lease.Token, (await Cluster.StoredStateAsync(id)).Token);
    }

    [Fact]
    public async Task TryAcquire_TwoGrants_HaveDifferentTokens()
    {
        var first = await Grain(NewLock()).TryAcquire("a");
        var second = await Grain(NewLock()).TryAcquire("a");
        Assert.NotEqual(first!.Token, second!.Token);
    }

    [Fact]
    public async Task TryAcquire_WhenHeldByAnother_ReturnsNull()
    {
        var id = NewLock();
        Assert.NotNull(await Grain(id).TryAcquire("worker1"));
        Assert.Null(await Grain(id).TryAcquire("worker2"));
    }

    [Fact]
    public async Task TryAcquire_BySameOwnerWhileHeld_ReturnsNull_LocksAreNotReentrant()
    {
        var id = NewLock();
        Assert.NotNull(await Grain(id).TryAcquire("worker1"));
        Assert.Null(await Grain(id).TryAcquire("worker1"));
    }

    [Fact]
    public async Task TryAcquire_WithoutOwner_RecordsTheOwnerOfTheCallingClientLibrary()
    {
        var id = NewLock();
        var expected = Cluster.Cluster.Client.ServiceProvider.GetRequiredService<IOptions<LockClientOptions>>().Value.Owner;

        var lease = await Grain(id).TryAcquire();

        Assert.Equal(expected, lease!.Owner);
        Assert.Equal(expected, (await Grain(id).GetInfo())!.Owner);
    }

    [Fact]
    public async Task TryAcquire_WithoutOwnerOrClientLibrary_RecordsUnknown()
    {
        // A silo without the OrleansLocks client library puts no owner in the request context.
        await using var bare = await LockCluster.StartAsync(LockStorageKind.Memory, silos: 1);
        var siloGrains = bare.Cluster.Silos[0].ServiceProvider.GetRequiredService<IGrainFactory>();
        var lease = await siloGrains.GetGrain<ILockGrain>(NewLock().ToGrainKey()).TryAcquire();
        Assert.Equal(LockOwner.Unknown, lease!.Owner);
    }

    [Fact]
    public async Task TryAcquire_ByRawGrainKeyFromTheDesign_Works()
    {
        var key = $"purge_room:!{Guid.NewGuid():N}:example.org";
        var lease = await Cluster.Grains.GetGrain<ILockGrain>(key).TryAcquire();
        Assert.NotNull(lease);
        Assert.Null(await Cluster.Grains.GetGrain<ILockGrain>(key).TryAcquire());
    }

    [Fact]
    public async Task TryAcquire_RetriedWithTheSameAttemptId_ReturnsTheSameLease()
    {
        // A client whose first answer was lost retries with the same attempt id: it must get its
        // grant back, not "held" (by itself).
        var id = NewLock();
        var first = await Grain(id).TryAcquire("w", "attempt-1");
        var retried = await Grain(id).TryAcquire("w", "attempt-1");
        Assert.Equal(first, retried);

        Assert.Null(await Grain(id).TryAcquire("w", "attempt-2"));
        Assert.Null(await Grain(id).TryAcquire("w"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("ünïcode")]
    [InlineData("01234567890123456789012345678901234567890123456789012345678901234")]
    public async Task TryAcquire_WithAMalformedAttemptId_IsRefusedByRule_AndGrantsNothing(string attemptId)
    {
        var id = NewLock();
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Grain(id).TryAcquire("w", attemptId));
        Assert.Contains("attempt id must be 1 to 64 characters", error.Message, StringComparison.Ordinal);
        Assert.NotNull(await Grain(id).TryAcquire("w"));
    }

    [Fact]
    public async Task Renew_WithHolderToken_ExtendsLeaseKeepingTokenAndFencingToken()
    {
        var id = NewLock();
        var lease = await Grain(id).TryAcquire("w");
        Cluster.Advance(TimeSpan.FromSeconds(30));
        var now = Cluster.SiloClock.GetUtcNow();

        var renewed = await Grain(id).Renew(lease!.Token);

        Assert.NotNull(renewed);
        Assert.Equal(lease.Token, renewed.Token);
        Assert.Equal(lease.FencingToken, renewed.FencingToken);
        Assert.Equal(lease.AcquiredAt, renewed.AcquiredAt);
        Assert.Equal(now, renewed.LastRenewedAt);
        Assert.Equal(now + Lease, renewed.ExpiresAt);
    }

    [Fact]
    public async Task Renew_WithAnotherToken_ReturnsNull()
    {
        var id = NewLock();
        await Grain(id).TryAcquire("w");
        Assert.Null(await Grain(id).Renew(LockToken.New()));
    }

    [Fact]
    public async Task Renew_AfterExpiry_ReturnsNullEvenIfNobodyTookIt()
    {
        var id = NewLock();
        var lease = await Grain(id).TryAcquire("w");
        Cluster.Advance(Lease);

        Assert.Null(await Grain(id).Renew(lease!.Token));
        Assert.Null(await Grain(id).GetInfo());
    }

    [Fact]
    public async Task Renew_JustBeforeExpiry_Succeeds()
    {
        var id = NewLock();
        var lease = await Grain(id).TryAcquire("w");
        Cluster.Advance(Lease - TimeSpan.FromMilliseconds(1));
        Assert.NotNull(await Grain(id).Renew(lease!.Token));
    }

    [Fact]
    public async Task Release_WithHolderToken_FreesTheLock()
    {
        var id = NewLock();
        var lease = await Grain(id).TryAcquire("w");

        Assert.True(await Grain(id).Release(lease!.Token));
        Assert.Null(await Grain(id).GetInfo());
        Assert.NotNull(await Grain(id).TryAcquire("other"));
    }

    [Fact]
    public async Task Release_WithAnotherToken_ReturnsFalseAndKeepsTheLock()
    {
        var id = NewLock();
        var lease = await Grain(id).TryAcquire("w");

        Assert.False(await Grain(id).Release(LockToken.New()));
        Assert.True(await Grain(id).IsStillValid(lease!.Token));
    }

    [Fact]
    public async Task Release_Twice_IsHarmless()
    {
        var id = NewLock();
        var lease = await Grain(id).TryAcquire("w");
        Assert.True(await Grain(id).Release(lease!.Token));
        Assert.False(await Grain(id).Release(lease.Token));
        Assert.Null(await Grain(id).GetInfo());
    }

    [Fact]
    public async Task Release_WithAnOldTokenAfterSomeoneElseTookTheLock_ReturnsFalse()
    {
        var id = NewLock();
        var old = await Grain(id).TryAcquire("w1");
        Cluster.Advance(Lease);
        var current = await Grain(id).TryAcquire("w2");

        Assert.False(await Grain(id).Release(old!.Token));
        Assert.True(await Grain(id).IsStillValid(current!.Token));
    }

    [Fact]
    public async Task IsStillValid_IsTrueOnlyForTheHolderWhileHeld()
    {
        var id = NewLock();
        var lease = await Grain(id).TryAcquire("w");

        Assert.True(await Grain(id).IsStillValid(lease!.Token));
        Assert.False(await Grain(id).IsStillValid(LockToken.New()));
        Cluster.Advance(Lease);
        Assert.False(await Grain(id).IsStillValid(lease.Token));
    }

    [Fact]
    public async Task IsStillValid_AfterRelease_IsFalse()
    {
        var id = NewLock();
        var lease = await Grain(id).TryAcquire("w");
        await Grain(id).Release(lease!.Token);
        Assert.False(await Grain(id).IsStillValid(lease.Token));
    }

    [Fact]
    public async Task GetInfo_WhenFree_IsNull() => Assert.Null(await Grain(NewLock()).GetInfo());

    [Fact]
    public async Task GetInfo_WhenHeld_DescribesTheHolderButNeverTheToken()
    {
        var id = NewLock();
        var lease = await Grain(id).TryAcquire("worker7");
        Cluster.Advance(TimeSpan.FromSeconds(5));
        await Grain(id).Renew(lease!.Token);

        var info = await Grain(id).GetInfo();

        Assert.NotNull(info);
        Assert.Equal("worker7", info.Owner);
        Assert.Equal(lease.FencingToken, info.FencingToken);
        Assert.Equal(lease.AcquiredAt, info.AcquiredAt);
        Assert.Equal(lease.AcquiredAt + TimeSpan.FromSeconds(5), info.LastRenewedAt);
        Assert.Equal(info.LastRenewedAt + Lease, info.ExpiresAt);
        var values = typeof(LockInfo).GetProperties().Select(p => p.GetValue(info)?.ToString());
        Assert.DoesNotContain(lease.Token, values);
        Assert.DoesNotContain(lease.Token, info.ToString());
    }

    [Fact]
    public async Task Lease_ToString_NeverShowsTheToken()
    {
        var lease = await Grain(NewLock()).TryAcquire("w");
        Assert.DoesNotContain(lease!.Token, lease.ToString());
    }

    [Fact]
    public async Task FencingToken_GrowsAcrossRelease()
    {
        var id = NewLock();
        var first = await Grain(id).TryAcquire("w");
        await Grain(id).Release(first!.Token);
        var second = await Grain(id).TryAcquire("w");
        Assert.Equal(first.FencingToken + 1, second!.FencingToken);
    }

    [Fact]
    public async Task FencingToken_GrowsAcrossExpiry()
    {
        var id = NewLock();
        var first = await Grain(id).TryAcquire("w");
        Cluster.Advance(Lease + TimeSpan.FromSeconds(1));
        var second = await Grain(id).TryAcquire("w");
        Assert.True(second!.FencingToken > first!.FencingToken);
    }

    [Fact]
    public async Task FencingToken_GrowsAcrossGrainDeactivation()
    {
        var id = NewLock();
        var first = await Grain(id).TryAcquire("w");
        await Grain(id).Release(first!.Token);
        await Cluster.Cluster.DeactivateAsync(Grain(id));

        var second = await Grain(id).TryAcquire("w");

        Assert.True(second!.FencingToken > first.FencingToken);
    }

    [Fact]
    public async Task HeldLock_SurvivesGrainDeactivation_WithSameTokenAndFencingToken()
    {
        var id = NewLock();
        var lease = await Grain(id).TryAcquire("w");
        await Cluster.Cluster.DeactivateAsync(Grain(id));

        Assert.True(await Grain(id).IsStillValid(lease!.Token));
        Assert.Equal(lease.FencingToken, (await Grain(id).GetInfo())!.FencingToken);
        Assert.Null(await Grain(id).TryAcquire("other"));
    }

    [Fact]
    public async Task FencingToken_GrowsAcrossCleanupOfTheFreeRow()
    {
        var id = NewLock();
        var first = await Grain(id).TryAcquire("w");
        await Grain(id).Release(first!.Token);
        Cluster.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));

        // The sweep deletes a row that has been free for longer than the retention.
        Assert.True(await Cluster.Grains.GetGrain<ILockSweepTarget>(GrainId.Create("orleanslocks.lock", id.ToGrainKey())).Sweep());
        await Cluster.Cluster.DeactivateAsync(Grain(id));
        var second = await Grain(id).TryAcquire("w");

        Assert.True(second!.FencingToken > first.FencingToken, $"{second.FencingToken} > {first.FencingToken}");
    }

    [Fact]
    public async Task Expiry_WithNoCaller_FreesTheStoredLockAtTheExpiryInstant()
    {
        var id = NewLock();
        var lease = await Grain(id).TryAcquire("w");
        Assert.Equal(lease!.Token, (await Cluster.StoredStateAsync(id)).Token);

        Cluster.Advance(Lease);

        // Nobody calls the grain: its timer writes the free state by itself, stamped with the expiry instant.
        await Eventually.TrueAsync(async () => (await Cluster.StoredStateAsync(id)).Token is null, "the expiry timer freed the stored lock");
        var stored = await Cluster.StoredStateAsync(id);
        Assert.Equal(lease.ExpiresAt.ToUnixTimeMilliseconds(), stored.FreedAt);
        Assert.Equal(lease.FencingToken, stored.FencingToken);
        if (Cluster.ConnectionString is { } database)
        {
            Assert.Null(await WorkerLocksView.FindAsync(database, id));
        }
    }
}

[Collection(MemoryClusterCollection.Name)]
public sealed class LockGrainContractTests_Memory(MemoryClusterFixture fixture) : LockGrainContractTests(fixture.Cluster);

[Collection(PostgresClusterCollection.Name)]
public sealed class LockGrainContractTests_Postgres(PostgresClusterFixture fixture) : LockGrainContractTests(fixture.Cluster);

[Collection(PostgresAdoNetProviderClusterCollection.Name)]
public sealed class LockGrainContractTests_PostgresAdoNetProvider(PostgresAdoNetProviderClusterFixture fixture) : LockGrainContractTests(fixture.Cluster);
