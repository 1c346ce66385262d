using Microsoft.Extensions.Options;

namespace OrleansLocks.Client;

/// <summary>Checks <see cref="LockClientOptions"/> at start-up.</summary>
public sealed class LockClientOptionsValidator : IValidateOptions<LockClientOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, LockClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        try
        {
            LockOwner.Validate(options.Owner, nameof(options.Owner));
        }
        catch (ArgumentException ex)
        {
            failures.Add(ex.Message);
        }

        if (options.MaxAttempts is < 1 or > 10)
        {
            failures.Add($"MaxAttempts must be from 1 to 10 (was {options.MaxAttempts}).");
        }

        if (options.RetryDelay < TimeSpan.Zero || options.RetryDelay > TimeSpan.FromSeconds(10))
        {
            failures.Add($"RetryDelay must be from 0 to 10 seconds (was {options.RetryDelay}).");
        }

        if (options.MaxRetryDelay < options.RetryDelay || options.MaxRetryDelay > TimeSpan.FromMinutes(1))
        {
            failures.Add($"MaxRetryDelay must be from RetryDelay ({options.RetryDelay}) to 1 minute (was {options.MaxRetryDelay}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
