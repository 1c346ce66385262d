namespace OrleansLocks.Grains;

/// <summary>How the silo's OrleansLocks health checks probe their dependencies. Silo side.</summary>
public sealed class LockHealthCheckOptions
{
    /// <summary>The configuration section: <c>OrleansLocks:Health</c>.</summary>
    public const string SectionName = "OrleansLocks:Health";

    /// <summary>
    /// How long the storage and schema checks wait for PostgreSQL (connect and one query) before they
    /// report it unreachable, and how long the sweep check waits for the sweeper's answer. Short, so
    /// that a probe never hangs on a database that does not answer. From 100 ms to 1 minute.
    /// </summary>
    /// <value>The default is 2 seconds.</value>
    [ValueRange(typeof(TimeSpan), "00:00:00.100", "00:01:00", ErrorMessage = "{0} must be from 100 ms to 1 minute (was {1}).")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(2);
}
