using Microsoft.Extensions.Options;

namespace OrleansLocks.Client;

/// <summary>
/// Checks <see cref="LockClientOptions"/> at start-up: the owner rule (shared with the grains) and each
/// option's own range (the attributes on the options, checked by a generated validator).
/// </summary>
public sealed class LockClientOptionsValidator : IValidateOptions<LockClientOptions>
{
    private static readonly LockClientOptionsRangeValidator Ranges = new();

    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, LockClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = new ValidateOptionsResultBuilder();
        try
        {
            LockOwner.Validate(options.Owner, nameof(options.Owner));
        }
        catch (ArgumentException ex)
        {
            result.AddError(ex.Message);
        }

        // A cross-field rule, so by hand: the cap is never below the first pause.
        if (options.MaxRetryDelay < options.RetryDelay || options.MaxRetryDelay > TimeSpan.FromMinutes(1))
        {
            result.AddError($"MaxRetryDelay must be from RetryDelay ({options.RetryDelay}) to 1 minute (was {options.MaxRetryDelay}).");
        }

        result.AddResult(Ranges.Validate(name, options));
        return result.Build();
    }
}

/// <summary>The single-option ranges of <see cref="LockClientOptions"/>, generated from their attributes.</summary>
[OptionsValidator]
internal sealed partial class LockClientOptionsRangeValidator : IValidateOptions<LockClientOptions>;
