using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace OrleansLocks.Grains.Hosting;

/// <summary>The storage a silo chose with <c>UsePostgres</c> or <c>UseInMemory</c>; registered once.</summary>
internal sealed record ChosenLockStorage(string StorageProviderName, bool IsPostgres)
{
    public string Describe() => $"{(IsPostgres ? "PostgreSQL" : "in-memory")} as '{StorageProviderName}'";
}

/// <summary>
/// Checks at start-up that the lock grains have the storage <see cref="LockStorageOptions"/> names: a
/// grain storage provider registered under <see cref="LockStorageOptions.StorageProviderName"/>, and a
/// connection string exactly when PostgreSQL was chosen.
/// </summary>
internal sealed class LockStorageChoiceValidator(IServiceProvider services) : IValidateOptions<LockStorageOptions>
{
    public ValidateOptionsResult Validate(string? name, LockStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = new ValidateOptionsResultBuilder();
        switch (services.GetService<ChosenLockStorage>())
        {
            case { IsPostgres: true } when options.ConnectionString is null:
                result.AddError("ConnectionString must be set when the lock storage is PostgreSQL (UsePostgres), but was set to null after it.");
                break;
            case { IsPostgres: false } when options.ConnectionString is not null:
                result.AddError("ConnectionString must be null when the lock storage is in-memory (UseInMemory), but was set after it.");
                break;
        }

        if (!string.IsNullOrWhiteSpace(options.StorageProviderName)
            && services.GetService<IServiceProviderIsKeyedService>() is { } keyed
            && !keyed.IsKeyedService(typeof(IGrainStorage), options.StorageProviderName))
        {
            result.AddError(
                $"The lock grains have no storage: no grain storage provider is registered under StorageProviderName '{options.StorageProviderName}'. "
                + "Choose one with siloBuilder.AddOrleansLocks().UsePostgres(connectionString) or .UseInMemory(), or register a provider under that name.");
        }

        return result.Build();
    }
}
