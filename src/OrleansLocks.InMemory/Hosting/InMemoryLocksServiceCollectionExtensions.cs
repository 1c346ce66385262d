using Microsoft.Extensions.DependencyInjection.Extensions;
using OrleansLocks.Client;
using OrleansLocks.InMemory;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the in-memory <see cref="ILockProvider"/> for tests.</summary>
public static class InMemoryLocksServiceCollectionExtensions
{
    /// <summary>
    /// Registers an <see cref="InMemoryLockProvider"/> as the <see cref="ILockProvider"/>, in place of
    /// any registered before (such as the real client's), so that code under test takes in-memory
    /// locks. Its clock is the registered <see cref="TimeProvider"/> (register a <c>FakeTimeProvider</c>
    /// to drive it), else the system clock. Resolve <see cref="InMemoryLockProvider"/> to reach
    /// <see cref="InMemoryLockProvider.Expire"/> and <see cref="InMemoryLockProvider.StopRenewing"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the owner and the lease figures; the defaults when omitted.</param>
    /// <exception cref="ArgumentException">An option breaks its rule (checked here, at registration).</exception>
    public static IServiceCollection AddInMemoryOrleansLocks(this IServiceCollection services, Action<InMemoryLockOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new InMemoryLockOptions();
        configure?.Invoke(options);
        options.Validate(nameof(configure));
        services.TryAddSingleton(TimeProvider.System);
        services.RemoveAll<InMemoryLockProvider>();
        services.RemoveAll<ILockProvider>();
        services.AddSingleton(sp => new InMemoryLockProvider(sp.GetRequiredService<TimeProvider>(), options));
        services.AddSingleton<ILockProvider>(sp => sp.GetRequiredService<InMemoryLockProvider>());
        return services;
    }
}
