using Microsoft.Extensions.Options;

namespace OrleansLocks.Client;

/// <summary>
/// Checks at start-up the rule between <see cref="LockClientOptions.ClockSkewAllowance"/> and
/// <see cref="LockLeaseOptions.LeaseTimeout"/>: the allowance is taken off every lease this process
/// holds, so it must leave at least two thirds of the lease to work and renew in.
/// </summary>
internal sealed class ClockSkewAgainstLeaseValidator(IOptions<LockLeaseOptions> lease) : IValidateOptions<LockClientOptions>
{
    /// <summary>The rule, named in the error.</summary>
    internal const string Rule = "ClockSkewAllowance must be zero or more and at most a third of the LeaseTimeout";

    public ValidateOptionsResult Validate(string? name, LockClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        TimeSpan leaseTimeout;
        try
        {
            leaseTimeout = lease.Value.LeaseTimeout;
        }
        catch (OptionsValidationException)
        {
            // The lease options are wrong themselves; their own validation says how, once.
            return ValidateOptionsResult.Skip;
        }

        return options.ClockSkewAllowance < TimeSpan.Zero || options.ClockSkewAllowance.Ticks > leaseTimeout.Ticks / 3
            ? ValidateOptionsResult.Fail(
                $"{Rule} (was {options.ClockSkewAllowance} with LeaseTimeout {leaseTimeout}): a handle counts its lease as lost that much early, so a larger allowance leaves too little of the lease to renew in.")
            : ValidateOptionsResult.Success;
    }
}
