using System.Diagnostics;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Diagnostics;

/// <summary>
/// The spans of an acquire, with Orleans' context propagation on (<c>AddActivityPropagation</c> on the
/// silo and the client) and the OrleansLocks and <c>Microsoft.Orleans.*</c> sources listened to.
/// </summary>
public sealed class TracingTests
{
    [Theory]
    [InlineData(LockStorageKind.Memory)]
    [InlineData(LockStorageKind.Postgres)]
    public async Task AnAcquiresSpan_IsAnAncestorOfTheSilosStorageWriteSpan(LockStorageKind storage)
    {
        await using var cluster = await LockCluster.StartAsync(storage, silos: 1, tracing: true);
        using var telemetry = new TelemetryRecorder(cluster.Cluster.Client.ServiceProvider);
        var name = ClientMetricsTests.NewName();

        await using var handle = await cluster.Locks.TryAcquireAsync(name, "k");
        Assert.NotNull(handle);

        var acquire = Assert.Single(SpansOf(telemetry, "orleanslocks.acquire", name));
        Assert.Equal("acquired", acquire.GetTagItem("orleanslocks.outcome"));
        Assert.Equal("try", acquire.GetTagItem("orleanslocks.acquire.mode"));
        Assert.Equal("plain", acquire.GetTagItem("orleanslocks.lock.kind"));
        Assert.Equal(handle.FencingToken, acquire.GetTagItem("orleanslocks.lock.fencing_token"));
        await Eventually.TrueAsync(() => SpansOf(telemetry, "orleanslocks.storage.write", name).Any(), "the silo's storage write span stopped");
        var write = Assert.Single(SpansOf(telemetry, "orleanslocks.storage.write", name));
        Assert.Equal("acquire", write.GetTagItem("orleanslocks.operation"));
        Assert.Equal("ok", write.GetTagItem("orleanslocks.outcome"));
        Assert.Equal(acquire.TraceId, write.TraceId);
        Assert.Contains(acquire.SpanId, Ancestors(telemetry, write));
    }

    [Fact]
    public async Task AcquireSpans_SayWhetherTheLockWasAcquiredHeldOrTimedOut()
    {
        await using var cluster = await LockCluster.StartAsync(LockStorageKind.Memory, silos: 1, tracing: true);
        using var telemetry = new TelemetryRecorder(cluster.Cluster.Client.ServiceProvider);
        var name = ClientMetricsTests.NewName();

        await using (var handle = await cluster.Locks.TryAcquireAsync(name, "k"))
        {
            Assert.Null(await cluster.Locks.TryAcquireAsync(name, "k"));
            await Assert.ThrowsAsync<TimeoutException>(async () => await cluster.Locks.AcquireAsync(name, "k", TimeSpan.Zero));
        }

        var acquires = SpansOf(telemetry, "orleanslocks.acquire", name);
        Assert.Equal(["acquired", "held", "timeout"], acquires.Select(a => a.GetTagItem("orleanslocks.outcome")));
        Assert.NotNull(acquires[0].GetTagItem("orleanslocks.lock.fencing_token"));
        Assert.Null(acquires[1].GetTagItem("orleanslocks.lock.fencing_token"));
        Assert.Equal(ActivityStatusCode.Unset, acquires[2].Status);
        var release = Assert.Single(SpansOf(telemetry, "orleanslocks.release", name));
        Assert.Equal("released", release.GetTagItem("orleanslocks.outcome"));
    }

    private static List<Activity> SpansOf(TelemetryRecorder telemetry, string operation, string name) =>
        [.. telemetry.Spans.Where(s => s.OperationName == operation && Equals(s.GetTagItem("orleanslocks.lock.name"), name)).OrderBy(s => s.StartTimeUtc)];

    /// <summary>The span ids above <paramref name="span"/>, following parent ids through every recorded span (both processes' sides).</summary>
    private static List<ActivitySpanId> Ancestors(TelemetryRecorder telemetry, Activity span)
    {
        var bySpanId = telemetry.Spans.GroupBy(s => s.SpanId).ToDictionary(g => g.Key, g => g.First());
        var ancestors = new List<ActivitySpanId>();
        for (var parent = span.ParentSpanId; parent != default && ancestors.Count < 20; parent = bySpanId.TryGetValue(parent, out var above) ? above.ParentSpanId : default)
        {
            ancestors.Add(parent);
        }

        return ancestors;
    }
}
