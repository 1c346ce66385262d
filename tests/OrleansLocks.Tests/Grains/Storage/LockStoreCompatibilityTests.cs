using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using OrleansLocks.Grains;
using OrleansLocks.Grains.Locking;
using OrleansLocks.Grains.Storage;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Grains.Storage;

/// <summary>
/// The group-commit writer and the Orleans ADO.NET provider keep locks in the same rows: each reads
/// what the other wrote, with the same version, for every shape of grain key the provider knows
/// (keys that read as integer or Guid keys with an extension are split across columns by both).
/// Run in a real silo, whose provider and writer are the ones the lock grains use.
/// </summary>
public sealed class LockStoreCompatibilityTests
{
    public static TheoryData<string> Keys => new()
    {
        "purge_room:!room:example.org",
        "0123456789abcdef+tail:key",
        "0123456789abcdef0123456789abcdef+ext:key",
        "0123456789abcdef0123456789abcdef",
        "naïve:ключ",
    };

    [Theory]
    [MemberData(nameof(Keys))]
    public async Task WhatTheWriterStores_TheProviderReads_AndTheOtherWayRound(string grainKey)
    {
        await using var cluster = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1);
        var services = cluster.Cluster.Silos[0].ServiceProvider;
        var writer = services.GetRequiredService<LockGrainSettings>().GroupCommit!.Writer;
        var provider = services.GetRequiredKeyedService<IGrainStorage>("OrleansLocks");
        const string stateName = "orleanslocks.lock";
        var grainId = GrainId.Create(stateName, grainKey);
        var row = LockRowKey.For(grainId, stateName, writer.ServiceId);

        var written = new LockState { Name = "n", Key = "k", Token = "t-writer", Owner = "w", FencingToken = 7 };
        Assert.Equal(1, await writer.WriteAsync(row, null, LockStateJsonSerializer.ToBytes(written)));
        var envelope = new GrainState<LockState>(new LockState());
        await provider.ReadStateAsync(stateName, grainId, envelope);
        Assert.True(envelope.RecordExists);
        Assert.Equal("1", envelope.ETag);
        Assert.Equal("t-writer", envelope.State!.Token);
        Assert.Equal(7, envelope.State.FencingToken);

        envelope.State.Token = "t-provider";
        await provider.WriteStateAsync(stateName, grainId, envelope);
        var (payload, version) = await writer.ReadAsync(row);
        Assert.Equal(2, version);
        Assert.Equal("t-provider", LockStateJsonSerializer.FromBytes(payload!).Token);
        Assert.Null(await writer.WriteAsync(row, 1, LockStateJsonSerializer.ToBytes(written))); // the provider's write moved the version
    }

    [Fact]
    public async Task TheWriterOption_ChoosesWhichCodeWritesTheLockRows()
    {
        await using var groupCommit = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1);
        await using var provider = await LockCluster.StartAsync(LockStorageKind.PostgresAdoNetProvider, silos: 1);
        var id = LockId.Create("writer-choice", Guid.NewGuid().ToString("N"));

        Assert.NotNull(await groupCommit.Grains.GetGrain<ILockGrain>(id.ToGrainKey()).TryAcquire("one"));
        Assert.NotNull(await provider.Grains.GetGrain<ILockGrain>(id.ToGrainKey()).TryAcquire("two"));

        Assert.True(groupCommit.Cluster.Silos[0].ServiceProvider.GetRequiredService<LockGrainSettings>().GroupCommit!.Writer.Writes >= 1);
        Assert.Null(provider.Cluster.Silos[0].ServiceProvider.GetRequiredService<LockGrainSettings>().GroupCommit);
        Assert.Equal("two", (await WorkerLocksView.FindAsync(provider.ConnectionString!, id))!.InstanceName);
    }
}
