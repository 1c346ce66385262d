using Microsoft.Extensions.Options;

namespace OrleansLocks.Grains;

/// <summary>
/// Checks <see cref="LockWaitOptions"/> at start-up. Every rule is one option's range, written as an
/// attribute on the option and checked by this generated validator.
/// </summary>
[OptionsValidator]
internal sealed partial class LockWaitOptionsValidator : IValidateOptions<LockWaitOptions>;
