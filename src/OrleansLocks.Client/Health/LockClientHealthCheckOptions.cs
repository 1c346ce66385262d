namespace OrleansLocks.Client;

/// <summary>What the client health check (<c>AddOrleansLocksClient</c> on a health check registration) counts as unwell.</summary>
public sealed class LockClientHealthCheckOptions
{
    /// <summary>The configuration section: <c>OrleansLocks:ClientHealth</c>.</summary>
    public const string SectionName = "OrleansLocks:ClientHealth";

    /// <summary>
    /// How long a lost lease keeps the client health check Degraded. From 1 second to 1 day.
    /// </summary>
    /// <value>The default is 5 minutes.</value>
    [ValueRange(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "{0} must be from 1 second to 1 day (was {1}).")]
    public TimeSpan RecentLossWindow { get; set; } = TimeSpan.FromMinutes(5);
}
