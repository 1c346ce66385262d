using Medallion.Threading;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OrleansLocks.Client;
using OrleansLocks.DistributedLock;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the DistributedLock adapter: <c>services.AddOrleansLocksDistributedLock()</c>.</summary>
public static class OrleansLocksDistributedLockServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="OrleansLocksDistributedLockProvider"/> as DistributedLock's
    /// <see cref="IDistributedLockProvider"/>, <see cref="IDistributedReaderWriterLockProvider"/>,
    /// <see cref="IDistributedSemaphoreProvider"/> and <see cref="IDistributedUpgradeableReaderWriterLockProvider"/>, in
    /// place of any registered before, over the registered <see cref="ILockProvider"/> (add it with
    /// <c>clientBuilder.AddOrleansLocks()</c> or <c>services.AddOrleansLocksClient()</c>; in an Orleans
    /// client, <c>clientBuilder.AddOrleansLocksDistributedLock()</c> does both).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the lock names the adapter uses; the defaults when omitted.</param>
    /// <exception cref="ArgumentException">An option breaks its rule (checked here, at registration).</exception>
    public static IServiceCollection AddOrleansLocksDistributedLock(this IServiceCollection services, Action<OrleansLocksDistributedLockOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new OrleansLocksDistributedLockOptions();
        configure?.Invoke(options);
        options.Validate();
        services.RemoveAll<OrleansLocksDistributedLockProvider>();
        services.RemoveAll<IDistributedLockProvider>();
        services.RemoveAll<IDistributedReaderWriterLockProvider>();
        services.RemoveAll<IDistributedSemaphoreProvider>();
        services.RemoveAll<IDistributedUpgradeableReaderWriterLockProvider>();
        services.AddSingleton(sp => new OrleansLocksDistributedLockProvider(sp.GetRequiredService<ILockProvider>(), options));
        services.AddSingleton<IDistributedLockProvider>(sp => sp.GetRequiredService<OrleansLocksDistributedLockProvider>());
        services.AddSingleton<IDistributedReaderWriterLockProvider>(sp => sp.GetRequiredService<OrleansLocksDistributedLockProvider>());
        services.AddSingleton<IDistributedSemaphoreProvider>(sp => sp.GetRequiredService<OrleansLocksDistributedLockProvider>());
        services.AddSingleton<IDistributedUpgradeableReaderWriterLockProvider>(sp => sp.GetRequiredService<OrleansLocksDistributedLockProvider>());
        return services;
    }
}
