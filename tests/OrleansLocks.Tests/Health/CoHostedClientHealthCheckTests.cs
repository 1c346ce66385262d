using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrleansLocks.Client.Health;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Health;

/// <summary>The client health check of code co-hosted in a silo, which reaches the lock grains without a gateway.</summary>
[Collection(MemoryClusterCollection.Name)]
public sealed class CoHostedClientHealthCheckTests(MemoryClusterFixture fixture)
{
    [Fact]
    public async Task ACoHostedClient_IsNotUnhealthyWithoutAnyGateway_SayingItIsInTheSilo()
    {
        var silo = fixture.Cluster.Cluster.Silos[0].ServiceProvider;
        var check = ActivatorUtilities.CreateInstance<LockClientHealthCheck>(silo, new GatewayConnections());
        var registration = new HealthCheckRegistration(OrleansLocksClientHealthChecksBuilderExtensions.ClientCheckName, check, HealthStatus.Unhealthy, ["ready"]);

        var result = await check.CheckHealthAsync(new HealthCheckContext { Registration = registration });

        // Not Unhealthy for want of a gateway; other tests of this shared cluster may have made its
        // co-hosted handles lose leases, which would rightly make it Degraded.
        Assert.NotEqual(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("The client is in the silo", result.Description, StringComparison.Ordinal);
    }
}
