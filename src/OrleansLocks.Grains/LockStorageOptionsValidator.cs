using Microsoft.Extensions.Options;

namespace OrleansLocks.Grains;

/// <summary>
/// Checks <see cref="LockStorageOptions"/> at start-up: each option's own range (the attributes on the
/// options, checked by a generated validator) and the rules a range cannot say.
/// </summary>
internal sealed class LockStorageOptionsValidator : IValidateOptions<LockStorageOptions>
{
    private static readonly LockStorageOptionsRangeValidator Ranges = new();
    private static readonly TimeSpan MaxSweepInterval = TimeSpan.FromDays(49);
    private static readonly TimeSpan MaxFreeRowRetention = TimeSpan.FromDays(365);

    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, LockStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = new ValidateOptionsResultBuilder();
        if (string.IsNullOrWhiteSpace(options.StorageProviderName))
        {
            result.AddError("StorageProviderName must be a non-empty name.");
        }

        if (options.ConnectionString is { } cs && string.IsNullOrWhiteSpace(cs))
        {
            result.AddError("ConnectionString must be null (in-memory storage) or a PostgreSQL connection string, not blank.");
        }

        // Upper bounds by hand, so that the attributes' messages (lower bounds) stay as they are.
        // Beyond these a value is not refused by anything but breaks at run time: Orleans refuses a
        // reminder period over uint.MaxValue - 1 ms, and "now - retention" overflows the calendar.
        if (options.SweepInterval > MaxSweepInterval)
        {
            result.AddError($"SweepInterval must be at most 49 days, the longest period an Orleans reminder takes (was {options.SweepInterval}).");
        }

        if (options.FreeRowRetention > MaxFreeRowRetention)
        {
            result.AddError($"FreeRowRetention must be at most 365 days (was {options.FreeRowRetention}).");
        }

        result.AddResult(Ranges.Validate(name, options));
        return result.Build();
    }
}

/// <summary>The single-option ranges of <see cref="LockStorageOptions"/>, generated from their attributes.</summary>
[OptionsValidator]
internal sealed partial class LockStorageOptionsRangeValidator : IValidateOptions<LockStorageOptions>;
