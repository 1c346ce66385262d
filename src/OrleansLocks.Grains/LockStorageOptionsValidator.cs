using Microsoft.Extensions.Options;

namespace OrleansLocks.Grains;

/// <summary>Checks <see cref="LockStorageOptions"/> at start-up.</summary>
public sealed class LockStorageOptionsValidator : IValidateOptions<LockStorageOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, LockStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.StorageProviderName))
        {
            failures.Add("StorageProviderName must be a non-empty name.");
        }

        if (options.ConnectionString is { } cs && string.IsNullOrWhiteSpace(cs))
        {
            failures.Add("ConnectionString must be null (in-memory storage) or a PostgreSQL connection string, not blank.");
        }

        if (options.SweepInterval < TimeSpan.FromMinutes(1))
        {
            failures.Add($"SweepInterval must be at least 1 minute, Orleans' minimum reminder period (was {options.SweepInterval}).");
        }

        if (options.FreeRowRetention <= TimeSpan.Zero)
        {
            failures.Add($"FreeRowRetention must be positive (was {options.FreeRowRetention}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
