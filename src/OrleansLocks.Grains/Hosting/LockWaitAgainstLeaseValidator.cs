using Microsoft.Extensions.Options;

namespace OrleansLocks.Grains.Hosting;

/// <summary>
/// Checks at start-up the rule between <see cref="LockWaitOptions.PollInterval"/> and
/// <see cref="LockLeaseOptions.LeaseTimeout"/>: a waiter counts its lease from when it sent the wait
/// call that was granted (the grant may have come at any moment of that call), so a call that stays
/// open longer than half a lease could deliver a lease the waiter must already presume nearly or
/// wholly gone.
/// </summary>
internal sealed class LockWaitAgainstLeaseValidator(IOptions<LockLeaseOptions> lease) : IValidateOptions<LockWaitOptions>
{
    public ValidateOptionsResult Validate(string? name, LockWaitOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var leaseTimeout = lease.Value.LeaseTimeout;
        return options.PollInterval.Ticks > leaseTimeout.Ticks / 2
            ? ValidateOptionsResult.Fail(
                $"PollInterval must be at most half of the LeaseTimeout (was {options.PollInterval} with LeaseTimeout {leaseTimeout}): a waiter's lease counts from when it sent the wait call that was granted, so a longer call could hand over a lease that is already nearly over.")
            : ValidateOptionsResult.Success;
    }
}
