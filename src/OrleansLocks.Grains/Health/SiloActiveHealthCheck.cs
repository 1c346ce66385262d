using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace OrleansLocks.Grains.Health;

/// <summary>
/// Liveness: this silo is Active in its cluster (it joined, and has not started to stop or been
/// declared dead). Reads the silo's own status; it does not feed Orleans' membership votes.
/// </summary>
internal sealed class SiloActiveHealthCheck(ISiloStatusOracle oracle) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = oracle.CurrentStatus;
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy($"The silo is Active in its cluster.")
            : new HealthCheckResult(context.Registration.FailureStatus, $"The silo is {status}, not Active in its cluster."));
    }
}
