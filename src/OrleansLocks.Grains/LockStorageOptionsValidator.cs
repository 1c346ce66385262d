using Microsoft.Extensions.Options;

namespace OrleansLocks.Grains;

/// <summary>
/// Checks <see cref="LockStorageOptions"/> at start-up: each option's own range (the attributes on the
/// options, checked by a generated validator) and the rules a range cannot say.
/// </summary>
internal sealed class LockStorageOptionsValidator : IValidateOptions<LockStorageOptions>
{
    private static readonly LockStorageOptionsRangeValidator Ranges = new();

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

        result.AddResult(Ranges.Validate(name, options));
        return result.Build();
    }
}

/// <summary>The single-option ranges of <see cref="LockStorageOptions"/>, generated from their attributes.</summary>
[OptionsValidator]
internal sealed partial class LockStorageOptionsRangeValidator : IValidateOptions<LockStorageOptions>;
