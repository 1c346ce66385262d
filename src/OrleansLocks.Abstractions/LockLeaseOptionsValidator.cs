using Microsoft.Extensions.Options;

namespace OrleansLocks;

/// <summary>
/// Checks <see cref="LockLeaseOptions"/> at start-up: each option's own range (the attributes on the
/// options, checked by a generated validator), then the rule between the two.
/// </summary>
public sealed class LockLeaseOptionsValidator : IValidateOptions<LockLeaseOptions>
{
    private static readonly LockLeaseOptionsRangeValidator Ranges = new();

    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, LockLeaseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = new ValidateOptionsResultBuilder();
        result.AddResult(Ranges.Validate(name, options));
        // By ticks, not RenewalInterval * 3: a huge interval would overflow TimeSpan instead of being refused.
        if (options.RenewalInterval > TimeSpan.Zero && options.RenewalInterval.Ticks > options.LeaseTimeout.Ticks / 3)
        {
            result.AddError(
                $"RenewalInterval must be at most a third of LeaseTimeout (was {options.RenewalInterval} with LeaseTimeout {options.LeaseTimeout}).");
        }

        return result.Build();
    }
}

/// <summary>The single-option ranges of <see cref="LockLeaseOptions"/>, generated from their attributes.</summary>
[OptionsValidator]
internal sealed partial class LockLeaseOptionsRangeValidator : IValidateOptions<LockLeaseOptions>;
