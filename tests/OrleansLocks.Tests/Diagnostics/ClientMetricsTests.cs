using System.Runtime.CompilerServices;
using OrleansLocks.Client;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Diagnostics;

/// <summary>The client's instruments, recorded on the real code paths of a test cluster.</summary>
[Collection(MemoryClusterCollection.Name)]
public sealed class ClientMetricsTests(MemoryClusterFixture fixture)
{
    private static readonly TimeSpan R = TimeSpan.FromSeconds(30);
    private readonly LockCluster _cluster = fixture.Cluster;

    private ILockProvider Locks => _cluster.Locks;

    private IServiceProvider ClientHost => _cluster.Cluster.Client.ServiceProvider;

    [Fact]
    public async Task Acquires_AreMeasuredByModeAndOutcome()
    {
        using var telemetry = new TelemetryRecorder(ClientHost);
        var name = NewName();
        await using (var first = await Locks.TryAcquireAsync(name, "k"))
        {
            Assert.NotNull(first);
            Assert.Null(await Locks.TryAcquireAsync(name, "k"));
            await Assert.ThrowsAsync<TimeoutException>(async () => await Locks.AcquireAsync(name, "k", TimeSpan.Zero));
            using var cancelled = new CancellationTokenSource();
            await cancelled.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Locks.AcquireAsync(name, "k", TimeSpan.FromMinutes(1), cancelled.Token));
        }

        await using (await Locks.AcquireAsync(name, "k", TimeSpan.FromMinutes(1)))
        {
        }

        await using (await Locks.TryAcquireAllAsync([LockRequest.Write(name, "a"), LockRequest.Write(name, "b")]))
        {
        }

        var acquires = telemetry.Of("orleanslocks.acquire.duration", name);
        Assert.Equal(
            ["try/acquired/plain", "try/held/plain", "wait/timeout/plain", "wait/cancelled/plain", "wait/acquired/plain", "multi/acquired/write"],
            acquires.Select(m => $"{m.Tag("orleanslocks.acquire.mode")}/{m.Tag("orleanslocks.outcome")}/{m.Tag("orleanslocks.lock.kind")}"));
        Assert.All(acquires, m => Assert.True(m.Value >= 0));
    }

    [Fact]
    public async Task HeldLocks_AreCounted_AndAReleasedHoldRecordsItsDuration()
    {
        using var telemetry = new TelemetryRecorder(ClientHost);
        var name = NewName();

        var handle = await Locks.TryAcquireAsync(name, "k");
        Assert.Equal(1, telemetry.Sum("orleanslocks.held", name));
        await handle!.ReleaseAsync();
        await handle.DisposeAsync();

        Assert.Equal(0, telemetry.Sum("orleanslocks.held", name));
        var hold = Assert.Single(telemetry.Of("orleanslocks.hold.duration", name));
        Assert.Equal("released", hold.Tag("orleanslocks.hold.end"));
        Assert.Equal("plain", hold.Tag("orleanslocks.lock.kind"));
    }

    [Fact]
    public async Task ALostLease_IsCountedWithItsReason_AndEndsItsHoldAsLost()
    {
        using var telemetry = new TelemetryRecorder(ClientHost);
        var name = NewName();
        var handle = await Locks.TryAcquireAsync(name, "k");
        var grain = _cluster.Grains.GetGrain<ILockGrain>(handle!.Id.ToGrainKey());

        // The lease runs out on the silos while the client is stalled; someone else takes the lock;
        // the client's next renewal is answered "lost".
        _cluster.SiloClock.Advance(TimeSpan.FromMinutes(2));
        Assert.NotNull(await grain.TryAcquire("thief"));
        _cluster.ClientClock.Advance(R);
        await Eventually.TrueAsync(() => handle.HandleLostToken.IsCancellationRequested, "HandleLostToken was cancelled");
        _cluster.ClientClock.Advance(TimeSpan.FromMinutes(2) - R);
        await handle.DisposeAsync();

        var lost = Assert.Single(telemetry.Of("orleanslocks.lost", name));
        Assert.Equal(1, lost.Value);
        Assert.Equal("refused", lost.Tag("orleanslocks.reason"));
        var hold = Assert.Single(telemetry.Of("orleanslocks.hold.duration", name));
        Assert.Equal("lost", hold.Tag("orleanslocks.hold.end"));
        Assert.Equal(0, telemetry.Sum("orleanslocks.held", name));
        Assert.Contains(telemetry.Spans, s => s.OperationName == "orleanslocks.renew" && Equals(s.GetTagItem("orleanslocks.lock.name"), name) && Equals(s.GetTagItem("orleanslocks.outcome"), "lost"));
    }

    [Fact]
    public async Task ARenewalThatReachesTheLockAfterItsHandlesRelease_IsNotALostLease()
    {
        using var telemetry = new TelemetryRecorder(ClientHost);
        var name = NewName();
        var handle = await Locks.TryAcquireAsync(name, "k");

        // The renewal falls due and is held before it is sent (as a retried renewal would be); the
        // handle is released meanwhile, so the lock refuses the renewal when it arrives.
        var renewal = _cluster.ClientCalls.HoldNext(handle!.Id, "Renew");
        _cluster.ClientClock.Advance(R);
        await renewal.Reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await handle.ReleaseAsync();
        renewal.Send();

        await Eventually.TrueAsync(() => RenewSpans(telemetry, name).Any(), "the renewal's span ended");
        Assert.Equal("released", Assert.Single(RenewSpans(telemetry, name)).GetTagItem("orleanslocks.outcome"));
        Assert.Empty(telemetry.Of("orleanslocks.lost", name));
        Assert.Equal("released", Assert.Single(telemetry.Of("orleanslocks.hold.duration", name)).Tag("orleanslocks.hold.end"));
        Assert.False(handle.HandleLostToken.IsCancellationRequested);
    }

    [Fact]
    public async Task AHandleCollectedWithoutRelease_IsCountedAsAbandoned()
    {
        using var telemetry = new TelemetryRecorder(ClientHost);
        var name = NewName();
        await AcquireAndDropAsync(name);

        // Collect on every look: on a loaded machine one collection does not always reach the handle.
        await Eventually.TrueAsync(
            () =>
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                return telemetry.Sum("orleanslocks.abandoned", name) == 1;
            },
            "the dropped handle was counted as abandoned");
        Assert.Equal("abandoned", Assert.Single(telemetry.Of("orleanslocks.hold.duration", name)).Tag("orleanslocks.hold.end"));
        Assert.Equal(0, telemetry.Sum("orleanslocks.held", name));
    }

    internal static string NewName() => "m" + Guid.NewGuid().ToString("N");

    private static IEnumerable<System.Diagnostics.Activity> RenewSpans(TelemetryRecorder telemetry, string name) =>
        telemetry.Spans.Where(s => s.OperationName == "orleanslocks.renew" && Equals(s.GetTagItem("orleanslocks.lock.name"), name));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private async Task AcquireAndDropAsync(string name) => Assert.NotNull(await Locks.TryAcquireAsync(name, "k"));
}
