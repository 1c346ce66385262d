using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrleansLocks.Grains;
using OrleansLocks.Grains.Health;
using OrleansLocks.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the OrleansLocks silo health checks to an ASP.NET Core (or any) health check registration.</summary>
public static class OrleansLocksHealthChecksBuilderExtensions
{
    /// <summary>The tag of the checks that say the silo process is alive: map them to a liveness endpoint.</summary>
    public const string LiveTag = "live";

    /// <summary>The tag of the checks that say the silo can serve locks: map them to a readiness endpoint.</summary>
    public const string ReadyTag = "ready";

    /// <summary>The name of the check that the silo is Active in its cluster (tags live and ready; Unhealthy otherwise).</summary>
    public const string SiloCheckName = "orleanslocks-silo";

    /// <summary>The name of the check that PostgreSQL answers <c>SELECT 1</c> within the timeout (tag ready; Unhealthy otherwise).</summary>
    public const string StorageCheckName = "orleanslocks-storage";

    /// <summary>The name of the check that the database's schema version stamp is the silo's (tag ready; Unhealthy otherwise).</summary>
    public const string SchemaCheckName = "orleanslocks-schema";

    /// <summary>The name of the check that the sweep succeeded within twice its interval (tag ready; Degraded otherwise).</summary>
    public const string SweepCheckName = "orleanslocks-sweep";

    /// <summary>
    /// Adds the health checks of a silo that hosts the lock grains (<c>siloBuilder.AddOrleansLocks()</c>):
    /// <c>orleanslocks-silo</c> (tags <c>live</c>, <c>ready</c>), <c>orleanslocks-storage</c>,
    /// <c>orleanslocks-schema</c> and <c>orleanslocks-sweep</c> (tag <c>ready</c>). With in-memory storage
    /// the storage, schema and sweep checks report healthy, as there is nothing to reach. These are plain
    /// health checks, not Orleans health-check participants: a database outage makes the silo not ready,
    /// but never weighs on the cluster's membership votes. The timeout is bound from
    /// <c>OrleansLocks:Health</c>, then <paramref name="configure"/> applies.
    /// </summary>
    /// <param name="builder">The health check registration (<c>services.AddHealthChecks()</c>).</param>
    /// <param name="configure">Changes the options after they are bound from configuration.</param>
    /// <returns>The same builder, to add more checks.</returns>
    public static IHealthChecksBuilder AddOrleansLocks(this IHealthChecksBuilder builder, Action<LockHealthCheckOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddValidatedOptions<LockHealthCheckOptions, LockHealthCheckOptionsValidator>(LockHealthCheckOptions.SectionName, configure);
        return builder
            .AddCheck<SiloActiveHealthCheck>(SiloCheckName, HealthStatus.Unhealthy, [LiveTag, ReadyTag])
            .AddCheck<LockStorageHealthCheck>(StorageCheckName, HealthStatus.Unhealthy, [ReadyTag])
            .AddCheck<LockSchemaHealthCheck>(SchemaCheckName, HealthStatus.Unhealthy, [ReadyTag])
            .AddCheck<LockSweepHealthCheck>(SweepCheckName, HealthStatus.Degraded, [ReadyTag]);
    }
}
