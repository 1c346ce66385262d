namespace OrleansLocks;

/// <summary>
/// The names under which OrleansLocks publishes its metrics and traces, for telemetry set-up
/// (OpenTelemetry: <c>AddMeter(OrleansLocksTelemetry.MeterName)</c> and
/// <c>AddSource(OrleansLocksTelemetry.ActivitySourceName)</c>).
/// </summary>
/// <remarks>
/// Both the client library and the lock grains publish under these names: one meter and one
/// activity source per process, whatever it hosts. Instruments are named <c>orleanslocks.*</c>;
/// their tags carry a lock's name and kind, never its key, its owner or a token.
/// </remarks>
public static class OrleansLocksTelemetry
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> every OrleansLocks instrument belongs to.</summary>
    public const string MeterName = "OrleansLocks";

    /// <summary>The name of the <see cref="System.Diagnostics.ActivitySource"/> of OrleansLocks' spans.</summary>
    public const string ActivitySourceName = "OrleansLocks";
}
