using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Runtime;
using OrleansLocks.Client;
using OrleansLocks.Client.Diagnostics;

namespace OrleansLocks.Tests.Diagnostics;

/// <summary>
/// The retry counter, on the client's one retry mechanism with the instruments a client host
/// resolves (pauses are recorded, not waited: a transient fault is hard to cause on cue in a cluster).
/// </summary>
public sealed class RetryMetricsTests
{
    [Fact]
    public async Task EachRetryAfterATransientFault_IsCountedByOperation()
    {
        await using var services = new ServiceCollection().AddMetrics().AddSingleton(TimeProvider.System).AddSingleton<LockClientInstruments>().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        using var retries = new MetricCollector<long>(meters, OrleansLocksTelemetry.MeterName, "orleanslocks.retries");
        var policy = new TransientFaultPolicy(
            new LockClientOptions { MaxAttempts = 4 }, NullLogger.Instance, () => 0.5, (_, _) => Task.CompletedTask, services.GetRequiredService<LockClientInstruments>());
        var failures = 2;

        var renewed = await policy.RunAsync(
            "renew",
            LockId.Create("retried", "k"),
            () => failures-- > 0 ? throw new SiloUnavailableException("gone") : Task.FromResult(true),
            CancellationToken.None);

        Assert.True(renewed);
        var counted = retries.GetMeasurementSnapshot();
        Assert.Equal(2, counted.Count);
        Assert.All(counted, m =>
        {
            Assert.Equal(1, m.Value);
            Assert.Equal("renew", m.Tags["orleanslocks.operation"]);
            Assert.Equal("retried", m.Tags["orleanslocks.lock.name"]);
        });
    }
}
