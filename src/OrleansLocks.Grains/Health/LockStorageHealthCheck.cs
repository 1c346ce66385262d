using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;

namespace OrleansLocks.Grains.Health;

/// <summary>
/// Readiness: the lock storage answers <c>SELECT 1</c> within <see cref="LockHealthCheckOptions.Timeout"/>.
/// In-memory storage has nothing to reach. The description names the failure, never the connection string.
/// </summary>
internal sealed class LockStorageHealthCheck(IOptions<LockStorageOptions> storage, IOptions<LockHealthCheckOptions> health) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (storage.Value.ConnectionString is not { } connectionString)
        {
            return HealthCheckResult.Healthy("In-memory storage: nothing to reach.");
        }

        var timeout = health.Value.Timeout;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(deadline.Token).ConfigureAwait(false);
            await using var ping = new NpgsqlCommand("SELECT 1", connection);
            await ping.ExecuteScalarAsync(deadline.Token).ConfigureAwait(false);
            return HealthCheckResult.Healthy("PostgreSQL answered SELECT 1.");
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"PostgreSQL did not answer SELECT 1 within {timeout.TotalMilliseconds:0} ms.");
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"PostgreSQL could not be reached: {StorageFailure.Describe(ex)}");
        }
    }
}
