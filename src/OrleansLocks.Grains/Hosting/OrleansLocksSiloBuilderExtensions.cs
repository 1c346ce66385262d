using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Storage;
using OrleansLocks;
using OrleansLocks.Grains;
using OrleansLocks.Grains.Hosting;
using OrleansLocks.Grains.Locking;
using OrleansLocks.Grains.Storage;
using OrleansLocks.Grains.Sweep;

namespace Orleans.Hosting;

/// <summary>Adds the OrleansLocks lock grains to a silo.</summary>
public static class OrleansLocksSiloBuilderExtensions
{
    /// <summary>
    /// Hosts the lock grains in this silo with their storage: PostgreSQL through the Orleans ADO.NET
    /// provider when <see cref="LockStorageOptions.ConnectionString"/> is set (the sweep then needs a
    /// reminder service, e.g. <c>UseAdoNetReminderService</c>), else in-memory storage.
    /// Code in the silo that wants <c>ILockProvider</c> also calls <c>services.AddOrleansLocksClient()</c>.
    /// </summary>
    /// <remarks>
    /// The storage provider is chosen from <paramref name="configureStorage"/> alone, when this is
    /// called: <see cref="LockStorageOptions"/> configured elsewhere do not change it.
    /// </remarks>
    public static ISiloBuilder AddOrleansLocks(
        this ISiloBuilder builder,
        Action<LockStorageOptions>? configureStorage = null,
        Action<LockLeaseOptions>? configureLease = null,
        Action<LockWaitOptions>? configureWait = null)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // The storage provider is chosen now, from the same delegate the options are built from.
        var storage = new LockStorageOptions();
        configureStorage?.Invoke(storage);
        var serializer = new LockStateJsonSerializer();
        if (storage.ConnectionString is { } connectionString)
        {
            builder.AddAdoNetGrainStorage(storage.StorageProviderName, options =>
            {
                options.Invariant = "Npgsql";
                options.ConnectionString = TunedForLocks(connectionString);
                options.GrainStorageSerializer = serializer;

                // Never delete rows: a re-created row would restart its version at 1, and a stale
                // activation's old ETag could then match it. Clearing keeps the row and its version.
                options.DeleteStateOnClear = false;
            });
        }
        else
        {
            builder.AddMemoryGrainStorage(storage.StorageProviderName, options => options.GrainStorageSerializer = serializer);
        }

        builder.Services.AddOrleansLocksGrains(configureStorage, configureLease, configureWait);
        return builder;
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
    /// Registers the lock grains' options, validators and start-up work. <see cref="AddOrleansLocks"/>
    /// calls this; call it directly only when you register the storage provider named
    /// <see cref="LockStorageOptions.StorageProviderName"/> yourself.
    /// </summary>
    public static IServiceCollection AddOrleansLocksGrains(
        this IServiceCollection services,
        Action<LockStorageOptions>? configureStorage = null,
        Action<LockLeaseOptions>? configureLease = null,
        Action<LockWaitOptions>? configureWait = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptionsWithValidateOnStart<LockLeaseOptions>().Configure(o => configureLease?.Invoke(o));
        services.AddOptionsWithValidateOnStart<LockStorageOptions>().Configure(o => configureStorage?.Invoke(o));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LockLeaseOptions>, LockLeaseOptionsValidator>());
        services.AddOptionsWithValidateOnStart<LockWaitOptions>().Configure(o => configureWait?.Invoke(o));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LockStorageOptions>, LockStorageOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LockWaitOptions>, LockWaitOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IStoredLockCatalog, PostgresStoredLockCatalog>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILifecycleParticipant<ISiloLifecycle>, LockSiloStartup>());
        services.TryAddSingleton<OpenWaitRegistry>();
        services.TryAddSingleton<LockGrainSettings>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILifecycleParticipant<ISiloLifecycle>, OpenWaitRegistry>(sp => sp.GetRequiredService<OpenWaitRegistry>()));
        return services;
    }
}
