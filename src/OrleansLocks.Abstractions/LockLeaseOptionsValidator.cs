using Microsoft.Extensions.Options;

namespace OrleansLocks;

/// <summary>Checks <see cref="LockLeaseOptions"/> at start-up.</summary>
public sealed class LockLeaseOptionsValidator : IValidateOptions<LockLeaseOptions>
{
    // A lease nobody renews for a day is already a lock nobody can take; far longer ones would
    // also run expiry times past what DateTimeOffset can represent.
    private static readonly TimeSpan MaxLeaseTimeout = TimeSpan.FromDays(1);

    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, LockLeaseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.LeaseTimeout <= TimeSpan.Zero || options.LeaseTimeout > MaxLeaseTimeout)
        {
            failures.Add($"LeaseTimeout must be positive and at most 1 day (was {options.LeaseTimeout}).");
        }

        if (options.RenewalInterval <= TimeSpan.Zero)
        {
            failures.Add($"RenewalInterval must be positive (was {options.RenewalInterval}).");
        }
        else if (options.RenewalInterval * 3 > options.LeaseTimeout)
        {
            failures.Add(
                $"RenewalInterval must be at most a third of LeaseTimeout (was {options.RenewalInterval} with LeaseTimeout {options.LeaseTimeout}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
