using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrleansLocks.Client;
using OrleansLocks.Client.Health;
using OrleansLocks.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the OrleansLocks client health check to a health check registration.</summary>
public static class OrleansLocksClientHealthChecksBuilderExtensions
{
    /// <summary>The name of the client health check.</summary>
    public const string ClientCheckName = "orleanslocks-client";

    /// <summary>
    /// Adds the check <c>orleanslocks-client</c> (tag <c>ready</c>) to a host that uses
    /// <c>ILockProvider</c> (<c>AddOrleansLocksClient</c>): Unhealthy while the Orleans client is
    /// connected to no gateway; Degraded while a lease was lost within
    /// <see cref="LockClientHealthCheckOptions.RecentLossWindow"/>. The options are bound from
    /// <c>OrleansLocks:ClientHealth</c>, then <paramref name="configure"/> applies. Call it on the same
    /// services as the Orleans client, before the host is built: the client reports its gateway
    /// connections to an observer this registers.
    /// </summary>
    /// <param name="builder">The health check registration (<c>services.AddHealthChecks()</c>).</param>
    /// <param name="configure">Changes the options after they are bound from configuration.</param>
    /// <returns>The same builder, to add more checks.</returns>
    public static IHealthChecksBuilder AddOrleansLocksClient(this IHealthChecksBuilder builder, Action<LockClientHealthCheckOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddValidatedOptions<LockClientHealthCheckOptions, LockClientHealthCheckOptionsValidator>(LockClientHealthCheckOptions.SectionName, configure);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RecentLeaseLosses>();
        services.TryAddSingleton<GatewayConnections>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IClusterConnectionStatusObserver, GatewayConnections>(sp => sp.GetRequiredService<GatewayConnections>()));
        return builder.AddCheck<LockClientHealthCheck>(ClientCheckName, HealthStatus.Unhealthy, ["ready"]);
    }
}
