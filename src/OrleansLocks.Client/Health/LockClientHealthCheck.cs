using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace OrleansLocks.Client.Health;

/// <summary>
/// The lock client's health: Unhealthy when the Orleans client is connected to no gateway (it can
/// neither take nor renew a lock); Degraded when a lease was lost within
/// <see cref="LockClientHealthCheckOptions.RecentLossWindow"/>; Healthy otherwise. Code co-hosted in
/// a silo calls the cluster without a gateway, so there only lost leases count.
/// </summary>
internal sealed class LockClientHealthCheck(
    GatewayConnections gateways,
    RecentLeaseLosses losses,
    IOptions<LockClientHealthCheckOptions> options,
    IServiceProvider services) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // A silo's own client has no gateway: it is in the cluster.
        var inSilo = services.GetService(typeof(ILocalSiloDetails)) is not null;
        var connected = gateways.Connected;
        if (!inSilo && connected == 0)
        {
            return Task.FromResult(new HealthCheckResult(
                context.Registration.FailureStatus,
                gateways.EverConnected
                    ? "The Orleans client lost its connection to every gateway: locks can be neither taken nor renewed."
                    : "The Orleans client is not connected to any gateway yet."));
        }

        var window = options.Value.RecentLossWindow;
        var lost = losses.Within(window);
        var where = inSilo ? "in the silo" : $"connected to {connected} gateway{(connected == 1 ? "" : "s")}";
        if (lost.Count > 0)
        {
            var names = string.Join(", ", lost.Select(l => l.LockName).Distinct(StringComparer.Ordinal).Take(5));
            return Task.FromResult(HealthCheckResult.Degraded(
                $"The client is {where}, but lost {lost.Count} lease{(lost.Count == 1 ? "" : "s")} within the last {window.ToString("c", CultureInfo.InvariantCulture)} "
                + $"(locks {names}; the latest at {lost[^1].At.ToString("O", CultureInfo.InvariantCulture)})."));
        }

        return Task.FromResult(HealthCheckResult.Healthy($"The client is {where}; no lease lost within the last {window.ToString("c", CultureInfo.InvariantCulture)}."));
    }
}
