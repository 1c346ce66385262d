using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OrleansLocks;
using OrleansLocks.Hosting;
using OrleansLocks.Client;
using OrleansLocks.Client.Diagnostics;

namespace Orleans.Hosting;

/// <summary>Registers <see cref="ILockProvider"/> in an Orleans client or silo.</summary>
public static class OrleansLocksClientExtensions
{
    /// <summary>
    /// Adds <see cref="ILockProvider"/> to an Orleans client. The options are bound from the
    /// configuration sections <c>OrleansLocks:Client</c> and <c>OrleansLocks:Lease</c>, then the
    /// delegates given here apply.
    /// </summary>
    public static IClientBuilder AddOrleansLocks(
        this IClientBuilder builder,
        Action<LockClientOptions>? configureClient = null,
        Action<LockLeaseOptions>? configureLease = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOrleansLocksClient(configureClient, configureLease);
        return builder;
    }

    /// <summary>
    /// Adds <see cref="ILockProvider"/> to a service collection that hosts an Orleans client or a
    /// silo (for code co-hosted with the lock grains), with options bound from the configuration
    /// sections <c>OrleansLocks:Client</c> and <c>OrleansLocks:Lease</c> and then the delegates given
    /// here, validated at start, the owner call filter, release of every held lock when the host stops,
    /// and the client's metrics and spans (meter and activity source <see cref="OrleansLocksTelemetry.MeterName"/>).
    /// </summary>
    public static IServiceCollection AddOrleansLocksClient(
        this IServiceCollection services,
        Action<LockClientOptions>? configureClient = null,
        Action<LockLeaseOptions>? configureLease = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddValidatedOptions<LockClientOptions, LockClientOptionsValidator>(LockClientOptions.SectionName, configureClient);
        services.AddValidatedOptions<LockLeaseOptions, LockLeaseOptionsValidator>(LockLeaseOptions.SectionName, configureLease);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LockClientOptions>, ClockSkewAgainstLeaseValidator>());
        services.TryAddSingleton(TimeProvider.System);

        // The meter comes from the host's IMeterFactory (Orleans registers one too; this is idempotent).
        services.AddMetrics();
        services.TryAddSingleton<LockClientInstruments>();
        services.TryAddSingleton<OrleansLocks.Client.Health.RecentLeaseLosses>();
        services.TryAddSingleton<HeldLocks>();
        services.TryAddSingleton<LockProvider>();
        services.TryAddSingleton<ILockProvider>(sp => sp.GetRequiredService<LockProvider>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOutgoingGrainCallFilter, LockOwnerCallFilter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, LockReleaseOnShutdown>());
        return services;
    }
}
