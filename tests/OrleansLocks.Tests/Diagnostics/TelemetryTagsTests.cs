using System.Diagnostics;
using OrleansLocks.Client;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Diagnostics;

/// <summary>What OrleansLocks' metrics and spans may carry: a lock's name and kind, never its key, an owner or a token.</summary>
[Collection(MemoryClusterCollection.Name)]
public sealed class TelemetryTagsTests(MemoryClusterFixture fixture)
{
    private static readonly HashSet<string> MetricTagKeys =
    [
        "orleanslocks.lock.name", "orleanslocks.lock.kind", "orleanslocks.acquire.mode", "orleanslocks.outcome",
        "orleanslocks.operation", "orleanslocks.reason", "orleanslocks.hold.end", "orleanslocks.grant.path",
    ];

    private readonly LockCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task NoInstrumentOrSpan_EverCarriesAKeyAnOwnerOrAToken()
    {
        var hosts = _cluster.Cluster.Silos.Select(s => s.ServiceProvider).Append(_cluster.Cluster.Client.ServiceProvider).ToArray();
        using var telemetry = new TelemetryRecorder(hosts);
        var name = ClientMetricsTests.NewName();
        var key = "secret-key-" + Guid.NewGuid().ToString("N");
        var owner = "secret-owner-" + Guid.NewGuid().ToString("N");
        var locks = _cluster.Locks;
        var grain = _cluster.Grains.GetGrain<ILockGrain>(LockId.Create(name, key).ToGrainKey());
        var readWrite = _cluster.Grains.GetGrain<IReadWriteLockGrain>(LockId.Create(name, key).ToGrainKey());
        var secrets = new List<string> { key, owner, LockId.Create(name, key).ToGrainKey() };

        // A run of operations that reaches every instrument a test cluster can reach: grants (try and
        // wait), a hand-off, renewals, releases, an expiry, a lost lease, a taken-back grant, reads and writes.
        var first = await locks.TryAcquireAsync(name, key);
        secrets.Add(first!.Owner);
        Assert.Null(await locks.TryAcquireAsync(name, key));
        var waiting = locks.AcquireAsync(name, key).AsTask();
        await Eventually.TrueAsync(async () => (await grain.GetInfo())?.Waiting == 1, "one waiting");
        _cluster.Advance(TimeSpan.FromSeconds(30));
        await first.ReleaseAsync();
        var second = await waiting;
        await second.ReleaseAsync();

        var raw = await grain.TryAcquire(owner);
        secrets.Add(raw!.Token);
        var dead = grain.Wait("dead-waiter", LockKind.Plain, owner);
        await Eventually.TrueAsync(async () => (await grain.GetInfo())?.Waiting == 1, "the raw waiter waiting");
        await grain.Release(raw.Token);
        var deadLease = await dead;
        secrets.Add(deadLease!.Token);
        _cluster.Advance(ClusterFixture.WaiterTimeout);
        await Eventually.TrueAsync(() => telemetry.Sum("orleanslocks.waiter.timeouts", name) == 1, "the grant was taken back");

        // A raw reader whose lease runs out: an expiry.
        var reader = await readWrite.TryAcquireRead(owner);
        secrets.Add(reader!.Token);
        _cluster.Advance(TimeSpan.FromMinutes(2));
        await Eventually.TrueAsync(() => telemetry.Sum("orleanslocks.expirations", name) >= 1, "the reader's lease expired");
        await using var write = await locks.TryAcquireWriteAsync(name, "other-" + key);

        var measurements = telemetry.All;
        Assert.NotEmpty(measurements);
        foreach (var m in measurements)
        {
            foreach (var (tag, value) in m.Tags)
            {
                Assert.True(MetricTagKeys.Contains(tag), $"{m.Instrument} carries the tag {tag}");
                Assert.DoesNotContain(value as string, secrets);
            }
        }

        var recorded = measurements.Select(m => m.Instrument).ToHashSet();
        foreach (var instrument in new[]
        {
            "orleanslocks.acquire.duration", "orleanslocks.held", "orleanslocks.hold.duration", "orleanslocks.grants",
            "orleanslocks.expirations", "orleanslocks.handoff.duration", "orleanslocks.storage.operation.duration", "orleanslocks.waiter.timeouts",
        })
        {
            Assert.Contains(instrument, recorded);
        }

        var spans = telemetry.Spans.Where(s => s.Source.Name == OrleansLocksTelemetry.ActivitySourceName).ToList();
        Assert.NotEmpty(spans);
        foreach (var span in spans)
        {
            foreach (var (tag, value) in span.TagObjects)
            {
                Assert.True(MetricTagKeys.Contains(tag) || tag == "orleanslocks.lock.fencing_token", $"{span.OperationName} carries the attribute {tag}");
                Assert.DoesNotContain(value as string, secrets);
            }

            Assert.DoesNotContain(span.DisplayName, secrets);
        }
    }
}
