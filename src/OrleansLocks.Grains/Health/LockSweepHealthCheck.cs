using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using OrleansLocks.Grains.Sweep;

namespace OrleansLocks.Grains.Health;

/// <summary>
/// Readiness: the reminder-driven sweep of stored locks succeeded within twice
/// <see cref="LockStorageOptions.SweepInterval"/>. The sweep runs in one grain somewhere in the
/// cluster, so every silo asks that grain for its record. Registered as Degraded by default: a late
/// sweep leaves expired rows longer in the table but takes nothing from the locks, and it is the
/// same answer on every silo, so it must not take them all out of service at once.
/// </summary>
internal sealed class LockSweepHealthCheck(
    IGrainFactory grains,
    TimeProvider time,
    IOptions<LockStorageOptions> storage,
    IOptions<LockHealthCheckOptions> health) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (storage.Value.ConnectionString is null)
        {
            return HealthCheckResult.Healthy("In-memory storage: nothing outlives the silos, so there is no sweep.");
        }

        SweepRecord record;
        try
        {
            record = await grains.GetGrain<ILockSweeperGrain>(0).GetRecord().WaitAsync(health.Value.Timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"The sweeper did not answer within {health.Value.Timeout.TotalMilliseconds:0} ms.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"The sweeper could not be asked: {ex.GetType().Name}.");
        }

        var (healthy, description) = SweepRecency.Evaluate(record, storage.Value.SweepInterval, time.GetUtcNow());
        return healthy ? HealthCheckResult.Healthy(description) : new HealthCheckResult(context.Registration.FailureStatus, description);
    }
}
