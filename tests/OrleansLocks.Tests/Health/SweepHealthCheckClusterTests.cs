using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrleansLocks.Grains.Health;
using OrleansLocks.Grains.Sweep;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Health;

/// <summary>
/// The sweep health check on a real cluster on PostgreSQL: the sweeper grain keeps its record, and a
/// check on any silo reads it through the grain. The cluster's clock is fake.
/// </summary>
public sealed class SweepHealthCheckClusterTests : IAsyncLifetime
{
    private LockCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await LockCluster.StartAsync(LockStorageKind.Postgres);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task ASweep_IsRecordedByTheSweeper_AndEverySiloSeesItThroughTheSweepCheck()
    {
        var sweeper = _cluster.Grains.GetGrain<ILockSweeperGrain>(0);
        await sweeper.SweepNow();
        var sweptAt = _cluster.SiloClock.GetUtcNow();

        var record = await sweeper.GetRecord();
        Assert.Equal(sweptAt, record.LastSuccess);
        Assert.Null(record.LastFailure);

        foreach (var silo in _cluster.Cluster.Silos)
        {
            var result = await CheckAsync(silo.ServiceProvider);
            Assert.Equal(HealthStatus.Healthy, result.Status);
            Assert.Contains("The last sweep succeeded at " + sweptAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture), result.Description, StringComparison.Ordinal);
        }
    }

    private static Task<HealthCheckResult> CheckAsync(IServiceProvider silo)
    {
        var check = ActivatorUtilities.CreateInstance<LockSweepHealthCheck>(silo);
        var registration = new HealthCheckRegistration(OrleansLocksHealthChecksBuilderExtensions.SweepCheckName, check, HealthStatus.Degraded, ["ready"]);
        return check.CheckHealthAsync(new HealthCheckContext { Registration = registration });
    }
}
