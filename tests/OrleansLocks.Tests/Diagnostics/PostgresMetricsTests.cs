using OrleansLocks.Grains.Sweep;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Diagnostics;

/// <summary>The storage and sweep instruments against PostgreSQL, through both lock stores.</summary>
public sealed class PostgresMetricsTests
{
    [Theory]
    [InlineData(LockStorageKind.Postgres)]
    [InlineData(LockStorageKind.PostgresAdoNetProvider)]
    public async Task AStaleActivationsRefusedWrite_IsCountedAsAVersionConflict(LockStorageKind storage)
    {
        // Two clusters on one database and service id: the same lock gets one activation in each.
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("conflict");
        var serviceId = "conflict-" + Guid.NewGuid().ToString("N");
        await using var one = await LockCluster.StartAsync(storage, silos: 1, connectionString: database, serviceId: serviceId);
        await using var two = await LockCluster.StartAsync(storage, silos: 1, connectionString: database, serviceId: serviceId);
        using var telemetry = new TelemetryRecorder(one.Cluster.Silos[0].ServiceProvider, two.Cluster.Silos[0].ServiceProvider);
        var name = ClientMetricsTests.NewName();
        var id = LockId.Create(name, "k");
        var second = two.Grains.GetGrain<ILockGrain>(id.ToGrainKey());
        Assert.Null(await second.GetInfo());
        Assert.NotNull(await one.Grains.GetGrain<ILockGrain>(id.ToGrainKey()).TryAcquire("one"));

        var refused = await Assert.ThrowsAsync<LockStorageException>(() => second.TryAcquire("two"));

        Assert.True(refused.IsVersionConflict);
        var conflict = Assert.Single(telemetry.Of("orleanslocks.storage.conflicts", name));
        Assert.Equal("write", conflict.Tag("orleanslocks.operation"));
        Assert.Equal(1, conflict.Value);
        var storageOutcomes = telemetry.Of("orleanslocks.storage.operation.duration", name)
            .Select(m => $"{m.Tag("orleanslocks.operation")}/{m.Tag("orleanslocks.outcome")}").ToHashSet();
        Assert.Contains("read/ok", storageOutcomes);
        Assert.Contains("write/ok", storageOutcomes);
        Assert.Contains("write/conflict", storageOutcomes);
        Assert.Contains(telemetry.Spans, s => s.OperationName == "orleanslocks.storage.write"
            && Equals(s.GetTagItem("orleanslocks.lock.name"), name) && Equals(s.GetTagItem("orleanslocks.outcome"), "conflict"));
    }

    [Fact]
    public async Task TheSweep_CountsItsRunAndTheLocksItFreed()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("sweepmetrics");
        var serviceId = "sweep-" + Guid.NewGuid().ToString("N");
        var id = LockId.Create(ClientMetricsTests.NewName(), "!room:example.org");
        await using (var before = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1, connectionString: database, serviceId: serviceId))
        {
            Assert.NotNull(await before.Grains.GetGrain<ILockGrain>(id.ToGrainKey()).TryAcquire("gone-worker"));
        }

        // Every silo is gone; a new cluster starts after the lease ran out, and no activation of the lock exists.
        await using var after = await LockCluster.StartAsync(LockStorageKind.Postgres, silos: 1, connectionString: database, serviceId: serviceId);
        using var telemetry = new TelemetryRecorder(after.Cluster.Silos[0].ServiceProvider);
        after.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(30));

        Assert.Equal(1, await after.Grains.GetGrain<ILockSweeperGrain>(0).SweepNow());

        Assert.Equal(1, telemetry.Sum("orleanslocks.sweep.freed"));
        Assert.Contains(telemetry.Of("orleanslocks.sweep.runs"), m => Equals(m.Tag("orleanslocks.outcome"), "ok"));
        Assert.Equal(1, telemetry.Sum("orleanslocks.expirations", id.Name));
    }
}
