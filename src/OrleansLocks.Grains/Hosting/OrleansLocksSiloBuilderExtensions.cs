using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OrleansLocks;
using OrleansLocks.Hosting;
using OrleansLocks.Grains;
using OrleansLocks.Grains.Admin;
using OrleansLocks.Grains.Diagnostics;
using OrleansLocks.Grains.Hosting;
using OrleansLocks.Grains.Locking;
using OrleansLocks.Grains.Storage;
using OrleansLocks.Grains.Sweep;

namespace Orleans.Hosting;

/// <summary>Adds the OrleansLocks lock grains to a silo.</summary>
public static class OrleansLocksSiloBuilderExtensions
{
    /// <summary>
    /// Hosts the lock grains in this silo; then choose their storage on the result:
    /// <c>silo.AddOrleansLocks().UsePostgres(connectionString)</c> or <c>.UseInMemory()</c>. The options
    /// are bound from the configuration sections <c>OrleansLocks:Storage</c>, <c>OrleansLocks:Lease</c>,
    /// <c>OrleansLocks:Wait</c> and <c>OrleansLocks:Admin</c>, then the delegates given here apply. Code in the silo that wants
    /// <c>ILockProvider</c> also calls <c>services.AddOrleansLocksClient()</c>.
    /// </summary>
    /// <returns>The step that chooses where locks are stored.</returns>
    public static OrleansLocksSiloBuilder AddOrleansLocks(
        this ISiloBuilder builder,
        Action<LockStorageOptions>? configureStorage = null,
        Action<LockLeaseOptions>? configureLease = null,
        Action<LockWaitOptions>? configureWait = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOrleansLocksGrains(configureStorage, configureLease, configureWait);
        return new OrleansLocksSiloBuilder(builder);
    }

    /// <summary>
    /// The storage connection string with the Npgsql settings that suit the provider's few, repeated
    /// statements, each unless the connection string names that key itself (then its value is kept as
    /// written): statements prepared on the server after two uses (<c>Max Auto Prepare=20</c>,
    /// <c>Auto Prepare Min Usages=2</c>), and no session reset when a pooled connection is reused
    /// (<c>No Reset On Close=true</c>; the provider keeps no session state). Without them every write
    /// sends a <c>DISCARD ALL</c> first and re-plans the write function.
    /// </summary>
    /// <remarks>
    /// Which keys the string names is read with a plain <see cref="System.Data.Common.DbConnectionStringBuilder"/>:
    /// <c>NpgsqlConnectionStringBuilder.ContainsKey</c> answers whether Npgsql knows a keyword, which is
    /// true for every one of these whether the string sets it or not.
    /// </remarks>
    internal static string TunedForLocks(string connectionString)
    {
        var named = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.Keys
            .Cast<string>()
            .Select(key => key.Replace(" ", "", StringComparison.Ordinal))
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        if (!named.Contains("MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = 20;
        }

        if (!named.Contains("AutoPrepareMinUsages"))
        {
            builder.AutoPrepareMinUsages = 2;
        }

        if (!named.Contains("NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }

        return builder.ConnectionString;
    }

    /// <summary>
    /// Registers the lock grains' options (bound from their configuration sections, then
    /// <paramref name="configureStorage"/>, <paramref name="configureLease"/> and
    /// <paramref name="configureWait"/>), their validators and start-up work, without a storage
    /// provider. <see cref="AddOrleansLocks"/> calls this; call it directly only when you register the
    /// grain storage provider named <see cref="LockStorageOptions.StorageProviderName"/> yourself (the
    /// silo refuses to start if none is registered under that name).
    /// </summary>
    public static IServiceCollection AddOrleansLocksGrains(
        this IServiceCollection services,
        Action<LockStorageOptions>? configureStorage = null,
        Action<LockLeaseOptions>? configureLease = null,
        Action<LockWaitOptions>? configureWait = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddValidatedOptions<LockStorageOptions, LockStorageOptionsValidator>(LockStorageOptions.SectionName, configureStorage);
        services.AddValidatedOptions<LockLeaseOptions, LockLeaseOptionsValidator>(LockLeaseOptions.SectionName, configureLease);
        services.AddValidatedOptions<LockWaitOptions, LockWaitOptionsValidator>(LockWaitOptions.SectionName, configureWait);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LockStorageOptions>, LockStorageChoiceValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LockWaitOptions>, LockWaitAgainstLeaseValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IStoredLockCatalog, PostgresStoredLockCatalog>();
        services.AddValidatedOptions<LockAdminOptions, LockAdminOptionsValidator>(LockAdminOptions.SectionName, configure: null);
        services.TryAddSingleton<IStoredLockListing>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<LockStorageOptions>>().Value;
            return options.ConnectionString is { } connectionString
                ? new PostgresStoredLockListing(connectionString, sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId)
                : new InMemoryStoredLockListing(sp.GetRequiredService<IGrainFactory>(), sp.GetRequiredKeyedService<Orleans.Storage.IGrainStorage>(options.StorageProviderName));
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILifecycleParticipant<ISiloLifecycle>, LockSiloStartup>());
        services.TryAddSingleton<OpenWaitRegistry>();
        services.TryAddSingleton(sp =>
        {
            var grains = sp.GetRequiredService<IGrainFactory>();
            return new ExpirySchedule(
                sp.GetRequiredService<TimeProvider>(),
                lockId => grains.GetGrain<ILockDue>(lockId).OnDue(),
                sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<ExpirySchedule>>());
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILifecycleParticipant<ISiloLifecycle>, ExpirySchedule>(sp => sp.GetRequiredService<ExpirySchedule>()));
        services.AddMetrics();
        services.TryAddSingleton<LockSiloInstruments>();
        services.TryAddSingleton<LockGrainSettings>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILifecycleParticipant<ISiloLifecycle>, OpenWaitRegistry>(sp => sp.GetRequiredService<OpenWaitRegistry>()));
        return services;
    }
}
