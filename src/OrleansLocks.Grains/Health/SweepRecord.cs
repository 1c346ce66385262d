namespace OrleansLocks.Grains.Health;

/// <summary>
/// What the sweeper grain remembers of its sweeps, for the sweep health check on any silo: since when
/// it has been keeping count (its activation), its last success and its last failure.
/// </summary>
/// <param name="Since">When the sweeper's activation started keeping this record.</param>
/// <param name="LastSuccess">When the last sweep completed, or null when none did since <paramref name="Since"/>.</param>
/// <param name="LastFailure">When the last sweep failed, or null when none did since <paramref name="Since"/>.</param>
/// <param name="LastFailureKind">The exception type of the last failure (never its message: that stays in the silo log, event 1021).</param>
[GenerateSerializer, Immutable, Alias("OrleansLocks.SweepRecord")]
internal sealed record SweepRecord(
    [property: Id(0)] DateTimeOffset Since,
    [property: Id(1)] DateTimeOffset? LastSuccess,
    [property: Id(2)] DateTimeOffset? LastFailure,
    [property: Id(3)] string? LastFailureKind);
