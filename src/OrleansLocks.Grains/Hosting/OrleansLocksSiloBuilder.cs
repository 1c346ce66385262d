using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OrleansLocks.Grains;
using OrleansLocks.Grains.Admin;
using OrleansLocks.Grains.Hosting;
using OrleansLocks.Grains.Storage;

namespace Orleans.Hosting;

/// <summary>
/// The second half of <see cref="OrleansLocksSiloBuilderExtensions.AddOrleansLocks"/>: where the lock
/// grains keep their state. Call exactly one of <see cref="UsePostgres"/> and <see cref="UseInMemory"/>;
/// a silo that calls neither refuses to start, naming both.
/// </summary>
public sealed class OrleansLocksSiloBuilder
{
    private readonly ISiloBuilder _silo;

    internal OrleansLocksSiloBuilder(ISiloBuilder silo) => _silo = silo;

    /// <summary>
    /// Keeps locks in PostgreSQL (plain JSON state in the Orleans ADO.NET grain storage table, rows never
    /// deleted), written by the silo's group-commit writer unless <see cref="LockStorageOptions.Writer"/>
    /// chooses the Orleans ADO.NET provider (registered either way under
    /// <paramref name="storageProviderName"/>, and reading the same rows); applies the schema at start-up unless <see cref="LockStorageOptions.ApplySchema"/> is
    /// off, and registers the sweep reminder, which needs a reminder service (e.g.
    /// <c>UseAdoNetReminderService</c>). The connection string becomes
    /// <see cref="LockStorageOptions.ConnectionString"/>; the storage uses it with the Npgsql settings
    /// that suit its few repeated statements, each unless the string names that key itself.
    /// </summary>
    /// <param name="connectionString">The PostgreSQL connection string (Npgsql syntax).</param>
    /// <param name="storageProviderName">The name the grain storage provider is registered under.</param>
    /// <returns>The silo builder, to go on configuring the silo.</returns>
    /// <exception cref="InvalidOperationException">The lock storage of this silo is already chosen.</exception>
    public ISiloBuilder UsePostgres(string connectionString, string storageProviderName = LockStorageOptions.DefaultStorageProviderName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentException.ThrowIfNullOrWhiteSpace(storageProviderName);
        Choose(new ChosenLockStorage(storageProviderName, IsPostgres: true), connectionString);
        _silo.AddAdoNetGrainStorage(storageProviderName, ado => ado.Configure<IOptions<LockStorageOptions>>((options, storage) =>
        {
            options.Invariant = "Npgsql";
            if (storage.Value.ConnectionString is { } chosen)
            {
                options.ConnectionString = OrleansLocksSiloBuilderExtensions.TunedForLocks(chosen);
            }

            options.GrainStorageSerializer = new LockStateJsonSerializer();

            // Never delete rows: a re-created row would restart its version at 1, and a stale
            // activation's old ETag could then match it. Clearing keeps the row and its version.
            options.DeleteStateOnClear = false;
        }));

        // The default writer of lock rows (LockStorageOptions.Writer); the provider above stays
        // registered either way: it is the reference store, and reads the same rows.
        _silo.Services.TryAddSingleton<GroupCommitLockWriterLifetime>();
        _silo.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ILifecycleParticipant<ISiloLifecycle>, GroupCommitLockWriterLifetime>(
            sp => sp.GetRequiredService<GroupCommitLockWriterLifetime>()));
        return _silo;
    }

    /// <summary>
    /// Keeps locks in the silo's memory: for development and tests. Locks are lost when the silo stops,
    /// and each silo has its own (so run one silo); the silo logs a warning saying so at start.
    /// </summary>
    /// <param name="storageProviderName">The name the grain storage provider is registered under.</param>
    /// <returns>The silo builder, to go on configuring the silo.</returns>
    /// <exception cref="InvalidOperationException">The lock storage of this silo is already chosen.</exception>
    public ISiloBuilder UseInMemory(string storageProviderName = LockStorageOptions.DefaultStorageProviderName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(storageProviderName);
        Choose(new ChosenLockStorage(storageProviderName, IsPostgres: false), connectionString: null);
        _silo.AddMemoryGrainStorage(storageProviderName, options => options.GrainStorageSerializer = new LockStateJsonSerializer());

        // The lock grains write through this wrapper, which records each lock for the admin list.
        _silo.Services.TryAddSingleton(sp => new IndexedGrainStorage(
            sp.GetRequiredKeyedService<Orleans.Storage.IGrainStorage>(storageProviderName), sp.GetRequiredService<IGrainFactory>()));
        return _silo;
    }

    private void Choose(ChosenLockStorage choice, string? connectionString)
    {
        if (_silo.Services.FirstOrDefault(d => d.ServiceType == typeof(ChosenLockStorage))?.ImplementationInstance is ChosenLockStorage earlier)
        {
            throw new InvalidOperationException(
                $"The lock storage of this silo is already chosen ({earlier.Describe()}); call UsePostgres or UseInMemory once.");
        }

        _silo.Services.AddSingleton(choice);

        // Registered after AddOrleansLocks' configuration binding and delegates, so the explicit choice
        // wins over them; a change made later still is refused at start (LockStorageChoiceValidator).
        _silo.Services.Configure<LockStorageOptions>(options =>
        {
            options.StorageProviderName = choice.StorageProviderName;
            options.ConnectionString = connectionString;
        });
    }
}
