namespace OrleansLocks.Grains.Health;

/// <summary>The sweeper's record of its sweeps (plain state, no Orleans types), read by the sweep health check.</summary>
internal sealed class SweepHistory(DateTimeOffset since)
{
    private DateTimeOffset? _lastSuccess;
    private DateTimeOffset? _lastFailure;
    private string? _lastFailureKind;

    /// <summary>A sweep completed at <paramref name="at"/>.</summary>
    public void Succeeded(DateTimeOffset at) => _lastSuccess = at;

    /// <summary>A sweep failed at <paramref name="at"/> with <paramref name="exception"/>.</summary>
    public void Failed(DateTimeOffset at, Exception exception)
    {
        _lastFailure = at;
        _lastFailureKind = exception.GetType().Name;
    }

    /// <summary>The record as it stands.</summary>
    public SweepRecord Snapshot() => new(since, _lastSuccess, _lastFailure, _lastFailureKind);
}
