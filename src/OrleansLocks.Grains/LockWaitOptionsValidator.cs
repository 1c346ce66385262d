using Microsoft.Extensions.Options;

namespace OrleansLocks.Grains;

/// <summary>Checks <see cref="LockWaitOptions"/> at start-up.</summary>
public sealed class LockWaitOptionsValidator : IValidateOptions<LockWaitOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, LockWaitOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.PollInterval <= TimeSpan.Zero || options.PollInterval > TimeSpan.FromMinutes(10))
        {
            failures.Add($"PollInterval must be positive and at most 10 minutes (was {options.PollInterval}); keep it below the callers' response timeout.");
        }

        if (options.WaiterTimeout <= TimeSpan.Zero || options.WaiterTimeout > TimeSpan.FromMinutes(10))
        {
            failures.Add($"WaiterTimeout must be positive and at most 10 minutes (was {options.WaiterTimeout}).");
        }

        if (options.MaxWaiters is < 1 or > 1_000_000)
        {
            failures.Add($"MaxWaiters must be between 1 and 1,000,000 (was {options.MaxWaiters}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
