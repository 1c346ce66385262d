using Microsoft.Extensions.Options;

namespace OrleansLocks.Grains;

/// <summary>Checks <see cref="LockHealthCheckOptions"/> at start-up (the ranges written on its options).</summary>
[OptionsValidator]
internal sealed partial class LockHealthCheckOptionsValidator : IValidateOptions<LockHealthCheckOptions>;
