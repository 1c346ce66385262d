using Microsoft.Extensions.Options;

namespace OrleansLocks.Client;

/// <summary>Checks <see cref="LockClientHealthCheckOptions"/> at start-up (the ranges written on its options).</summary>
[OptionsValidator]
internal sealed partial class LockClientHealthCheckOptionsValidator : IValidateOptions<LockClientHealthCheckOptions>;
