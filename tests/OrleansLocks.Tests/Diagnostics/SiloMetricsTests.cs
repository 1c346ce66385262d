using OrleansLocks.Client;
using OrleansLocks.Grains;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Diagnostics;

/// <summary>The silo's instruments, recorded on the real code paths of a two-silo test cluster (in-memory storage).</summary>
[Collection(MemoryClusterCollection.Name)]
public sealed class SiloMetricsTests(MemoryClusterFixture fixture)
{
    private static readonly TimeSpan Arrival = TimeSpan.FromSeconds(15);
    private readonly LockCluster _cluster = fixture.Cluster;

    private ILockProvider Locks => _cluster.Locks;

    private IServiceProvider[] SiloHosts => [.. _cluster.Cluster.Silos.Select(s => s.ServiceProvider)];

    [Fact]
    public async Task AReleaseThatHandsTheLockToAWaiter_CountsBothGrants_AndRecordsTheHandOff()
    {
        using var telemetry = new TelemetryRecorder(SiloHosts);
        var name = ClientMetricsTests.NewName();
        var first = await Locks.TryAcquireAsync(name, "k");
        var next = Locks.AcquireAsync(name, "k").AsTask();
        await WaitUntilQueuedAsync(name, 1);

        await first!.ReleaseAsync();
        await using var held = await next.WaitAsync(Arrival);

        Assert.Equal(["try", "wait"], telemetry.Of("orleanslocks.grants", name).Select(m => m.Tag("orleanslocks.grant.path")));
        var handoff = Assert.Single(telemetry.Of("orleanslocks.handoff.duration", name));
        Assert.Equal("plain", handoff.Tag("orleanslocks.lock.kind"));
        Assert.True(handoff.Value >= 0);
        var writes = telemetry.Of("orleanslocks.storage.operation.duration", name).Where(m => Equals(m.Tag("orleanslocks.operation"), "write")).ToList();
        Assert.True(writes.Count >= 2, $"{writes.Count} storage writes recorded");
        Assert.All(writes, m => Assert.Equal("ok", m.Tag("orleanslocks.outcome")));
    }

    [Fact]
    public async Task AnExpiry_IsCounted_AndHandsTheLockToTheWaiter()
    {
        using var telemetry = new TelemetryRecorder(SiloHosts);
        var name = ClientMetricsTests.NewName();
        var grain = _cluster.Grains.GetGrain<ILockGrain>(LockId.Create(name, "k").ToGrainKey());
        Assert.NotNull(await grain.TryAcquire("stalled-holder"));
        var next = Locks.AcquireAsync(name, "k").AsTask();
        await WaitUntilQueuedAsync(name, 1);

        // In renewal steps, so the waiter keeps calling while the stalled holder's lease runs out.
        for (var moved = TimeSpan.Zero; !next.IsCompleted; moved += TimeSpan.FromSeconds(30))
        {
            Assert.True(moved <= TimeSpan.FromMinutes(4), $"the waiter was still waiting after {moved}");
            _cluster.Advance(TimeSpan.FromSeconds(30));
            await Task.WhenAny(next, Task.Delay(300));
        }

        await using var held = await next;
        var expired = Assert.Single(telemetry.Of("orleanslocks.expirations", name));
        Assert.Equal("plain", expired.Tag("orleanslocks.lock.kind"));
        Assert.Single(telemetry.Of("orleanslocks.handoff.duration", name));
        Assert.Contains(telemetry.Of("orleanslocks.grants", name), m => Equals(m.Tag("orleanslocks.grant.path"), "wait"));
    }

    [Fact]
    public async Task AGrantNeverConfirmed_IsCountedAsTakenBack()
    {
        using var telemetry = new TelemetryRecorder(SiloHosts);
        var name = ClientMetricsTests.NewName();
        var grain = _cluster.Grains.GetGrain<ILockGrain>(LockId.Create(name, "k").ToGrainKey());
        var holder = await grain.TryAcquire("holder");

        // A raw waiter that never confirms nor calls again: a process that died while waiting.
        var dead = grain.Wait("dead-waiter", LockKind.Plain, "dead-process");
        await WaitUntilQueuedAsync(name, 1);
        Assert.True(await grain.Release(holder!.Token));
        Assert.NotNull(await dead.WaitAsync(Arrival));

        _cluster.Advance(ClusterFixture.WaiterTimeout);
        await Eventually.TrueAsync(() => telemetry.Sum("orleanslocks.waiter.timeouts", name) == 1, "the unconfirmed grant was taken back");
        Assert.Equal("unconfirmed_grant", Assert.Single(telemetry.Of("orleanslocks.waiter.timeouts", name)).Tag("orleanslocks.reason"));
    }

    [Fact]
    public async Task Waiters_AreObservedWhileInLine_AndNoLongerOnceServed()
    {
        using var telemetry = new TelemetryRecorder(SiloHosts);
        var name = ClientMetricsTests.NewName();
        var before = WaitingNow(telemetry);
        var first = await Locks.TryAcquireAsync(name, "k");
        var next = Locks.AcquireAsync(name, "k").AsTask();
        await WaitUntilQueuedAsync(name, 1);

        Assert.Equal(before + 1, WaitingNow(telemetry));

        await first!.ReleaseAsync();
        await using var held = await next.WaitAsync(Arrival);
        Assert.Equal(before, WaitingNow(telemetry));
    }

    private static long WaitingNow(TelemetryRecorder telemetry)
    {
        // One report per silo whose lock grains were used since it started.
        return (long)telemetry.Observe("orleanslocks.waiters").Sum(m => m.Value);
    }

    private Task WaitUntilQueuedAsync(string name, int count) =>
        Eventually.TrueAsync(
            async () => (await _cluster.Grains.GetGrain<ILockGrain>(LockId.Create(name, "k").ToGrainKey()).GetInfo())?.Waiting == count,
            $"{count} waiting for {name}");
}
