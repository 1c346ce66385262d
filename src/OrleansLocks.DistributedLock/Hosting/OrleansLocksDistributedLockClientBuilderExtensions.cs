using Microsoft.Extensions.DependencyInjection;
using OrleansLocks.Client;
using OrleansLocks.DistributedLock;

namespace Orleans.Hosting;

/// <summary>Adds the DistributedLock adapter to an Orleans client in one line.</summary>
public static class OrleansLocksDistributedLockClientBuilderExtensions
{
    /// <summary>
    /// Adds OrleansLocks' <see cref="ILockProvider"/> (unless one is registered already) and registers
    /// <see cref="OrleansLocksDistributedLockProvider"/> as DistributedLock's providers (see
    /// <see cref="OrleansLocksDistributedLockServiceCollectionExtensions.AddOrleansLocksDistributedLock"/>).
    /// </summary>
    /// <param name="builder">The Orleans client builder.</param>
    /// <param name="configure">Sets the lock names the adapter uses; the defaults when omitted.</param>
    /// <exception cref="ArgumentException">An option breaks its rule (checked here, at registration).</exception>
    public static IClientBuilder AddOrleansLocksDistributedLock(this IClientBuilder builder, Action<OrleansLocksDistributedLockOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!builder.Services.Any(d => d.ServiceType == typeof(ILockProvider)))
        {
            builder.AddOrleansLocks();
        }

        builder.Services.AddOrleansLocksDistributedLock(configure);
        return builder;
    }
}
