using OrleansLocks.Client;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Diagnostics;

/// <summary>Semaphore permits flow through the existing instruments, tagged with the kind <c>semaphore</c>.</summary>
[Collection(MemoryClusterCollection.Name)]
public sealed class SemaphoreMetricsTests(MemoryClusterFixture fixture)
{
    private static readonly TimeSpan Arrival = TimeSpan.FromSeconds(15);
    private readonly LockCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task GrantsHandOffsAndAcquires_OfASemaphore_AreTaggedSemaphore()
    {
        var hosts = _cluster.Cluster.Silos.Select(s => s.ServiceProvider).Append(_cluster.Cluster.Client.ServiceProvider).ToArray();
        using var telemetry = new TelemetryRecorder(hosts);
        var name = ClientMetricsTests.NewName();
        var grain = _cluster.Grains.GetGrain<ISemaphoreGrain>(LockId.Create(name, "k").ToGrainKey());
        var first = await _cluster.Locks.TryAcquireSemaphoreAsync(name, "k", 1);
        var next = _cluster.Locks.AcquireSemaphoreAsync(name, "k", 1).AsTask();
        await Eventually.TrueAsync(async () => (await grain.GetInfo()).Waiting == 1, "one waits for the permit");

        await first!.ReleaseAsync();
        await using var held = await next.WaitAsync(Arrival);

        var grants = telemetry.Of("orleanslocks.grants", name);
        Assert.Equal(["try", "wait"], grants.Select(m => m.Tag("orleanslocks.grant.path")));
        Assert.All(grants, m => Assert.Equal("semaphore", m.Tag("orleanslocks.lock.kind")));
        Assert.Equal("semaphore", Assert.Single(telemetry.Of("orleanslocks.handoff.duration", name)).Tag("orleanslocks.lock.kind"));
        var acquires = telemetry.Of("orleanslocks.acquire.duration", name);
        Assert.Equal(2, acquires.Count);
        Assert.All(acquires, m => Assert.Equal("semaphore", m.Tag("orleanslocks.lock.kind")));
    }

    [Fact]
    public async Task TheExpiryOfAPermit_IsCountedAsASemaphoreExpiry()
    {
        using var telemetry = new TelemetryRecorder([.. _cluster.Cluster.Silos.Select(s => s.ServiceProvider)]);
        var name = ClientMetricsTests.NewName();
        var grain = _cluster.Grains.GetGrain<ISemaphoreGrain>(LockId.Create(name, "k").ToGrainKey());
        Assert.NotNull(await grain.TryAcquire(2, "stalled-holder"));

        _cluster.Advance(TimeSpan.FromMinutes(2));

        await Eventually.TrueAsync(async () => (await grain.GetInfo()).IsFree, "the permit expired");
        await Eventually.TrueAsync(() => telemetry.Of("orleanslocks.expirations", name).Count == 1, "the expiry was counted");
        Assert.Equal("semaphore", Assert.Single(telemetry.Of("orleanslocks.expirations", name)).Tag("orleanslocks.lock.kind"));
    }
}
