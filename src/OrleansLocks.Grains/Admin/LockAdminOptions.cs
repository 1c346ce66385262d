using Microsoft.Extensions.Options;

namespace OrleansLocks.Grains;

/// <summary>How the admin operations (<see cref="OrleansLocks.Admin.ILockAdminGrain"/>) behave. Silo side.</summary>
public sealed class LockAdminOptions
{
    /// <summary>The configuration section: <c>OrleansLocks:Admin</c>.</summary>
    public const string SectionName = "OrleansLocks:Admin";

    /// <summary>
    /// After a forced release the lock grants nobody for the lease options' <c>RenewalInterval</c> plus
    /// this margin: by then the old holder has tried its next renewal, been refused, and its
    /// <c>HandleLostToken</c> has fired. The margin covers the network and a slow renewal. From 0 to 10
    /// minutes. (A holder whose process is stalled does not renew at all; it learns at its own lease
    /// deadline, and fencing tokens protect the resource meanwhile.)
    /// </summary>
    /// <value>The default is 5 seconds (with the default renewal interval, a 35-second lock-delay).</value>
    [ValueRange(typeof(TimeSpan), "00:00:00", "00:10:00", ErrorMessage = "{0} must be from 0 to 10 minutes (was {1}).")]
    public TimeSpan ForceReleaseMargin { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>Checks <see cref="LockAdminOptions"/> at start-up (each option's range, from its attribute).</summary>
[OptionsValidator]
internal sealed partial class LockAdminOptionsValidator : IValidateOptions<LockAdminOptions>;
